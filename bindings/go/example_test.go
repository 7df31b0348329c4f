package mcpclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	mcpclient "github.com/mcp-client/mcp-client/bindings/go"
)

// serverURL is the MCP server the examples talk to (the tests' own test server).
func serverURL() string { return os.Getenv("MCPCLIENT_EXAMPLE_URL") }

func Example() {
	ctx := context.Background()
	c, err := mcpclient.New(ctx, serverURL()) // e.g. "http://127.0.0.1:8080/mcp"
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	res, err := c.CallTool(ctx, "echo", map[string]any{"text": "hi"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text())
	// Output: hi
}

// A call bounded by its context: the deadline is the call's timeout, and the error matches
// both context.DeadlineExceeded and mcpclient.ErrTimeout.
func ExampleClient_CallTool_deadline() {
	c, err := mcpclient.New(context.Background(), serverURL())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.CallTool(ctx, "slow", map[string]any{"ms": 5000})
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, mcpclient.ErrTimeout))
	// Output: true true
}

// OAuth with the system browser replaced by a presenter that prints the URL; the loopback
// listener receives the redirect, and the tokens go to a file.
func ExampleWithOAuth() {
	ctx := context.Background()
	c, err := mcpclient.New(ctx, "https://mcp.example.com/mcp", mcpclient.WithOAuth(mcpclient.OAuth{
		Presenter: mcpclient.PrintPresenter(os.Stderr),
		Store:     mcpclient.StoreFile,
		OnEvent:   func(e mcpclient.AuthEvent) { log.Printf("auth: %s", e.Event) },
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	tools, err := c.ListTools(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tools {
		fmt.Println(t.Name, "-", t.Description)
	}
}

// A tool run as a task step by step (protocol 2025-11-25): started, its status read, then
// its result waited for within a deadline; a wait that runs out leaves the task running, so
// it is cancelled. (CallTool alone runs a tool that requires a task and waits for it.)
func ExampleClient_StartToolTask() {
	ctx := context.Background()
	c, err := mcpclient.New(ctx, "https://mcp.example.com/mcp")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	task, err := c.StartToolTask(ctx, "report", map[string]any{"ms": 2000}, 10*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	if st, err := c.TaskStatus(ctx, task.TaskID); err == nil {
		fmt.Println(st.Status, st.StatusMessage)
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := c.TaskResult(wait, task.TaskID)
	if errors.Is(err, context.DeadlineExceeded) {
		_, _ = c.CancelTask(ctx, task.TaskID)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text())
}

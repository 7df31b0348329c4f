// The Go side of the transport benchmark: tools/call round trips through the Go package
// (mcpclient.Client.CallTool), from one goroutine and from many goroutines sharing one
// client, with this process's CPU per call.
//
//	bench_go_client URL SEQ_CALLS CONC_CALLS GOROUTINES
//
// Prints two lines, `seq CALLS_PER_S CPU_US_PER_CALL` and `conc CALLS_PER_S CPU_US_PER_CALL`
// (the form of benches/c/bench_client.c; CPU is getrusage(RUSAGE_SELF): user + system time of
// every thread of this process); benches/transport.rs runs it in the same rounds as the Rust
// clients and puts the figures in its table. Exits non-zero on any failed call.
//
// For profiling, not used by the table: MCP_BENCH_GO_CPUPROFILE=FILE writes a pprof CPU
// profile of the measured calls, and MCP_BENCH_GO_CTX=cancel makes the calls with a
// cancellable context (the default is context.Background()).
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	mcpclient "github.com/mcp-client/mcp-client/bindings/go"
)

const warmUp = 200

var args = map[string]any{"text": "hello benchmark"}

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}

func calls(ctx context.Context, c *mcpclient.Client, n int) error {
	for range n {
		r, err := c.CallTool(ctx, "echo", args)
		if err != nil {
			return err
		}
		if len(r.Content) == 0 || r.Content[0].Text != "hello benchmark" {
			return fmt.Errorf("unexpected result: %s", r.Raw)
		}
	}
	return nil
}

func report(what string, n int, wall, cpu time.Duration) {
	if n == 0 {
		fmt.Printf("%s 0 0\n", what)
		return
	}
	fmt.Printf("%s %.0f %.2f\n", what, float64(n)/wall.Seconds(), float64(cpu.Microseconds())/float64(n))
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: bench_go_client URL SEQ_CALLS CONC_CALLS GOROUTINES")
		os.Exit(2)
	}
	seq, err1 := strconv.Atoi(os.Args[2])
	conc, err2 := strconv.Atoi(os.Args[3])
	workers, err3 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || err3 != nil || seq < 0 || conc < 0 || workers < 1 || workers > 1024 {
		fmt.Fprintln(os.Stderr, "usage: bench_go_client URL SEQ_CALLS CONC_CALLS GOROUTINES")
		os.Exit(2)
	}
	ctx := context.Background()
	if os.Getenv("MCP_BENCH_GO_CTX") == "cancel" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}
	c, err := mcpclient.New(ctx, os.Args[1])
	if err != nil {
		fail("connect: %v", err)
	}
	if err := calls(ctx, c, warmUp); err != nil {
		fail("call failed: %v", err)
	}
	if path := os.Getenv("MCP_BENCH_GO_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fail("profile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("profile: %v", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	t0, c0 := time.Now(), cpu()
	if err := calls(ctx, c, seq); err != nil {
		fail("call failed: %v", err)
	}
	report("seq", seq, time.Since(t0), cpu()-c0)

	per := conc / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	t0, c0 = time.Now(), cpu()
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = calls(ctx, c, per)
		}()
	}
	wg.Wait()
	wall, used := time.Since(t0), cpu()-c0
	for _, err := range errs {
		if err != nil {
			fail("call failed: %v", err)
		}
	}
	report("conc", per*workers, wall, used)
	if err := c.Close(); err != nil {
		fail("close: %v", err)
	}
}

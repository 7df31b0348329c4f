package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type notes struct {
	mu   sync.Mutex
	list []string
	got  chan struct{}
}

func TestHandlers(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	n := &notes{got: make(chan struct{}, 16)}
	var reentrant error
	var c *Client
	var once sync.Once
	c = mustNew(t, srv.URL,
		WithElicitationHandler(func(ctx context.Context, req *ElicitRequest) (*ElicitResult, error) {
			if req.Message != "who?" || len(req.RequestedSchema) == 0 || len(req.Raw) == 0 {
				return nil, &HandlerError{Code: -32602, Message: "unexpected request"}
			}
			// A blocking call from a handler is refused, not deadlocked.
			once.Do(func() { reentrant = c.Ping(ctx) })
			return &ElicitResult{Action: "accept", Content: map[string]any{"name": "Lin", "age": 7}}, nil
		}),
		WithSamplingHandler(func(_ context.Context, req *SamplingRequest) (*SamplingResult, error) {
			if len(req.Messages) != 1 || req.MaxTokens != 100 {
				return nil, errors.New("unexpected request")
			}
			return &SamplingResult{Content: TextContent("sampled:" + req.Messages[0].Text()), Model: "go"}, nil
		}),
		WithRootsHandler(func(context.Context) ([]Root, error) {
			return []Root{{URI: "file:///work", Name: "work"}}, nil
		}),
		WithNotificationHandler(func(method string, params json.RawMessage) {
			n.mu.Lock()
			n.list = append(n.list, method+" "+string(params))
			n.mu.Unlock()
			n.got <- struct{}{}
		}),
	)
	r, err := c.CallTool(ctx, "ask", map[string]string{"message": "who?"})
	if err != nil || !strings.Contains(r.Text(), "Lin") || !strings.Contains(r.Text(), "subscribe") {
		// The schema's defaults are filled in by the library.
		t.Errorf("ask: %+v %v", r, err)
	}
	if !errors.Is(reentrant, ErrReentrant) {
		t.Errorf("a blocking call from a handler: %v", reentrant)
	}
	r, err = c.CallTool(ctx, "sample", map[string]string{"prompt": "hi"})
	if err != nil || !strings.Contains(r.Text(), "sampled:hi") || !strings.Contains(r.Text(), "assistant") {
		t.Errorf("sample: %+v %v", r, err)
	}
	r, err = c.CallTool(ctx, "list_roots", nil)
	if err != nil || !strings.Contains(r.Text(), "file:///work") {
		t.Errorf("list_roots: %+v %v", r, err)
	}
	if _, err := c.CallTool(ctx, "notify", map[string]string{"text": "note"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	found := false
	for _, s := range n.list {
		found = found || (strings.HasPrefix(s, "notifications/message ") && strings.Contains(s, `"note"`))
	}
	if !found {
		t.Errorf("notifications: %v", n.list)
	}
}

func TestAnyRequestHandlerAndRefusals(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	c := mustNew(t, srv.URL,
		WithRootsHandler(func(context.Context) ([]Root, error) {
			return nil, &HandlerError{Code: -32602, Message: "no roots here"}
		}),
		WithRequestHandler(func(_ context.Context, method string, params json.RawMessage) (any, error) {
			return json.RawMessage(`{"ok":true}`), nil
		}),
	)
	r, err := c.CallTool(ctx, "list_roots", nil)
	if err != nil || !strings.Contains(r.Text(), "no roots here") {
		t.Errorf("list_roots: %+v %v", r, err)
	}
	// No elicitation handler: the capability is not declared, and the server says so.
	r, err = c.CallTool(ctx, "ask", map[string]string{"message": "?"})
	if err != nil || strings.Contains(r.Text(), "Ada") {
		t.Errorf("ask: %+v %v", r, err)
	}
}

func TestHandlerPanicsAndErrors(t *testing.T) {
	h := withLogger(t, slog.LevelError)
	srv := sharedServer(t)
	ctx := testCtx(t)
	done := make(chan struct{}, 1)
	c := mustNew(t, srv.URL,
		WithElicitationHandler(func(context.Context, *ElicitRequest) (*ElicitResult, error) {
			panic("secret detail")
		}),
		WithSamplingHandler(func(context.Context, *SamplingRequest) (*SamplingResult, error) {
			return nil, errors.New("another secret")
		}),
		WithNotificationHandler(func(string, json.RawMessage) {
			defer func() { done <- struct{}{} }()
			panic("notification bug")
		}),
	)
	r, err := c.CallTool(ctx, "ask", map[string]string{"message": "?"})
	if err != nil {
		t.Fatal(err)
	}
	// The server gets an internal error, never the panic's text.
	if !r.IsError || strings.Contains(r.Text(), "secret detail") || !strings.Contains(r.Text(), "internal error") {
		t.Errorf("ask: %+v", r)
	}
	r, err = c.CallTool(ctx, "sample", map[string]string{"prompt": "x"})
	if err != nil || !r.IsError || strings.Contains(r.Text(), "another secret") {
		t.Errorf("sample: %+v %v", r, err)
	}
	if _, err := c.CallTool(ctx, "notify", map[string]string{"text": "x"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
	// The client goes on.
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	hasAttr := func(r slog.Record, key, sub string) bool {
		found := false
		r.Attrs(func(a slog.Attr) bool {
			found = found || (a.Key == key && strings.Contains(a.Value.String(), sub))
			return true
		})
		return found
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, want := range []struct{ key, sub string }{
		{"panic", "secret detail"}, {"error", "another secret"}, {"panic", "notification bug"},
	} {
		for !h.find(func(r slog.Record) bool { return hasAttr(r, want.key, want.sub) }) {
			if time.Now().After(deadline) {
				t.Errorf("not logged: %s %s", want.key, want.sub)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestHandlerContextEndsWithClose(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	started := make(chan struct{})
	ended := make(chan error, 1)
	c, err := New(ctx, srv.URL, WithElicitationHandler(func(hctx context.Context, _ *ElicitRequest) (*ElicitResult, error) {
		close(started)
		<-hctx.Done() // waits for the user, until the client is closed
		ended <- hctx.Err()
		return nil, hctx.Err()
	}))
	if err != nil {
		t.Fatal(err)
	}
	callErr := make(chan error, 1)
	go func() {
		_, err := c.CallTool(ctx, "ask", map[string]string{"message": "?"})
		callErr <- err
	}()
	<-started
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context did not end")
	}
	if err := <-callErr; !errors.Is(err, ErrClosed) {
		t.Errorf("the call: %v", err)
	}
}

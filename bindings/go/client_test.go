package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVersionsAgree(t *testing.T) {
	if got := LibraryVersion(); got != Version {
		t.Errorf("library %s, package %s", got, Version)
	}
	if got := headerVersion(); got != Version {
		t.Errorf("header %s, package %s", got, Version)
	}
	t.Logf("linked %s", linkMode)
	if c, g := cEnums(), goEnums(); !slices.Equal(c, g) {
		t.Errorf("the C ABI's enum values %v, the package's %v", c, g)
	}
}

func TestToolsOverHTTP(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	c := mustNew(t, srv.URL, WithClientInfo("go-test", "1.0"))
	info, err := c.ServerInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info.ProtocolVersion == "" || info.Transport != "streamable-http" || info.Server.ServerInfo.Name == "" {
		t.Errorf("server info: %+v", info)
	}
	tools, err := c.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tool := range tools {
		names[tool.Name] = true
		if tool.Name == "echo" && (len(tool.InputSchema) == 0 || tool.Description == "") {
			t.Errorf("echo: %+v", tool)
		}
	}
	for _, n := range []string{"echo", "add", "slow", "notify", "ask"} {
		if !names[n] {
			t.Errorf("no %s in %v", n, names)
		}
	}
	r, err := c.CallTool(ctx, "add", map[string]any{"a": 2, "b": 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != "5" || r.IsError || string(r.StructuredContent) != `{"sum":5}` {
		t.Errorf("add: %+v", r)
	}
	type echoArgs struct {
		Text string `json:"text"`
	}
	r, err = c.CallTool(ctx, "echo", echoArgs{Text: "héllo"})
	if err != nil || r.Content[0].Type != "text" || r.Content[0].Text != "héllo" {
		t.Errorf("echo: %+v %v", r, err)
	}
	r, err = c.CallTool(ctx, "fail", json.RawMessage(`{"message":"broken"}`))
	if err != nil || !r.IsError || !strings.Contains(r.Text(), "broken") {
		t.Errorf("fail: a tool error is a result: %+v %v", r, err)
	}
	raw, err := c.CallToolRaw(ctx, "echo", map[string]string{"text": "raw"})
	if err != nil || !strings.Contains(string(raw), `"raw"`) {
		t.Errorf("raw: %s %v", raw, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func TestResourcesPromptsAndCall(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	c := mustNew(t, srv.URL)
	resources, err := c.ListResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range resources {
		found = found || r.URI == "test://hello"
	}
	if !found {
		t.Errorf("no test://hello in %+v", resources)
	}
	rr, err := c.ReadResource(ctx, "test://hello")
	if err != nil || rr.Text() == "" {
		t.Errorf("read: %+v %v", rr, err)
	}
	prompts, err := c.ListPrompts(ctx)
	if err != nil || len(prompts) == 0 {
		t.Fatalf("prompts: %v %v", prompts, err)
	}
	p, err := c.GetPrompt(ctx, "greet", map[string]string{"name": "Ada"})
	if err != nil || len(p.Messages) == 0 || !strings.Contains(p.Messages[0].Content.Text, "Ada") {
		t.Errorf("greet: %+v %v", p, err)
	}
	res, err := c.Call(ctx, "tools/list", nil)
	if err != nil || !strings.Contains(string(res), `"tools"`) {
		t.Errorf("tools/list: %s %v", res, err)
	}
	res, err = c.Call(ctx, "tools/list", map[string]any{})
	if err != nil || !json.Valid(res) {
		t.Errorf("tools/list {}: %s %v", res, err)
	}
	// A nil map is no arguments, as nil is.
	if _, err := c.Call(ctx, "tools/list", map[string]any(nil)); err != nil {
		t.Errorf("tools/list with a nil map: %v", err)
	}
	if r, err := c.CallTool(ctx, "list_roots", map[string]any(nil)); err != nil || r == nil {
		t.Errorf("list_roots with a nil map: %v", err)
	}
}

func TestStdioServer(t *testing.T) {
	ctx := testCtx(t)
	c, err := NewStdio(ctx, serverBinary(t), []string{"--stdio"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.CallTool(ctx, "add", map[string]int{"a": 1, "b": 1})
	if err != nil || r.Text() != "2" {
		t.Fatalf("add: %+v %v", r, err)
	}
	info, err := c.ServerInfo()
	if err != nil || info.Transport != "stdio" {
		t.Errorf("info: %+v %v", info, err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       `'plain'`,
		"two words":   `'two words'`,
		"it's":        `'it'\''s'`,
		"":            `''`,
		`"q" \ $HOME`: `'"q" \ $HOME'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRPCErrorCarriesTheServersFields(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, srv.URL)
	_, err := c.Call(testCtx(t), "no/such/method", nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %v", err)
	}
	if !errors.Is(err, ErrRPC) || e.Code != CodeRPC || e.RPCCode != -32601 {
		t.Errorf("%#v", e)
	}
	if errors.Is(err, ErrTransport) || errors.Is(err, ErrTimeout) {
		t.Errorf("matches another class: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "mcpclient: ") {
		t.Errorf("message: %s", err)
	}
}

func TestBadArguments(t *testing.T) {
	ctx := testCtx(t)
	_, err := New(ctx, "ftp://example.com/mcp")
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ftp URL: %v", err)
	}
	_, err = New(ctx, "http://127.0.0.1:9/mcp", WithRequestTimeout(2*time.Second), WithConnectTimeout(2*time.Second))
	if !errors.Is(err, ErrTransport) {
		t.Errorf("nothing listening: %v", err)
	}
	_, err = New(ctx, "http://127.0.0.1:9/mcp", WithRequestTimeout(-time.Second))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative timeout: %v", err)
	}
	_, err = New(ctx, "http://127.0.0.1:9/mcp", WithHeader("X-Key", "a\x00b"))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NUL in a header: %v", err)
	}
	_, err = New(ctx, "http://127.0.0.1:9/mcp", WithBearerToken("t"), WithOAuth(OAuth{}))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bearer and OAuth: %v", err)
	}
	_, err = New(ctx, "http://127.0.0.1:9/mcp", WithOAuth(OAuth{Headless: true, Presenter: PrintPresenter(nil)}))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("headless and a presenter: %v", err)
	}
	_, err = NewStdio(ctx, "true", nil, WithOAuth(OAuth{}))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("OAuth on stdio: %v", err)
	}
	srv := sharedServer(t)
	c := mustNew(t, srv.URL)
	if _, err := c.CallTool(ctx, "add", []int{1, 2}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("array arguments: %v", err)
	}
	if _, err := c.CallTool(ctx, "add", json.RawMessage(`{"a":`)); !errors.Is(err, ErrInvalidJSON) || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("broken JSON: %v", err)
	}
	if _, err := c.CallTool(ctx, "add", func() {}); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("a func as arguments: %v", err)
	}
	if _, err := c.AuthStatus(); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("auth status without OAuth: %v", err)
	}
	if err := c.Authorize(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("authorize without OAuth: %v", err)
	}
}

func TestCreateWithoutConnecting(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	c, err := New(ctx, srv.URL, WithoutConnect())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(ctx); !errors.Is(err, ErrNotConnected) {
		t.Errorf("ping before connect: %v", err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Errorf("a second connect: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func TestDeadlineExceeded(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := c.CallTool(ctx, "slow", map[string]int{"ms": 5000})
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("not a deadline error: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || !e.Timeout() || e.Code != CodeTimeout {
		t.Errorf("%#v", err)
	}
	// A context already past its deadline fails at once.
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Errorf("expired context: %v", err)
	}
	// The client is still usable.
	if err := c.Ping(testCtx(t)); err != nil {
		t.Error(err)
	}
}

func TestClientRequestTimeout(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, srv.URL, WithRequestTimeout(200*time.Millisecond))
	// No deadline in the context: the client's own timeout, which is no context error.
	_, err := c.CallTool(context.Background(), "slow", map[string]int{"ms": 3000})
	if !errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
}

// Call options are reused from call to call: a later call must not inherit an earlier
// call's timeout, nor its cancellation.
func TestCallOptionsCarryNothingOver(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, srv.URL)
	for i := 0; i < 3; i++ {
		// Options left with a short timeout...
		short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if _, err := c.CallTool(short, "echo", map[string]string{"text": "x"}); err != nil {
			t.Fatal(err)
		}
		cancel()
		// ...do not time out a call whose context has no deadline.
		long, cancel := context.WithCancel(context.Background())
		r, err := c.CallTool(long, "slow", map[string]int{"ms": 600})
		if err != nil || r.Text() != "done" {
			t.Fatalf("after a call with a deadline: %v", err)
		}
		// A call cancelled midway...
		time.AfterFunc(100*time.Millisecond, cancel)
		if _, err := c.CallTool(long, "slow", map[string]int{"ms": 5000}); !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled call: %v", err)
		}
		// ...leaves nothing cancelled for the next ones.
		for j := 0; j < 3; j++ {
			ctx, cancel := context.WithCancel(context.Background())
			if _, err := c.CallTool(ctx, "echo", map[string]string{"text": "x"}); err != nil {
				t.Fatalf("after a cancelled call: %v", err)
			}
			cancel()
		}
	}
}

func TestCancelOneOfManyGoroutines(t *testing.T) {
	srv := startServer(t)
	c := mustNew(t, srv.URL)
	const n = 64
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	errs := make([]error, n)
	texts := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, ms := testCtx(t), 600
			if i == 0 {
				ctx, ms = ctxA, 10000
			}
			r, err := c.CallTool(ctx, "slow", map[string]int{"ms": ms})
			errs[i] = err
			if r != nil {
				texts[i] = r.Text()
			}
		}(i)
	}
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	cancelA()
	wg.Wait()
	if !errors.Is(errs[0], context.Canceled) || !errors.Is(errs[0], ErrCancelled) {
		t.Errorf("the cancelled call: %v", errs[0])
	}
	for i := 1; i < n; i++ {
		if errs[i] != nil || texts[i] != "done" {
			t.Errorf("call %d: %q %v", i, texts[i], errs[i])
		}
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("took %v after the cancel", took)
	}
	// The server was told, once.
	var ids []json.RawMessage
	for i := 0; i < 100; i++ {
		if ids = srv.cancelled(t); len(ids) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(ids) != 1 {
		t.Errorf("the server saw %d cancellations: %s", len(ids), ids)
	}
}

func TestManyGoroutinesShareOneClient(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, srv.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				r, err := c.CallTool(testCtx(t), "add", map[string]int{"a": g, "b": i})
				if err != nil {
					errs <- err
					return
				}
				if want := strconv.Itoa(g + i); r.Text() != want {
					errs <- errors.New("got " + r.Text() + " want " + want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	srv := sharedServer(t)
	c, err := New(testCtx(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	ctx := testCtx(t)
	if err := c.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("ping after close: %v", err)
	}
	if _, err := c.CallTool(ctx, "echo", map[string]string{"text": "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("call after close: %v", err)
	}
	if _, err := c.ServerInfo(); !errors.Is(err, ErrClosed) {
		t.Errorf("server info after close: %v", err)
	}
	var e *Error
	if !errors.As(c.Ping(ctx), &e) || e.Code != CodeClosed {
		t.Errorf("%#v", e)
	}
}

func TestCloseDuringCalls(t *testing.T) {
	srv := sharedServer(t)
	c, err := New(testCtx(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ms := 5000
			if i%2 == 0 {
				ms = 0
			}
			for j := 0; j < 20; j++ {
				if _, errs[i] = c.CallTool(testCtx(t), "slow", map[string]int{"ms": ms}); errs[i] != nil {
					return
				}
			}
		}(i)
	}
	time.Sleep(300 * time.Millisecond)
	closed := make(chan error, 2)
	go func() { closed <- c.Close() }()
	go func() { closed <- c.Close() }()
	for i := 0; i < 2; i++ {
		if err := <-closed; err != nil {
			t.Errorf("close: %v", err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("calls still running 10 s after Close")
	}
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("call %d: %v", i, err)
		}
		if i%2 == 1 && err == nil {
			t.Errorf("call %d: a 5 s call finished after Close", i)
		}
	}
	if err := c.Ping(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("after: %v", err)
	}
}

func TestForgottenClientIsFreed(t *testing.T) {
	srv := sharedServer(t)
	before := freedByCleanup.Load()
	func() {
		c, err := New(testCtx(t), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		c2, err := NewStdio(testCtx(t), serverBinary(t), []string{"--stdio"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c2.CallTool(testCtx(t), "echo", map[string]string{"text": "x"}); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 50 && freedByCleanup.Load() < before+2; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if got := freedByCleanup.Load() - before; got != 2 {
		t.Errorf("%d of 2 forgotten clients freed", got)
	}
}

// ---- logging ----------------------------------------------------------------------------------

type recordHandler struct {
	mu      sync.Mutex
	level   slog.Level
	records []slog.Record
}

func (h *recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) find(f func(slog.Record) bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if f(r) {
			return true
		}
	}
	return false
}

func (h *recordHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.records)
}

// withLogger sends the library's lines to a recording handler for the test.
func withLogger(t *testing.T, level slog.Level) *recordHandler {
	h := &recordHandler{level: level}
	if err := SetLogger(slog.New(h)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := SetLogger(nil); err != nil {
			t.Error(err)
		}
	})
	return h
}

func TestLogger(t *testing.T) {
	h := withLogger(t, slog.LevelDebug)
	srv := sharedServer(t)
	c := mustNew(t, srv.URL)
	if err := c.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !h.find(func(r slog.Record) bool {
		target := ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "target" {
				target = a.Value.String()
			}
			return true
		})
		return strings.HasPrefix(target, "mcp_client") && r.Level >= slog.LevelDebug
	}) {
		t.Errorf("no line from the library in %d records", h.count())
	}
	// Off: nothing more.
	if err := SetLogger(nil); err != nil {
		t.Fatal(err)
	}
	n := h.count()
	c2 := mustNew(t, srv.URL)
	c2.Close()
	if h.count() != n {
		t.Errorf("%d lines after SetLogger(nil)", h.count()-n)
	}
}

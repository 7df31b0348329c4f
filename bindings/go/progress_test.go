package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
)

// Progress tokens (WithProgressToken) against the test server: its task tool report (with
// --tasks) sends four notifications/progress for a token (progress 1..4, total 4, "step N of
// 4") until the task ends; the plain tool notify sends one (1 of 1). The server's request log
// is not reachable from here (the tests run it with --no-record), so what it received is read
// from what it sent back: the notifications carry the token it got, and a request without a
// token gets none.

// progressNote is the params of one notifications/progress.
type progressNote struct {
	Token    any     `json:"progressToken"`
	Progress float64 `json:"progress"`
	Total    float64 `json:"total"`
	Message  string  `json:"message"`
}

// progressLog is a notification handler keeping the progress notifications it receives.
type progressLog struct {
	mu    sync.Mutex
	notes []progressNote
	bad   []string
	more  chan struct{}
}

func newProgressLog() *progressLog { return &progressLog{more: make(chan struct{}, 1)} }

func (l *progressLog) option() Option {
	return WithNotificationHandler(func(method string, params json.RawMessage) {
		if method != "notifications/progress" {
			return
		}
		var n progressNote
		l.mu.Lock()
		if err := json.Unmarshal(params, &n); err != nil {
			l.bad = append(l.bad, string(params))
		} else {
			l.notes = append(l.notes, n)
		}
		l.mu.Unlock()
		select {
		case l.more <- struct{}{}:
		default:
		}
	})
}

func (l *progressLog) snapshot() []progressNote {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]progressNote(nil), l.notes...)
}

// wait returns the notes once done says they are complete (or fails the test after 10 s).
func (l *progressLog) wait(t *testing.T, what string, done func([]progressNote) bool) []progressNote {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		notes := l.snapshot()
		if done(notes) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if len(l.bad) > 0 {
				t.Errorf("progress notifications that do not decode: %v", l.bad)
			}
			return notes
		}
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("%s: the progress notifications did not come; got %+v", what, notes)
		}
	}
}

// waitFor waits until a notification carries token, and returns every note so far. The
// handler gets notifications in order, so a note of a later call seen means those of the
// calls before it were too.
func (l *progressLog) waitFor(t *testing.T, token string) []progressNote {
	t.Helper()
	return l.wait(t, "token "+token, func(notes []progressNote) bool {
		for _, n := range notes {
			if n.Token == token {
				return true
			}
		}
		return false
	})
}

func tokensOf(notes []progressNote) []any {
	out := make([]any, len(notes))
	for i, n := range notes {
		out[i] = n.Token
	}
	return out
}

// checkReport checks the four notes of report, all with token.
func checkReport(t *testing.T, notes []progressNote, token string) {
	t.Helper()
	if len(notes) != 4 {
		t.Fatalf("want 4 progress notifications, got %+v", notes)
	}
	for i, n := range notes {
		want := progressNote{Token: token, Progress: float64(i + 1), Total: 4, Message: fmt.Sprintf("step %d of 4", i+1)}
		if n != want {
			t.Errorf("notification %d: got %+v, want %+v", i+1, n, want)
		}
	}
}

func TestProgressTokenOfATask(t *testing.T) {
	ctx := testCtx(t)
	log := newProgressLog()
	c := tasksClient(t, log.option())

	task, err := c.StartToolTask(WithProgressToken(ctx, "go-report"), "report", map[string]any{"ms": 200}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The wait carries no token: the task's progress comes anyway (its creating request had it).
	r, err := c.TaskResult(ctx, task.TaskID)
	if err != nil || r.Text() != "report ready after 200 ms" {
		t.Fatalf("TaskResult: %+v %v", r, err)
	}
	checkReport(t, log.wait(t, "report", func(n []progressNote) bool { return len(n) >= 4 }), "go-report")
}

func TestProgressTokenOfCallToolRunAsATask(t *testing.T) {
	log := newProgressLog()
	c := tasksClient(t, log.option())
	// report requires a task: CallTool runs it as one, the token on the creating request. A
	// context that can never end takes the token too.
	ctx := WithProgressToken(context.Background(), "call-tool")
	r, err := c.CallTool(ctx, "report", map[string]any{"ms": 100})
	if err != nil || r.Text() != "report ready after 100 ms" {
		t.Fatalf("CallTool: %+v %v", r, err)
	}
	checkReport(t, log.wait(t, "report", func(n []progressNote) bool { return len(n) >= 4 }), "call-tool")
}

// A call without a token, after calls with one, sends none: the call options the package
// reuses from call to call are reset.
func TestProgressTokenDoesNotOutliveItsCall(t *testing.T) {
	log := newProgressLog()
	c := mustNew(t, sharedServer(t).URL, log.option())
	args := map[string]any{"text": "n"}
	// Contexts that can end use pooled call options; one that cannot uses them only with a
	// token.
	plain := []context.Context{testCtx(t), context.Background()}
	for i := 0; i < 20; i++ {
		ctx := plain[i%2]
		if _, err := c.CallTool(WithProgressToken(ctx, fmt.Sprint("with-", i)), "notify", args); err != nil {
			t.Fatal(err)
		}
		for _, ctx := range plain {
			if _, err := c.CallTool(ctx, "notify", args); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Call(ctx, "tools/call", map[string]any{"name": "notify", "arguments": args}); err != nil {
				t.Fatal(err)
			}
		}
	}
	log.waitFor(t, "with-19")
	want := make([]any, 20)
	for i := range want {
		want[i] = fmt.Sprint("with-", i)
	}
	// Wait for a last one: any progress of the calls before it would have come by then.
	if _, err := c.CallTool(WithProgressToken(testCtx(t), "last"), "notify", args); err != nil {
		t.Fatal(err)
	}
	notes := log.waitFor(t, "last")
	want = append(want, "last")
	if got := tokensOf(notes); !reflect.DeepEqual(got, want) {
		t.Errorf("progress tokens: got %v, want %v", got, want)
	}
	for _, n := range notes {
		if n.Progress != 1 || n.Total != 1 {
			t.Errorf("notify's progress: %+v", n)
		}
	}
}

// Concurrent calls, some with tokens of their own: each token comes back once, none leaks
// into another call.
func TestProgressTokensOfConcurrentCalls(t *testing.T) {
	ctx := testCtx(t)
	log := newProgressLog()
	c := mustNew(t, sharedServer(t).URL, log.option())
	args := map[string]any{"text": "n"}
	const goroutines, calls = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls*2)
	var want []string
	for g := 0; g < goroutines; g++ {
		for i := 0; i < calls; i++ {
			want = append(want, fmt.Sprintf("g%d-%d", g, i))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				if _, err := c.CallTool(WithProgressToken(ctx, fmt.Sprintf("g%d-%d", g, i)), "notify", args); err != nil {
					errs <- err
				}
				if _, err := c.CallTool(ctx, "notify", args); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	log.wait(t, "concurrent calls", func(n []progressNote) bool { return len(n) >= len(want) })
	if _, err := c.CallTool(WithProgressToken(ctx, "last"), "notify", args); err != nil {
		t.Fatal(err)
	}
	notes := log.waitFor(t, "last")
	var got []string
	for _, n := range notes {
		if s, ok := n.Token.(string); ok && s != "last" {
			got = append(got, s)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(notes) != len(want)+1 || !reflect.DeepEqual(got, want) {
		t.Errorf("progress tokens: got %v, want %v and last", tokensOf(notes), want)
	}
}

// Call keeps the params' own _meta beside the token.
func TestProgressTokenWithCallAndMeta(t *testing.T) {
	ctx := testCtx(t)
	log := newProgressLog()
	c := mustNew(t, sharedServer(t).URL, log.option())
	params := map[string]any{"name": "notify", "arguments": map[string]any{"text": "n"}, "_meta": map[string]any{"example.com/k": "v"}}
	if _, err := c.Call(WithProgressToken(ctx, "raw"), "tools/call", params); err != nil {
		t.Fatal(err)
	}
	notes := log.waitFor(t, "raw")
	if len(notes) != 1 || notes[0] != (progressNote{Token: "raw", Progress: 1, Total: 1}) {
		t.Errorf("progress: %+v", notes)
	}
	// _meta that is not an object cannot take the token.
	params["_meta"] = 1
	if _, err := c.Call(WithProgressToken(ctx, "raw"), "tools/call", params); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("_meta not an object: %v", err)
	}
}

// The empty token is no token: it sends none, and removes one the context carried.
func TestProgressTokenEmpty(t *testing.T) {
	ctx := testCtx(t)
	if tok, ok := ProgressToken(ctx); ok || tok != "" {
		t.Errorf("ProgressToken of a context without one: %q %v", tok, ok)
	}
	if tok, ok := ProgressToken(WithProgressToken(ctx, "t")); !ok || tok != "t" {
		t.Errorf("ProgressToken: %q %v", tok, ok)
	}
	removed := WithProgressToken(WithProgressToken(ctx, "t"), "")
	if tok, ok := ProgressToken(removed); ok || tok != "" {
		t.Errorf("ProgressToken after removing it: %q %v", tok, ok)
	}
	// nil contexts are accepted, as by the calls.
	if tok, ok := ProgressToken(nil); ok || tok != "" {
		t.Errorf("ProgressToken(nil): %q %v", tok, ok)
	}
	if tok, ok := ProgressToken(WithProgressToken(nil, "n")); !ok || tok != "n" {
		t.Errorf("ProgressToken(WithProgressToken(nil, ...)): %q %v", tok, ok)
	}

	log := newProgressLog()
	c := mustNew(t, sharedServer(t).URL, log.option())
	args := map[string]any{"text": "n"}
	for _, ctx := range []context.Context{WithProgressToken(ctx, ""), removed, WithProgressToken(context.Background(), "")} {
		if _, err := c.CallTool(ctx, "notify", args); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CallTool(WithProgressToken(ctx, "last"), "notify", args); err != nil {
		t.Fatal(err)
	}
	if got := tokensOf(log.waitFor(t, "last")); !reflect.DeepEqual(got, []any{"last"}) {
		t.Errorf("progress tokens: got %v, want only last", got)
	}
}

func TestProgressTokenRefused(t *testing.T) {
	ctx := testCtx(t)
	log := newProgressLog()
	c := tasksClient(t, log.option())
	args := map[string]any{"text": "n"}
	for _, tc := range []struct {
		token string
		class error
	}{
		{"a\x00b", ErrInvalidArgument},
		{"\xff", ErrInvalidUTF8},
	} {
		for _, ctx := range []context.Context{ctx, context.Background()} {
			ctx := WithProgressToken(ctx, tc.token)
			if _, err := c.CallTool(ctx, "notify", args); !errors.Is(err, tc.class) {
				t.Errorf("CallTool with token %q: %v", tc.token, err)
			}
			if _, err := c.Call(ctx, "ping", nil); !errors.Is(err, tc.class) {
				t.Errorf("Call with token %q: %v", tc.token, err)
			}
			if _, err := c.StartToolTask(ctx, "report", nil, 0); !errors.Is(err, tc.class) {
				t.Errorf("StartToolTask with token %q: %v", tc.token, err)
			}
			// Calls that send no token ignore it.
			if err := c.Ping(ctx); err != nil {
				t.Errorf("Ping with token %q: %v", tc.token, err)
			}
			if _, err := c.ListTools(ctx); err != nil {
				t.Errorf("ListTools with token %q: %v", tc.token, err)
			}
		}
	}
	// Refused before anything was sent: no task was started.
	if tasks, err := c.ListTasks(ctx); err != nil || len(tasks) != 0 {
		t.Errorf("ListTasks: %+v %v", tasks, err)
	}
	if _, err := c.CallTool(WithProgressToken(ctx, "last"), "notify", args); err != nil {
		t.Fatal(err)
	}
	if got := tokensOf(log.waitFor(t, "last")); !reflect.DeepEqual(got, []any{"last"}) {
		t.Errorf("progress tokens: got %v, want only last", got)
	}
}

package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The explicit task calls against the test server with tasks on (--tasks): its task tools are
// report (required; works `ms` milliseconds), convert (optional; upper-cases `text`), quick
// (forbidden), confirm (required; asks through elicitation while input_required) and crash
// (required; a tool error, or a JSON-RPC error with `rpc: true`). The server suggests a
// pollInterval of 50 ms and keeps a task a minute unless asked otherwise.

// tasksClient starts a server with tasks on for this test and connects a client to it.
func tasksClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	srv := startServer(t, "--tasks")
	return mustNew(t, srv.URL, opts...)
}

// rpcError is err as an *Error of the class ErrRPC, or the test fails.
func rpcError(t *testing.T, what string, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrRPC) || e.Code != CodeRPC {
		t.Fatalf("%s: want a JSON-RPC error, got %#v (%v)", what, err, err)
	}
	return e
}

// waitStatus polls the task until it has the status want (at the server's pollInterval).
func waitStatus(t *testing.T, ctx context.Context, c *Client, id string, want TaskStatus) *Task {
	t.Helper()
	for {
		task, err := c.TaskStatus(ctx, id)
		if err != nil {
			t.Fatalf("TaskStatus while waiting for %s: %v", want, err)
		}
		if task.Status == want {
			return task
		}
		if task.Status.Terminal() {
			t.Fatalf("the task ended %s (%s) instead of reaching %s", task.Status, task.StatusMessage, want)
		}
		time.Sleep(task.PollInterval)
	}
}

func TestTaskStartStatusResult(t *testing.T) {
	ctx := testCtx(t)
	c := tasksClient(t)
	before := time.Now().Add(-time.Second) // the server's clock rounds to milliseconds
	task, err := c.StartToolTask(ctx, "report", map[string]any{"ms": 400}, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Back at once, before the tool's work is done.
	if task.TaskID == "" || task.Status != TaskWorking || task.Status.Terminal() || task.StatusMessage == "" {
		t.Errorf("started: %+v", task)
	}
	if task.TTL != 90*time.Second || task.PollInterval != 50*time.Millisecond {
		t.Errorf("ttl %v, poll interval %v", task.TTL, task.PollInterval)
	}
	if task.CreatedAt.Before(before) || task.CreatedAt.After(time.Now().Add(time.Second)) || task.LastUpdatedAt.Before(task.CreatedAt) {
		t.Errorf("created at %v, last updated at %v", task.CreatedAt, task.LastUpdatedAt)
	}
	if !strings.Contains(task.ModelImmediateResponse, task.TaskID) {
		t.Errorf("model immediate response: %q", task.ModelImmediateResponse)
	}
	var raw map[string]any
	if err := json.Unmarshal(task.Raw, &raw); err != nil || raw["taskId"] != task.TaskID || raw["ttl"] != 90000.0 {
		t.Errorf("raw: %s %v", task.Raw, err)
	}

	st, err := c.TaskStatus(ctx, task.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if st.TaskID != task.TaskID || !st.CreatedAt.Equal(task.CreatedAt) || st.TTL != task.TTL ||
		(st.Status != TaskWorking && st.Status != TaskCompleted) || st.ModelImmediateResponse != "" {
		t.Errorf("status: %+v", st)
	}

	r, err := c.TaskResult(ctx, task.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if r.IsError || r.Text() != "report ready after 400 ms" || len(r.Raw) == 0 {
		t.Errorf("result: %+v", r)
	}
	st, err = c.TaskStatus(ctx, task.TaskID)
	if err != nil || st.Status != TaskCompleted || !st.Status.Terminal() || st.LastUpdatedAt.Before(task.CreatedAt) {
		t.Errorf("status after the result: %+v %v", st, err)
	}
	// The result stays available, and an ended task cannot be cancelled (the server's -32602).
	if r, err := c.TaskResult(ctx, task.TaskID); err != nil || r.Text() != "report ready after 400 ms" {
		t.Errorf("the result again: %+v %v", r, err)
	}
	_, err = c.CancelTask(ctx, task.TaskID)
	if e := rpcError(t, "cancelling an ended task", err); e.RPCCode != -32602 {
		t.Errorf("cancelling an ended task: %v (code %d)", err, e.RPCCode)
	}

	// No ttl: the server's default (a minute); arguments as a struct; an optional tool.
	type convertArgs struct {
		Text string `json:"text"`
	}
	task, err = c.StartToolTask(ctx, "convert", convertArgs{Text: "héllo"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if task.TTL != time.Minute {
		t.Errorf("default ttl: %v", task.TTL)
	}
	if r, err := c.TaskResult(ctx, task.TaskID); err != nil || r.Text() != "HÉLLO" {
		t.Errorf("convert: %+v %v", r, err)
	}
	// A ttl under a millisecond is rounded up, not taken for "the server's default".
	if task, err := c.StartToolTask(ctx, "report", nil, time.Microsecond); err != nil || task.TTL != time.Millisecond {
		t.Errorf("a ttl of 1 µs: %+v %v", task, err)
	}

	// CallTool runs a tool that requires a task as one, and returns its final result.
	if r, err := c.CallTool(ctx, "report", map[string]int{"ms": 10}); err != nil || r.Text() != "report ready after 10 ms" {
		t.Errorf("CallTool on a task tool: %+v %v", r, err)
	}
}

func TestTaskList(t *testing.T) {
	ctx := testCtx(t)
	c := tasksClient(t)
	if tasks, err := c.ListTasks(ctx); err != nil || len(tasks) != 0 {
		t.Errorf("before any task: %+v %v", tasks, err)
	}
	// More than a page (the server's pages hold 3 tasks).
	ids := map[string]bool{}
	for range 4 {
		task, err := c.StartToolTask(ctx, "report", map[string]int{"ms": 20000}, 0)
		if err != nil {
			t.Fatal(err)
		}
		ids[task.TaskID] = true
	}
	tasks, err := c.ListTasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != len(ids) {
		t.Errorf("listed %d tasks, want %d: %+v", len(tasks), len(ids), tasks)
	}
	for _, task := range tasks {
		if !ids[task.TaskID] || task.Status != TaskWorking || task.CreatedAt.IsZero() || task.PollInterval != 50*time.Millisecond {
			t.Errorf("listed: %+v", task)
		}
		delete(ids, task.TaskID)
	}
	if len(ids) != 0 {
		t.Errorf("not listed: %v", ids)
	}
}

func TestTaskCancel(t *testing.T) {
	ctx := testCtx(t)
	c := tasksClient(t)
	task, err := c.StartToolTask(ctx, "report", map[string]int{"ms": 20000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := c.CancelTask(ctx, task.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.TaskID != task.TaskID || cancelled.Status != TaskCancelled || !cancelled.Status.Terminal() || cancelled.StatusMessage == "" {
		t.Errorf("cancelled: %+v", cancelled)
	}
	if st, err := c.TaskStatus(ctx, task.TaskID); err != nil || st.Status != TaskCancelled {
		t.Errorf("status after cancelling: %+v %v", st, err)
	}
	// A task cancelled before it produced a result has none: its result is the server's error
	// (at once, not after the tool's 20 s).
	start := time.Now()
	r, err := c.TaskResult(ctx, task.TaskID)
	if r != nil {
		t.Errorf("a result of a cancelled task: %+v", r)
	}
	e := rpcError(t, "the result of a cancelled task", err)
	if e.RPCCode != -32800 || e.Op != "tasks/result" || errors.Is(err, context.Canceled) || errors.Is(err, ErrCancelled) {
		t.Errorf("the result of a cancelled task: %v (code %d, op %q)", err, e.RPCCode, e.Op)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the result of a cancelled task took %v", d)
	}
	// Cancelling again: the task already ended.
	_, err = c.CancelTask(ctx, task.TaskID)
	if e := rpcError(t, "cancelling twice", err); e.RPCCode != -32602 {
		t.Errorf("cancelling twice: %v", err)
	}
}

func TestTaskFailures(t *testing.T) {
	ctx := testCtx(t)
	c := tasksClient(t)
	// The task's request failed with a JSON-RPC error: TaskResult returns that error.
	task, err := c.StartToolTask(ctx, "crash", map[string]bool{"rpc": true}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.TaskResult(ctx, task.TaskID)
	if r != nil {
		t.Errorf("a result of a failed request: %+v", r)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %#v", err)
	}
	if e.Code != CodeRPC || !errors.Is(err, ErrRPC) || e.RPCCode != -32603 || !strings.Contains(e.Message, "the job crashed") {
		t.Errorf("a failed request: %v (%+v)", err, e)
	}
	if st, err := c.TaskStatus(ctx, task.TaskID); err != nil || st.Status != TaskFailed || !strings.Contains(st.StatusMessage, "crashed") {
		t.Errorf("status of a failed request: %+v %v", st, err)
	}

	// The tool failed: a result with IsError, as CallTool gives it; the task failed.
	task, err = c.StartToolTask(ctx, "crash", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err = c.TaskResult(ctx, task.TaskID)
	if err != nil || !r.IsError || r.Text() != "the job failed" {
		t.Errorf("a tool error: %+v %v", r, err)
	}
	if st, err := c.TaskStatus(ctx, task.TaskID); err != nil || st.Status != TaskFailed {
		t.Errorf("status of a tool error: %+v %v", st, err)
	}
}

func TestTaskInputRequired(t *testing.T) {
	ctx := testCtx(t)
	var mu sync.Mutex
	var asked []*ElicitRequest
	c := tasksClient(t, WithElicitationHandler(func(_ context.Context, req *ElicitRequest) (*ElicitResult, error) {
		mu.Lock()
		asked = append(asked, req)
		mu.Unlock()
		return &ElicitResult{Action: "accept", Content: map[string]any{"ok": true}}, nil
	}))
	task, err := c.StartToolTask(ctx, "confirm", map[string]string{"message": "Deploy now?"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, ctx, c, task.TaskID, TaskInputRequired)
	if st.Status.Terminal() || st.StatusMessage == "" {
		t.Errorf("input required: %+v", st)
	}
	// The server's request reaches the handler while TaskResult waits; the task then ends
	// with the answer.
	r, err := c.TaskResult(ctx, task.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if r.IsError || !strings.HasPrefix(r.Text(), "confirmed: ") || !strings.Contains(r.Text(), `"ok":true`) {
		t.Errorf("result: %+v", r)
	}
	mu.Lock()
	if len(asked) != 1 || asked[0].Message != "Deploy now?" || len(asked[0].RequestedSchema) == 0 {
		t.Errorf("the handler was asked: %+v", asked)
	}
	mu.Unlock()
	if st, err := c.TaskStatus(ctx, task.TaskID); err != nil || st.Status != TaskCompleted {
		t.Errorf("status after the answer: %+v %v", st, err)
	}
}

func TestTaskResultContext(t *testing.T) {
	ctx := testCtx(t)
	c := tasksClient(t)
	task, err := c.StartToolTask(ctx, "report", map[string]int{"ms": 30000}, 0)
	if err != nil {
		t.Fatal(err)
	}

	// Cancelled while waiting: the call returns promptly, the task keeps running.
	wait, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(300*time.Millisecond, cancel)
	defer timer.Stop()
	start := time.Now()
	r, err := c.TaskResult(wait, task.TaskID)
	elapsed := time.Since(start)
	cancel()
	if r != nil {
		t.Errorf("a result: %+v", r)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeCancelled || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled wait: %#v (%v)", err, err)
	}
	if elapsed < 250*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("the cancelled wait returned after %v", elapsed)
	}
	if st, err := c.TaskStatus(ctx, task.TaskID); err != nil || st.Status != TaskWorking {
		t.Errorf("status after the cancelled wait: %+v %v", st, err)
	}

	// The context's deadline bounds the wait too.
	wait, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.TaskResult(wait, task.TaskID)
	if !errors.As(err, &e) || e.Code != CodeTimeout || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("timed-out wait: %#v (%v)", err, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timed-out wait returned after %v", d)
	}

	// A context already done: no request at all.
	_, err = c.TaskResult(wait, task.TaskID)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Errorf("an ended context: %v", err)
	}

	// The task is still there to cancel.
	cancelled, err := c.CancelTask(ctx, task.TaskID)
	if err != nil || cancelled.Status != TaskCancelled {
		t.Errorf("cancelling after the waits: %+v %v", cancelled, err)
	}
}

func TestTaskArgumentErrors(t *testing.T) {
	ctx := testCtx(t)
	c := tasksClient(t)
	// An id the server does not know: its JSON-RPC error (-32602).
	const unknown = "no-such-task"
	_, err := c.TaskStatus(ctx, unknown)
	if e := rpcError(t, "TaskStatus of an unknown task", err); e.RPCCode != -32602 || e.Op != "tasks/get" {
		t.Errorf("TaskStatus of an unknown task: %v (code %d, op %q)", err, e.RPCCode, e.Op)
	}
	_, err = c.TaskResult(ctx, unknown)
	if e := rpcError(t, "TaskResult of an unknown task", err); e.RPCCode != -32602 {
		t.Errorf("TaskResult of an unknown task: %v", err)
	}
	_, err = c.CancelTask(ctx, unknown)
	if e := rpcError(t, "CancelTask of an unknown task", err); e.RPCCode != -32602 {
		t.Errorf("CancelTask of an unknown task: %v", err)
	}

	// Ids no task has, and a negative ttl: refused before any request.
	invalid := func(what string, err error) {
		t.Helper()
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidArgument || !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: want an invalid argument error, got %#v (%v)", what, err, err)
		}
	}
	for _, id := range []string{"", "a\x00b"} {
		_, err = c.TaskStatus(ctx, id)
		invalid("TaskStatus("+strconv.Quote(id)+")", err)
		_, err = c.TaskResult(ctx, id)
		invalid("TaskResult("+strconv.Quote(id)+")", err)
		_, err = c.CancelTask(ctx, id)
		invalid("CancelTask("+strconv.Quote(id)+")", err)
	}
	_, err = c.StartToolTask(ctx, "report", nil, -time.Second)
	invalid("a negative ttl", err)
	_, err = c.StartToolTask(ctx, "report", []int{1}, 0)
	invalid("arguments that are not an object", err)

	// A tool listed as forbidden is not started as a task (the library refuses it).
	if _, err := c.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartToolTask(ctx, "quick", nil, 0)
	invalid("a forbidden tool", err)

	// A server without tasks: the library refuses to start one.
	plain := mustNew(t, sharedServer(t).URL)
	_, err = plain.StartToolTask(ctx, "echo", map[string]string{"text": "hi"}, 0)
	invalid("a server without tasks", err)

	// A closed client.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"StartToolTask": func() error { _, err := c.StartToolTask(ctx, "report", nil, 0); return err }(),
		"TaskStatus":    func() error { _, err := c.TaskStatus(ctx, unknown); return err }(),
		"TaskResult":    func() error { _, err := c.TaskResult(ctx, unknown); return err }(),
		"CancelTask":    func() error { _, err := c.CancelTask(ctx, unknown); return err }(),
		"ListTasks":     func() error { _, err := c.ListTasks(ctx); return err }(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a closed client: %v", what, err)
		}
	}
}

func TestTaskUnmarshal(t *testing.T) {
	var task Task
	in := `{"taskId":"t1","status":"input_required","statusMessage":"Waiting","createdAt":"2025-11-25T10:30:00.123Z",` +
		`"lastUpdatedAt":"2025-11-25T10:30:01+01:00","ttl":null,"pollInterval":1500,"_meta":{"k":1},"extra":true}`
	if err := json.Unmarshal([]byte(in), &task); err != nil {
		t.Fatal(err)
	}
	want := Task{
		TaskID:        "t1",
		Status:        TaskInputRequired,
		StatusMessage: "Waiting",
		CreatedAt:     time.Date(2025, 11, 25, 10, 30, 0, 123e6, time.UTC),
		LastUpdatedAt: time.Date(2025, 11, 25, 9, 30, 1, 0, time.UTC),
		PollInterval:  1500 * time.Millisecond,
	}
	if task.TaskID != want.TaskID || task.Status != want.Status || task.StatusMessage != want.StatusMessage ||
		!task.CreatedAt.Equal(want.CreatedAt) || !task.LastUpdatedAt.Equal(want.LastUpdatedAt) ||
		task.TTL != 0 || task.PollInterval != want.PollInterval || string(task.Meta) != `{"k":1}` || string(task.Raw) != in {
		t.Errorf("got %+v", task)
	}
	if task.Status.Terminal() {
		t.Error("input_required is not terminal")
	}
	// Timestamps that do not parse, a ttl beyond time.Duration, a status of a later revision.
	in = `{"taskId":"t2","status":"paused","createdAt":"yesterday","lastUpdatedAt":"","ttl":1e300}`
	if err := json.Unmarshal([]byte(in), &task); err != nil {
		t.Fatal(err)
	}
	if task.Status != "paused" || task.Status.Terminal() || !task.CreatedAt.IsZero() || !task.LastUpdatedAt.IsZero() ||
		task.TTL != time.Duration(1<<63-1) || task.PollInterval != 0 || task.Meta != nil || task.StatusMessage != "" {
		t.Errorf("got %+v", task)
	}
	for _, s := range []TaskStatus{TaskCompleted, TaskFailed, TaskCancelled} {
		if !s.Terminal() {
			t.Errorf("%s is terminal", s)
		}
	}
	if TaskWorking.Terminal() {
		t.Error("working is not terminal")
	}
}

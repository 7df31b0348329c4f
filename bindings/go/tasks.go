package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"time"
)

// Tasks (protocol 2025-11-25): a tool call started as a task and followed step by step, over
// the C ABI's mcp_task_* calls. CallTool needs none of this: it runs a tool whose
// execution.taskSupport is "required" as a task and waits for its result.

// The _meta key of a CreateTaskResult holding the text to give the model while the task runs.
const modelImmediateResponse = "io.modelcontextprotocol/model-immediate-response"

// StartToolTask starts the tool name as a task, with arguments as CallTool takes them (nil
// for none), and returns at once, before the tool is done, with the task in its first state
// (TaskWorking, usually). ttl asks the server to keep the task that long from its creation,
// rounded up to a millisecond (0: the server's default; it may keep it for less; negative:
// ErrInvalidArgument). Follow the task with TaskStatus, TaskResult and CancelTask, by its
// TaskID. ctx bounds starting the task only, not the task. A progress token ctx carries
// (WithProgressToken) goes with the request that creates the task, and the server's
// notifications/progress carrying it reach the notification handler until the task ends.
//
// The error is ErrInvalidArgument when the server does not accept task-augmented tool calls
// (it declares no tasks.requests.tools.call) or when the tool is listed as "forbidden" (by a
// ListTools since the client connected); a server that refuses to run the tool as a task
// answers with an ErrRPC error.
func (c *Client) StartToolTask(ctx context.Context, name string, arguments any, ttl time.Duration) (*Task, error) {
	defer runtime.KeepAlive(c)
	const op = "tools/call"
	if ttl < 0 {
		return nil, goError(op, CodeInvalidArgument, "a task's ttl cannot be negative (got %v)", ttl)
	}
	ms := uint64((ttl + time.Millisecond - 1) / time.Millisecond)
	raw, err := c.jsonCallN(ctx, op, taskStart, name, arguments, ms)
	if err != nil {
		return nil, err
	}
	var r struct {
		Task *Task                      `json:"task"`
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if err := decode(op, raw, &r); err != nil {
		return nil, err
	}
	if r.Task == nil {
		return nil, goError(op, CodeProtocol, "the result holds no task")
	}
	if m, ok := r.Meta[modelImmediateResponse]; ok {
		// Not a string: none.
		_ = json.Unmarshal(m, &r.Task.ModelImmediateResponse)
	}
	return r.Task, nil
}

// TaskStatus returns the current state of the task id (tasks/get). It does not wait for the
// task. An id the server does not know (or has forgotten, its TTL past) is an ErrRPC error;
// an empty id is ErrInvalidArgument.
func (c *Client) TaskStatus(ctx context.Context, id string) (*Task, error) {
	return c.taskCall(ctx, "tasks/get", taskStatus, id)
}

// TaskResult waits for the task id to end and returns its result: what CallTool would have
// returned (a tool that failed is a result with IsError set, and the task's status is
// TaskFailed). A task whose request failed returns that error (ErrRPC, with the server's
// RPCCode), and so does a task cancelled before it produced a result.
//
// The wait polls tasks/get at the server's PollInterval, then fetches tasks/result; requests
// the server sends while the task is TaskInputRequired (elicitation, sampling) reach the
// client's handlers meanwhile. ctx bounds the whole wait (with no deadline, the client's
// request timeout does: see WithRequestTimeout). A wait that ends with ctx (the error then
// matches context.Canceled or context.DeadlineExceeded) or with the request timeout leaves the
// task running: call TaskResult again, or CancelTask.
func (c *Client) TaskResult(ctx context.Context, id string) (*CallToolResult, error) {
	defer runtime.KeepAlive(c)
	const op = "tasks/result"
	raw, err := c.jsonCall(ctx, op, taskResult, id, nil)
	if err != nil {
		return nil, err
	}
	// The result is ours: Raw keeps it rather than a copy.
	if r, start, end, ok := decodeCallToolResult(raw); ok {
		r.Raw = raw[start:end:end]
		return r, nil
	}
	var r CallToolResult
	if err := decode(op, raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CancelTask cancels the task id (tasks/cancel) and returns it in its new state
// (TaskCancelled). Cancelling a task that already ended is the server's error (ErrRPC,
// RPCCode -32602), as is an id it does not know; an empty id is ErrInvalidArgument.
func (c *Client) CancelTask(ctx context.Context, id string) (*Task, error) {
	return c.taskCall(ctx, "tasks/cancel", taskCancel, id)
}

// ListTasks returns every task the server keeps for this client (all pages of tasks/list).
func (c *Client) ListTasks(ctx context.Context) ([]Task, error) {
	defer runtime.KeepAlive(c)
	var tasks []Task
	err := c.listCall(ctx, "tasks/list", &tasks, func(p *C.mcp_client, co *C.mcp_call_options, out **C.char, e **C.mcp_error) C.mcp_result {
		return C.mcp_task_list(p, co, out, e)
	})
	return tasks, err
}

// taskCall makes the C call k about the task id, for operation op within ctx, and decodes
// the Task it returns.
func (c *Client) taskCall(ctx context.Context, op string, k stringCall, id string) (*Task, error) {
	defer runtime.KeepAlive(c)
	raw, err := c.jsonCall(ctx, op, k, id, nil)
	if err != nil {
		return nil, err
	}
	var t Task
	if err := decode(op, raw, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

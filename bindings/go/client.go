package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Client is a client of one MCP server. It is safe to use from many goroutines at once
// (they share its session). Close it when done; a Client that becomes unreachable without
// Close is freed by a cleanup as a backstop (its session then ends without the polite
// goodbye Close sends).
//
// Callbacks (handlers, presenter, store) must not keep the Client reachable from a global
// if you rely on that backstop.
type Client struct {
	s *state
}

// New makes a client of the MCP server at url (http or https: Streamable HTTP, falling back
// to HTTP+SSE) and connects it within ctx, signing in first if the server asks and
// WithOAuth is set. With WithoutConnect it only makes the client (no network).
func New(ctx context.Context, url string, opts ...Option) (*Client, error) {
	return open(ctx, opts, func(b *builder) error {
		return b.set("url", []string{url}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
			return C.mcp_options_set_url(b.o, c[0], e)
		})
	})
}

// NewStdio makes a client of an MCP server run as a child process speaking over its stdin
// and stdout (its stderr goes to the log), as exec.Command(name, args...) would run it, and
// connects it within ctx. Close stops the process.
func NewStdio(ctx context.Context, name string, args []string, opts ...Option) (*Client, error) {
	words := append([]string{name}, args...)
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	line := strings.Join(quoted, " ")
	return open(ctx, opts, func(b *builder) error {
		return b.set("stdio command", []string{line}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
			return C.mcp_options_set_stdio(b.o, c[0], e)
		})
	})
}

// shellQuote quotes one word for the library's command-line splitting (single quotes, and
// \' for a quote).
func shellQuote(w string) string {
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func open(ctx context.Context, opts []Option, target func(*builder) error) (*Client, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var st settings
	for _, o := range opts {
		if o != nil {
			o(&st)
		}
	}
	s := newState()
	ok := false
	defer func() {
		if !ok {
			s.cancelHandler()
		}
	}()
	o := C.mcp_options_new()
	if o == nil {
		return nil, goError("options", CodeInternal, "cannot make options")
	}
	// The client copies what it needs; the callbacks' user data lives until both are freed.
	defer C.mcp_options_free(o)
	b := &builder{o: o, s: s}
	if err := target(b); err != nil {
		return nil, err
	}
	for _, step := range st.steps {
		if err := step(b); err != nil {
			return nil, err
		}
	}
	if err := b.requestHandlers(st.requests); err != nil {
		return nil, err
	}
	var p *C.mcp_client
	if st.noConnect {
		var e *C.mcp_error
		if rc := C.mcp_client_create(o, &p, &e); rc != C.MCP_RESULT_OK {
			return nil, takeError("create", rc, e)
		}
	} else {
		err := s.call(ctx, "connect", func(co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
			return C.mcp_client_new(o, co, &p, e)
		})
		if err != nil {
			return nil, err
		}
	}
	s.ptr = p
	c := &Client{s: s}
	runtime.AddCleanup(c, (*state).cleanup, s)
	ok = true
	return c, nil
}

// Connect connects a client made WithoutConnect: starts the transport and completes the
// handshake (signing in first if the server asks). Connecting a connected client does
// nothing.
func (c *Client) Connect(ctx context.Context) error {
	defer runtime.KeepAlive(c)
	return c.s.run(ctx, "connect", func(p *C.mcp_client, co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
		return C.mcp_connect(p, co, e)
	})
}

// Close ends the session (an HTTP DELETE where there is one, or stops the stdio server).
// Calls in flight are cancelled and return ErrClosed (or finish, if they were done); later
// calls return ErrClosed. Closing again does nothing and returns nil.
func (c *Client) Close() error {
	defer runtime.KeepAlive(c)
	return c.s.close()
}

// Call sends any JSON-RPC request: method with params (nil for none; json.RawMessage as it
// is; anything else encoded as JSON, which must be an object), and returns the result as
// JSON. A progress token ctx carries (WithProgressToken) goes as the request's
// _meta.progressToken, beside any _meta of params.
func (c *Client) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	defer runtime.KeepAlive(c)
	return c.jsonCall(ctx, method, callMethod, method, params)
}

// CallTool calls a tool with arguments (nil for none; a map, a struct, or json.RawMessage
// encoding to a JSON object). A tool that failed is a result with IsError set, not an error.
// A progress token ctx carries (WithProgressToken) asks the server for progress, which
// reaches the notification handler.
func (c *Client) CallTool(ctx context.Context, name string, arguments any) (*CallToolResult, error) {
	raw, err := c.CallToolRaw(ctx, name, arguments)
	if err != nil {
		return nil, err
	}
	// The result is ours: Raw keeps it rather than a copy.
	if r, start, end, ok := decodeCallToolResult(raw); ok {
		r.Raw = raw[start:end:end]
		return r, nil
	}
	var r CallToolResult
	if err := decode("tools/call", raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CallToolRaw is CallTool returning the result as the server sent it.
func (c *Client) CallToolRaw(ctx context.Context, name string, arguments any) (json.RawMessage, error) {
	defer runtime.KeepAlive(c)
	return c.jsonCall(ctx, "tools/call", callTool, name, arguments)
}

// ListTools returns every tool (all pages of tools/list).
func (c *Client) ListTools(ctx context.Context) ([]Tool, error) {
	defer runtime.KeepAlive(c)
	var tools []Tool
	err := c.listCall(ctx, "tools/list", &tools, func(p *C.mcp_client, co *C.mcp_call_options, out **C.char, e **C.mcp_error) C.mcp_result {
		return C.mcp_list_tools(p, co, out, e)
	})
	return tools, err
}

// ListResources returns every resource (all pages of resources/list).
func (c *Client) ListResources(ctx context.Context) ([]Resource, error) {
	defer runtime.KeepAlive(c)
	var resources []Resource
	err := c.listCall(ctx, "resources/list", &resources, func(p *C.mcp_client, co *C.mcp_call_options, out **C.char, e **C.mcp_error) C.mcp_result {
		return C.mcp_list_resources(p, co, out, e)
	})
	return resources, err
}

// ListPrompts returns every prompt (all pages of prompts/list).
func (c *Client) ListPrompts(ctx context.Context) ([]Prompt, error) {
	defer runtime.KeepAlive(c)
	var prompts []Prompt
	err := c.listCall(ctx, "prompts/list", &prompts, func(p *C.mcp_client, co *C.mcp_call_options, out **C.char, e **C.mcp_error) C.mcp_result {
		return C.mcp_list_prompts(p, co, out, e)
	})
	return prompts, err
}

// ReadResource reads the resource at uri.
func (c *Client) ReadResource(ctx context.Context, uri string) (*ReadResourceResult, error) {
	defer runtime.KeepAlive(c)
	raw, err := c.jsonCall(ctx, "resources/read", readResource, uri, nil)
	if err != nil {
		return nil, err
	}
	var r ReadResourceResult
	if err := decode("resources/read", raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetPrompt gets the prompt name with its arguments (nil for none).
func (c *Client) GetPrompt(ctx context.Context, name string, arguments map[string]string) (*GetPromptResult, error) {
	defer runtime.KeepAlive(c)
	var args any
	if arguments != nil {
		args = arguments
	}
	raw, err := c.jsonCall(ctx, "prompts/get", getPrompt, name, args)
	if err != nil {
		return nil, err
	}
	var r GetPromptResult
	if err := decode("prompts/get", raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	defer runtime.KeepAlive(c)
	return c.s.run(ctx, "ping", func(p *C.mcp_client, co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
		return C.mcp_ping(p, co, e)
	})
}

// ServerInfo is what the handshake settled: the protocol version, the transport, the
// session and the server's initialize result. It does not block.
func (c *Client) ServerInfo() (*ServerInfo, error) {
	defer runtime.KeepAlive(c)
	raw, err := c.accessor("server info", func(p *C.mcp_client, out **C.char, e **C.mcp_error) C.mcp_result {
		return C.mcp_server_info(p, out, e)
	})
	if err != nil {
		return nil, err
	}
	var info ServerInfo
	if err := decode("server info", raw, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Authorize signs in now (or resumes: a stored or refreshable token makes this quick)
// without waiting for the server to ask; the presenter shows the URL if the user is needed.
// ErrInvalidArgument for a client without OAuth.
func (c *Client) Authorize(ctx context.Context) error {
	defer runtime.KeepAlive(c)
	return c.s.run(ctx, "authorize", func(p *C.mcp_client, co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
		return C.mcp_authorize(p, co, e)
	})
}

// BeginAuthorization is step one of a sign-in without callbacks: it discovers the
// authorization server, registers with redirectURI (your own redirect handler), and
// returns the URL to send the user to. CompleteAuthorization is step two.
func (c *Client) BeginAuthorization(ctx context.Context, redirectURI string) (string, error) {
	defer runtime.KeepAlive(c)
	raw, err := c.jsonCall(ctx, "authorize", authorizeBegin, redirectURI, nil)
	return string(raw), err
}

// CompleteAuthorization is step two: redirectURL is the full URL the browser was redirected
// to (with code and state); it is checked and exchanged for tokens (saved in the store).
func (c *Client) CompleteAuthorization(ctx context.Context, redirectURL string) error {
	defer runtime.KeepAlive(c)
	_, err := c.jsonCall(ctx, "authorize", authorizeComplete, redirectURL, nil)
	return err
}

// AuthStatus is what the OAuth engine holds now (never a secret). It does not block.
// ErrInvalidArgument for a client without OAuth.
func (c *Client) AuthStatus() (*AuthStatus, error) {
	defer runtime.KeepAlive(c)
	raw, err := c.accessor("auth status", func(p *C.mcp_client, out **C.char, e **C.mcp_error) C.mcp_result {
		return C.mcp_auth_status(p, out, e)
	})
	if err != nil {
		return nil, err
	}
	var st AuthStatus
	if err := decode("auth status", raw, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Logout revokes the tokens at the authorization server (when it supports it), forgets them
// and deletes the stored entry (locally even when revocation fails; that failure is then
// returned).
func (c *Client) Logout(ctx context.Context) error {
	defer runtime.KeepAlive(c)
	return c.s.run(ctx, "logout", func(p *C.mcp_client, co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
		return C.mcp_logout(p, co, e)
	})
}

// stringCall names a C call taking one string (and JSON arguments, for some) and returning
// a string.
type stringCall uint8

const (
	callMethod        stringCall = iota // mcp_call(method, params)
	callTool                            // mcp_call_tool(name, arguments)
	readResource                        // mcp_read_resource(uri)
	getPrompt                           // mcp_get_prompt(name, arguments)
	authorizeBegin                      // mcp_authorize_begin(redirect_uri)
	authorizeComplete                   // mcp_authorize_complete(redirect_url): no result
	taskStart                           // mcp_task_start(tool_name, arguments, ttl_ms)
	taskStatus                          // mcp_task_status(task_id)
	taskResult                          // mcp_task_result(task_id)
	taskCancel                          // mcp_task_cancel(task_id)
)

// do makes the C call (n is the number the call takes, if any: mcp_task_start's ttl_ms).
func (k stringCall) do(p *C.mcp_client, str, args *C.char, n uint64, co *C.mcp_call_options, out **C.char, e **C.mcp_error) C.mcp_result {
	switch k {
	case callMethod:
		return C.mcp_call(p, str, args, co, out, e)
	case callTool:
		return C.mcp_call_tool(p, str, args, co, out, e)
	case readResource:
		return C.mcp_read_resource(p, str, co, out, e)
	case getPrompt:
		return C.mcp_get_prompt(p, str, args, co, out, e)
	case authorizeBegin:
		return C.mcp_authorize_begin(p, str, co, out, e)
	case taskStart:
		return C.mcp_task_start(p, str, args, C.uint64_t(n), co, out, e)
	case taskStatus:
		return C.mcp_task_status(p, str, co, out, e)
	case taskResult:
		return C.mcp_task_result(p, str, co, out, e)
	case taskCancel:
		return C.mcp_task_cancel(p, str, co, out, e)
	default:
		return C.mcp_authorize_complete(p, str, co, e)
	}
}

// jsonCall makes the C call k with str and an optional JSON argument (nil: none), for
// operation op within ctx, and returns the string it returns.
func (c *Client) jsonCall(ctx context.Context, op string, k stringCall, str string, arg any) (json.RawMessage, error) {
	return c.jsonCallN(ctx, op, k, str, arg, 0)
}

// jsonCallN is jsonCall for a C call that also takes a number n.
func (c *Client) jsonCallN(ctx context.Context, op string, k stringCall, str string, arg any, n uint64) (json.RawMessage, error) {
	if strings.IndexByte(str, 0) >= 0 {
		return nil, goError(op, CodeInvalidArgument, "a string argument holds a NUL byte")
	}
	b := getCallBuffer()
	defer putCallBuffer(b)
	// The text holds both, each NUL-terminated: the library only reads them during the call,
	// so no C copies are made (and freed) for it.
	text := append(b.text[:0], str...)
	text = append(text, 0)
	argAt := -1
	if arg != nil {
		n := len(text)
		var err error
		if text, err = appendJSONText(text, op, arg); err != nil {
			return nil, err
		}
		// A nil map, slice or pointer encodes to null: no arguments, as nil itself.
		if string(text[n:]) != "null" {
			text = append(text, 0)
			argAt = n
		}
	}
	b.text = text
	cstr := (*C.char)(unsafe.Pointer(&text[0]))
	var carg *C.char
	if argAt >= 0 {
		carg = (*C.char)(unsafe.Pointer(&text[argAt]))
	}
	ctx = orBackground(ctx)
	p, sc, err := c.s.begin(ctx, op, progressTokenOf(ctx, k))
	if err != nil {
		return nil, err
	}
	o := b.outs
	rc := k.do(p, cstr, carg, n, sc.options(), &o.out, &o.e)
	out, e := o.out, o.e
	o.out, o.e = nil, nil
	err = c.s.finish(ctx, op, &sc, rc, e)
	c.s.release()
	if err != nil {
		return nil, err
	}
	return takeString(out), nil
}

// callBuffer is what a call passes to the library and gets back, reused from call to call:
// its strings (Go memory the library reads during the call) and its out-parameters (apart:
// memory passed to C may hold no Go pointer).
type callBuffer struct {
	text []byte
	outs *callOuts
}

type callOuts struct {
	out *C.char
	e   *C.mcp_error
}

var callBuffers = sync.Pool{New: func() any {
	return &callBuffer{text: make([]byte, 0, 256), outs: new(callOuts)}
}}

func getCallBuffer() *callBuffer { return callBuffers.Get().(*callBuffer) }

// putCallBuffer keeps a buffer for another call, unless a large argument grew it.
func putCallBuffer(b *callBuffer) {
	if cap(b.text) <= 64<<10 {
		callBuffers.Put(b)
	}
}

// listCall makes a C list call and decodes its JSON array into out.
func (c *Client) listCall(ctx context.Context, op string, into any,
	f func(p *C.mcp_client, co *C.mcp_call_options, out **C.char, e **C.mcp_error) C.mcp_result,
) error {
	var out *C.char
	err := c.s.run(ctx, op, func(p *C.mcp_client, co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
		return f(p, co, &out, e)
	})
	if err != nil {
		return err
	}
	return decode(op, takeString(out), into)
}

// accessor makes a non-blocking C call returning a string.
func (c *Client) accessor(op string, f func(p *C.mcp_client, out **C.char, e **C.mcp_error) C.mcp_result) (json.RawMessage, error) {
	p, err := c.s.acquire(op)
	if err != nil {
		return nil, err
	}
	defer c.s.release()
	var out *C.char
	var e *C.mcp_error
	if rc := f(p, &out, &e); rc != C.MCP_RESULT_OK {
		return nil, takeError(op, rc, e)
	}
	return takeString(out), nil
}

// takeString copies a string the library returned and frees it.
func takeString(p *C.char) json.RawMessage {
	if p == nil {
		return nil
	}
	defer C.mcp_string_free(p)
	n := cStringLen(p)
	b := make(json.RawMessage, n)
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(p)), n))
	return b
}

// cStringLen is the length of the C string at p, found a page at a time as the runtime's
// own C.GoString does (a read never crosses into a page the string does not reach).
func cStringLen(p *C.char) int {
	const page = 4096 // or a divisor of the page size
	n := 0
	for {
		at := unsafe.Add(unsafe.Pointer(p), n)
		chunk := page - int(uintptr(at)%page)
		if i := bytes.IndexByte(unsafe.Slice((*byte)(at), chunk), 0); i >= 0 {
			return n + i
		}
		n += chunk
	}
}

// decode reads a result into v; a result that does not fit is a protocol error.
func decode(op string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{Code: CodeProtocol, Op: op, Message: "the result does not decode", causes: []error{err}}
	}
	return nil
}

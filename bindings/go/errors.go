package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
)

// Code is the library's result code (the C ABI's mcp_result): grouped by range, never
// renumbered. Every *Error carries one; the Err* sentinels match them by class.
type Code int32

// The result codes of the C ABI.
const (
	CodeOK              Code = 0   // success
	CodeNullArgument    Code = 100 // a required argument was missing (a bug in this package)
	CodeInvalidUTF8     Code = 101 // a string argument was not UTF-8
	CodeInvalidArgument Code = 102 // an argument or the configuration is invalid
	CodeInvalidJSON     Code = 103 // a JSON argument does not parse
	CodeTransport       Code = 200 // the server could not be reached, or the connection failed
	CodeProtocol        Code = 300 // the server broke the HTTP, SSE or JSON-RPC contract
	CodeRPC             Code = 400 // the server answered with a JSON-RPC error
	CodeTimeout         Code = 500 // the call did not complete in time
	CodeCancelled       Code = 501 // the call was cancelled
	CodeAuth            Code = 600 // authorization is needed or failed
	CodeClosed          Code = 700 // the client was closed
	CodeReentrant       Code = 701 // a blocking call from inside a callback
	CodeNotConnected    Code = 702 // the call needs a connected client (see Connect)
	CodePanic           Code = 900 // a panic inside the library (a bug: please report it)
	CodeInternal        Code = 901 // an unexpected condition inside the library (a bug)
)

// String is the library's short description of the code.
func (c Code) String() string {
	return C.GoString(C.mcp_result_str(C.int32_t(c)))
}

// class is a sentinel error matching a range of codes.
type class struct {
	name   string
	lo, hi Code
}

func (c *class) Error() string { return "mcpclient: " + c.name }

// Sentinels for errors.Is, one per class of result code. Every error a call returns is an
// *Error (use errors.As for its fields); errors.Is(err, ErrTimeout) and the like tell the
// class.
var (
	// ErrInvalidArgument: an argument or the configuration is invalid (codes 100-199, so
	// ErrInvalidUTF8 and ErrInvalidJSON errors match it too).
	ErrInvalidArgument error = &class{"invalid argument", 100, 199}
	// ErrInvalidUTF8: a string argument was not UTF-8.
	ErrInvalidUTF8 error = &class{"invalid UTF-8", CodeInvalidUTF8, CodeInvalidUTF8}
	// ErrInvalidJSON: a JSON argument does not parse, or a value does not encode as JSON.
	ErrInvalidJSON error = &class{"invalid JSON", CodeInvalidJSON, CodeInvalidJSON}
	// ErrTransport: the server could not be reached, or the connection or the stdio
	// process failed.
	ErrTransport error = &class{"transport error", 200, 299}
	// ErrProtocol: the server broke the HTTP, SSE or JSON-RPC contract (or no common
	// protocol version).
	ErrProtocol error = &class{"protocol error", 300, 399}
	// ErrRPC: the server answered with a JSON-RPC error (Error.RPCCode, Error.RPCData).
	ErrRPC error = &class{"JSON-RPC error", 400, 499}
	// ErrTimeout: the call did not complete in time: the context's deadline passed (the
	// error then also matches context.DeadlineExceeded) or the client's request timeout.
	ErrTimeout error = &class{"timeout", CodeTimeout, CodeTimeout}
	// ErrCancelled: the call was cancelled (by its context: the error then also matches
	// context.Canceled).
	ErrCancelled error = &class{"cancelled", CodeCancelled, CodeCancelled}
	// ErrAuth: authorization is needed or failed (Error.OAuthError says how, and the
	// presenter's error or panic is wrapped when it was the cause).
	ErrAuth error = &class{"authorization failed", 600, 699}
	// ErrClosed: the client was closed (before or during the call).
	ErrClosed error = &class{"client closed", CodeClosed, CodeClosed}
	// ErrReentrant: a blocking call was made from inside a callback of the library.
	ErrReentrant error = &class{"blocking call from inside a callback", CodeReentrant, CodeReentrant}
	// ErrNotConnected: the client was made WithoutConnect and not connected yet.
	ErrNotConnected error = &class{"not connected", CodeNotConnected, CodeNotConnected}
	// ErrInternal: a bug inside the library (a panic caught at its boundary, or an
	// unexpected condition), codes 900-999.
	ErrInternal error = &class{"internal error", 900, 999}
)

// Error is the error of every call: the result code and the library's message, with the
// details the failure has (HTTP status, JSON-RPC error, OAuth error). It wraps the
// context's error when the context ended the call, and the Go error or *PanicError of a
// callback (presenter, device-code display) that made a sign-in fail.
type Error struct {
	// Code is the library's result code.
	Code Code
	// Op is the operation that failed ("tools/call", "connect", "authorize", ...).
	Op string
	// Message is the library's description; it never holds a token or a secret.
	Message string
	// HTTPStatus is the HTTP status behind the failure, or 0.
	HTTPStatus int
	// RPCCode is the server's JSON-RPC error code (e.g. -32601) when Code is CodeRPC, else 0.
	RPCCode int64
	// RPCData is the data member of the server's JSON-RPC error, or nil.
	RPCData json.RawMessage
	// OAuthError is the OAuth error code the authorization server gave (e.g.
	// "invalid_grant", "access_denied"), or "".
	OAuthError string
	// OAuthErrorDescription is its error_description, or "".
	OAuthErrorDescription string

	causes []error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mcpclient: ")
	if e.Op != "" && !strings.Contains(e.Message, e.Op) {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Message != "" {
		b.WriteString(e.Message)
	} else {
		b.WriteString(e.Code.String())
	}
	for _, c := range e.causes {
		if s := c.Error(); !strings.Contains(e.Message, s) {
			b.WriteString(": ")
			b.WriteString(s)
		}
	}
	return b.String()
}

// Unwrap gives what caused the failure outside the library: the context's error, or a
// callback's error or *PanicError.
func (e *Error) Unwrap() []error { return e.causes }

// Is matches the class sentinels (ErrTimeout, ErrAuth, ...).
func (e *Error) Is(target error) bool {
	if c, ok := target.(*class); ok {
		return e.Code >= c.lo && e.Code <= c.hi
	}
	return false
}

// Timeout reports whether the call ran out of time (as net.Error does).
func (e *Error) Timeout() bool { return e.Code == CodeTimeout }

// PanicError is a panic in one of your callbacks, recovered: it becomes the error of the
// call it made fail (reach it with errors.As), or, for callbacks whose failure fails no
// call (handlers, stores, loggers), it is logged.
type PanicError struct {
	// Callback names the callback: "presenter", "device code display", "store Load", ...
	Callback string
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack where the panic was recovered.
	Stack []byte
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("mcpclient: panic in the %s callback: %v", p.Callback, p.Value)
}

// Unwrap gives the panic value when it is an error.
func (p *PanicError) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}

func newPanicError(callback string, v any) *PanicError {
	return &PanicError{Callback: callback, Value: v, Stack: debug.Stack()}
}

// takeError turns the library's error (freed here) into an *Error.
func takeError(op string, rc C.mcp_result, e *C.mcp_error) *Error {
	out := &Error{Code: Code(rc), Op: op}
	if e == nil {
		out.Message = out.Code.String()
		return out
	}
	defer C.mcp_error_free(e)
	out.Code = Code(C.mcp_error_code(e))
	out.Message = C.GoString(C.mcp_error_message(e))
	out.HTTPStatus = int(C.mcp_error_http_status(e))
	var code C.int64_t
	if C.mcp_error_rpc_code(e, &code) {
		out.RPCCode = int64(code)
	}
	if d := C.mcp_error_rpc_data(e); d != nil {
		out.RPCData = json.RawMessage(C.GoString(d))
	}
	if s := C.mcp_error_oauth_error(e); s != nil {
		out.OAuthError = C.GoString(s)
	}
	if s := C.mcp_error_oauth_error_description(e); s != nil {
		out.OAuthErrorDescription = C.GoString(s)
	}
	return out
}

// goError is an *Error made on the Go side (bad Go arguments, a closed client).
func goError(op string, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Op: op, Message: fmt.Sprintf(format, args...)}
}

// contextError is the error of a call whose context ended before or during it.
func contextError(op string, ctx context.Context) *Error {
	err := ctx.Err()
	e := &Error{Code: CodeCancelled, Op: op, causes: causesOf(ctx)}
	switch err {
	case nil:
		// The deadline passed, and the context's own timer has not fired yet.
		e.Code = CodeTimeout
		e.Message = "the context's deadline passed"
		e.causes = []error{context.DeadlineExceeded}
	case context.DeadlineExceeded:
		e.Code = CodeTimeout
		e.Message = "the context's deadline passed"
	default:
		e.Message = "the context was cancelled"
	}
	return e
}

// causesOf is the context's error, and its cause when that differs.
func causesOf(ctx context.Context) []error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return []error{err, cause}
	}
	return []error{err}
}

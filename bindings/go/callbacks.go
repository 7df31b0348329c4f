package mcpclient

// The trampolines the library calls (through the const-correct shims in shims.c). Each
// callback's user data is C memory holding a cgo.Handle of its Go object, so the library
// never holds a Go pointer; mcpgoFree deletes the handle when the library is done with it.
// Every trampoline recovers panics: nothing unwinds into the library.

/*
#include <stdlib.h>
#include <stdint.h>
#include "mcp_client.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/cgo"
	"time"
	"unsafe"
)

// userData puts a handle to v in C memory, for the library to pass back to a trampoline.
func userData(v any) unsafe.Pointer {
	p := C.malloc(C.size_t(unsafe.Sizeof(cgo.Handle(0))))
	*(*cgo.Handle)(p) = cgo.NewHandle(v)
	return p
}

// fromUserData is the Go object behind user data made by userData.
func fromUserData(ud unsafe.Pointer) any {
	if ud == nil {
		return nil
	}
	return (*(*cgo.Handle)(ud)).Value()
}

// freeUserData deletes the handle and frees its C memory.
func freeUserData(ud unsafe.Pointer) {
	if ud == nil {
		return
	}
	(*(*cgo.Handle)(ud)).Delete()
	C.free(ud)
}

//export mcpgoFree
func mcpgoFree(ud unsafe.Pointer) {
	freeUserData(ud)
}

// cString is a copy of s in the library's allocator (nil if s holds a NUL byte), for a
// callback to hand back.
func cString(s string) *C.char {
	return C.mcp_string_new((*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s)))
}

// cBytes is cString for bytes.
func cBytes(b []byte) *C.char {
	return C.mcp_string_new((*C.char)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b)))
}

// logPanic logs a recovered panic of a callback whose failure fails no call.
func logPanic(p *PanicError) {
	logger().Error("mcpclient: recovered a panic in a callback",
		slog.String("callback", p.Callback), slog.Any("panic", p.Value), slog.String("stack", string(p.Stack)))
}

// ---- presenter and device code: their failures fail the sign-in, and so the call --------

type presenterCallback struct {
	s  *state
	fn Presenter
}

//export mcpgoPresent
func mcpgoPresent(ud unsafe.Pointer, url, redirectURI *C.char, out **C.char) (rc C.int32_t) {
	cb, ok := fromUserData(ud).(*presenterCallback)
	if !ok {
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			rc = C.int32_t(cb.s.recordFailure(newPanicError("presenter", r)))
		}
	}()
	redirect, err := cb.fn(C.GoString(url), C.GoString(redirectURI))
	if err != nil {
		return C.int32_t(cb.s.recordFailure(err))
	}
	if redirect != "" {
		p := cString(redirect)
		if p == nil {
			return C.int32_t(cb.s.recordFailure(errors.New("the presenter's redirect URL holds a NUL byte")))
		}
		*out = p
	}
	return 0
}

type deviceCallback struct {
	s  *state
	fn func(DeviceCode) error
}

//export mcpgoDeviceCode
func mcpgoDeviceCode(ud unsafe.Pointer, uri, complete, code *C.char, expiresIn C.uint64_t) (rc C.int32_t) {
	cb, ok := fromUserData(ud).(*deviceCallback)
	if !ok {
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			rc = C.int32_t(cb.s.recordFailure(newPanicError("device code display", r)))
		}
	}()
	d := DeviceCode{
		VerificationURI: C.GoString(uri),
		UserCode:        C.GoString(code),
		ExpiresIn:       time.Duration(expiresIn) * time.Second,
	}
	if complete != nil {
		d.VerificationURIComplete = C.GoString(complete)
	}
	if err := cb.fn(d); err != nil {
		return C.int32_t(cb.s.recordFailure(err))
	}
	return 0
}

// ---- notifications and authorization events: failures are logged -----------------------

type notificationCallback struct {
	fn func(method string, params json.RawMessage)
}

//export mcpgoNotification
func mcpgoNotification(ud unsafe.Pointer, method, params *C.char) {
	cb, ok := fromUserData(ud).(*notificationCallback)
	if !ok {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			logPanic(newPanicError("notification handler", r))
		}
	}()
	cb.fn(C.GoString(method), json.RawMessage(C.GoString(params)))
}

type authEventCallback struct {
	fn func(AuthEvent)
}

//export mcpgoAuthEvent
func mcpgoAuthEvent(ud unsafe.Pointer, eventJSON *C.char) {
	cb, ok := fromUserData(ud).(*authEventCallback)
	if !ok {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			logPanic(newPanicError("auth event", r))
		}
	}()
	var ev AuthEvent
	if err := json.Unmarshal([]byte(C.GoString(eventJSON)), &ev); err != nil {
		logger().Warn("mcpclient: an authorization event does not decode", slog.Any("error", err))
		return
	}
	cb.fn(ev)
}

// ---- server requests ----------------------------------------------------------------------

// HandlerError is the JSON-RPC error a request handler answers with: return one (or wrap
// one) from a handler to send the server that code and message. Any other error is sent as
// -32603 "internal error", its text kept out of the answer and logged.
type HandlerError struct {
	Code    int32 // a JSON-RPC error code, e.g. -32602 (0: -32603)
	Message string
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("mcpclient: JSON-RPC error %d: %s", e.Code, e.Message)
}

type requestCallback struct {
	s      *state
	elicit ElicitationHandler
	sample SamplingHandler
	roots  RootsHandler
	other  RequestHandler
}

// capabilities are the MCP_CAPABILITY_* bits of the typed handlers set.
func (h *requestCallback) capabilities() C.uint32_t {
	var caps C.uint32_t
	if h.elicit != nil {
		caps |= C.MCP_CAPABILITY_ELICITATION
	}
	if h.sample != nil {
		caps |= C.MCP_CAPABILITY_SAMPLING
	}
	if h.roots != nil {
		caps |= C.MCP_CAPABILITY_ROOTS
	}
	return caps
}

func (h *requestCallback) any() bool {
	return h.elicit != nil || h.sample != nil || h.roots != nil || h.other != nil
}

// handle answers one request: its result as JSON, or a JSON-RPC error.
func (h *requestCallback) handle(method string, params []byte) ([]byte, *HandlerError) {
	ctx := h.s.handlerCtx
	var result any
	var err error
	switch {
	case method == "elicitation/create" && h.elicit != nil:
		var req ElicitRequest
		if e := json.Unmarshal(params, &req); e != nil {
			return nil, &HandlerError{Code: -32602, Message: "invalid elicitation/create params: " + e.Error()}
		}
		req.Raw = params
		var r *ElicitResult
		if r, err = h.elicit(ctx, &req); err == nil {
			if r == nil {
				return nil, &HandlerError{Code: -32603, Message: "the elicitation handler gave no result"}
			}
			result = r
		}
	case method == "sampling/createMessage" && h.sample != nil:
		var req SamplingRequest
		if e := json.Unmarshal(params, &req); e != nil {
			return nil, &HandlerError{Code: -32602, Message: "invalid sampling/createMessage params: " + e.Error()}
		}
		req.Raw = params
		var r *SamplingResult
		if r, err = h.sample(ctx, &req); err == nil {
			if r == nil {
				return nil, &HandlerError{Code: -32603, Message: "the sampling handler gave no result"}
			}
			if r.Role == "" {
				c := *r
				c.Role = "assistant"
				r = &c
			}
			result = r
		}
	case method == "roots/list" && h.roots != nil:
		var roots []Root
		if roots, err = h.roots(ctx); err == nil {
			if roots == nil {
				roots = []Root{}
			}
			result = map[string]any{"roots": roots}
		}
	case h.other != nil:
		result, err = h.other(ctx, method, json.RawMessage(params))
	default:
		return nil, &HandlerError{Code: -32601, Message: "method not found: " + method}
	}
	if err != nil {
		var he *HandlerError
		if errors.As(err, &he) {
			return nil, he
		}
		level := slog.LevelError
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			level = slog.LevelDebug // the client is closing: the handler gave up, as asked
		}
		logger().Log(context.Background(), level, "mcpclient: a request handler failed",
			slog.String("method", method), slog.Any("error", err))
		return nil, &HandlerError{Code: -32603, Message: "internal error"}
	}
	b, err := json.Marshal(result)
	if err != nil {
		logger().Error("mcpclient: a request handler's result does not encode", slog.String("method", method), slog.Any("error", err))
		return nil, &HandlerError{Code: -32603, Message: "internal error"}
	}
	if string(b) == "null" {
		b = []byte("{}")
	}
	return b, nil
}

//export mcpgoRequest
func mcpgoRequest(ud unsafe.Pointer, method, params *C.char, out **C.char) (rc C.int32_t) {
	cb, ok := fromUserData(ud).(*requestCallback)
	if !ok {
		return -32603
	}
	m := C.GoString(method)
	defer func() {
		if r := recover(); r != nil {
			p := newPanicError("request handler ("+m+")", r)
			logPanic(p)
			*out = cString("internal error")
			rc = -32603
		}
	}()
	result, herr := cb.handle(m, []byte(C.GoString(params)))
	if herr != nil {
		code := herr.Code
		if code == 0 {
			code = -32603
		}
		*out = cString(herr.Message)
		return C.int32_t(code)
	}
	*out = cBytes(result)
	return 0
}

// ---- credential store: failures are logged, and the session goes on ---------------------

type storeCallback struct {
	store CredentialStore
}

func storeFailed(what string, err error) C.int32_t {
	logger().Warn("mcpclient: the credential store failed", slog.String("call", what), slog.Any("error", err))
	return 1
}

func recoverStore(what string, rc *C.int32_t) {
	if r := recover(); r != nil {
		logPanic(newPanicError("store "+what, r))
		*rc = 1
	}
}

//export mcpgoStoreLoad
func mcpgoStoreLoad(ud unsafe.Pointer, key *C.char, out **C.char) (rc C.int32_t) {
	cb, ok := fromUserData(ud).(*storeCallback)
	if !ok {
		return 1
	}
	defer recoverStore("Load", &rc)
	v, found, err := cb.store.Load(C.GoString(key))
	if err != nil {
		return storeFailed("Load", err)
	}
	if found {
		p := cString(v)
		if p == nil {
			return storeFailed("Load", errors.New("the entry holds a NUL byte"))
		}
		*out = p
	}
	return 0
}

//export mcpgoStoreSave
func mcpgoStoreSave(ud unsafe.Pointer, key, value *C.char) (rc C.int32_t) {
	cb, ok := fromUserData(ud).(*storeCallback)
	if !ok {
		return 1
	}
	defer recoverStore("Save", &rc)
	if err := cb.store.Save(C.GoString(key), C.GoString(value)); err != nil {
		return storeFailed("Save", err)
	}
	return 0
}

//export mcpgoStoreRemove
func mcpgoStoreRemove(ud unsafe.Pointer, key *C.char) (rc C.int32_t) {
	cb, ok := fromUserData(ud).(*storeCallback)
	if !ok {
		return 1
	}
	defer recoverStore("Delete", &rc)
	if err := cb.store.Delete(C.GoString(key)); err != nil {
		return storeFailed("Delete", err)
	}
	return 0
}

// ---- logging --------------------------------------------------------------------------------

type logCallback struct {
	logger *slog.Logger
}

//export mcpgoLog
func mcpgoLog(ud unsafe.Pointer, level C.int32_t, target, message *C.char) {
	cb, ok := fromUserData(ud).(*logCallback)
	if !ok {
		return
	}
	defer func() {
		// A handler that panics loses its line; nothing reaches the library.
		_ = recover()
	}()
	lvl := slogLevel(level)
	ctx := context.Background()
	if !cb.logger.Enabled(ctx, lvl) {
		return
	}
	cb.logger.Log(ctx, lvl, C.GoString(message), slog.String("target", C.GoString(target)))
}

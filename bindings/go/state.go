package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
*/
import "C"

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// state is what a Client owns, apart from the Client itself: the C pointer and the count of
// calls using it, so that the pointer is freed only once it is closed (or forgotten) and no
// call is running. The callbacks' handles point here, never at the Client, so that a
// forgotten Client stays collectable.
type state struct {
	mu       sync.Mutex
	ptr      *C.mcp_client
	inflight int
	closed   bool
	freed    bool

	// handlerCtx is the context handlers get: cancelled by Close.
	handlerCtx    context.Context
	cancelHandler context.CancelFunc

	// failures of the presenter and device-code callbacks, for the calls they made fail.
	failMu  sync.Mutex
	failSeq uint64
	fails   []callbackFailure
}

type callbackFailure struct {
	seq uint64
	rc  int32
	err error
}

// freedByCleanup counts clients freed by the cleanup rather than by Close (for tests).
var freedByCleanup atomic.Int64

func newState() *state {
	ctx, cancel := context.WithCancel(context.Background())
	return &state{handlerCtx: ctx, cancelHandler: cancel}
}

// acquire returns the C client for one call, or ErrClosed.
func (s *state) acquire(op string) (*C.mcp_client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ptr == nil {
		return nil, goError(op, CodeClosed, "the client is closed")
	}
	s.inflight++
	return s.ptr, nil
}

// release ends a call begun with acquire; the last call out of a closed client frees it.
func (s *state) release() {
	s.mu.Lock()
	s.inflight--
	var p *C.mcp_client
	if s.closed && s.inflight == 0 && !s.freed {
		s.freed = true
		p, s.ptr = s.ptr, nil
	}
	s.mu.Unlock()
	if p != nil {
		C.mcp_client_free(p)
	}
}

func (s *state) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// close ends the session: calls in flight are cancelled (they return ErrClosed), later ones
// fail with ErrClosed, and the C client is freed when the last call in flight returns.
func (s *state) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	p := s.ptr
	if p == nil {
		s.mu.Unlock()
		return nil
	}
	s.inflight++ // the pointer stays valid while mcp_close runs
	s.mu.Unlock()
	defer s.release()
	s.cancelHandler()
	C.mcp_cancel(p)
	var e *C.mcp_error
	if rc := C.mcp_close(p, nil, &e); rc != C.MCP_RESULT_OK {
		return takeError("close", rc, e)
	}
	return nil
}

// cleanup frees the C client of a Client that became unreachable without Close (no call can
// be running then: every method keeps its Client alive until it returns).
func (s *state) cleanup() {
	s.mu.Lock()
	var p *C.mcp_client
	if !s.freed && s.ptr != nil {
		s.closed, s.freed = true, true
		p, s.ptr = s.ptr, nil
	}
	s.mu.Unlock()
	s.cancelHandler()
	if p != nil {
		freedByCleanup.Add(1)
		C.mcp_client_free(p)
	}
}

// recordFailure keeps the error of a presenter or device-code callback for the call it
// fails, and returns the non-zero code the callback returns to the library (the library
// names it in its message, which ties the failure to the call).
func (s *state) recordFailure(err error) int32 {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	s.failSeq++
	rc := int32((s.failSeq-1)%math.MaxInt32) + 1
	s.fails = append(s.fails, callbackFailure{seq: s.failSeq, rc: rc, err: err})
	if len(s.fails) > 32 {
		s.fails = append(s.fails[:0:0], s.fails[len(s.fails)-32:]...)
	}
	return rc
}

// failureMark is where a call starts in the record of callback failures.
func (s *state) failureMark() uint64 {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	return s.failSeq
}

// failureSince finds the callback failure behind a call's authorization error: the one the
// message names ("... returned N"), else the last one since the call began.
func (s *state) failureSince(mark uint64, message string) error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	var last error
	for _, f := range s.fails {
		if f.seq <= mark {
			continue
		}
		if names(message, f.rc) {
			return f.err
		}
		last = f.err
	}
	return last
}

// names reports whether message holds "returned <rc>" as a whole number.
func names(message string, rc int32) bool {
	needle := "returned " + strconv.Itoa(int(rc))
	for i := 0; ; {
		j := strings.Index(message[i:], needle)
		if j < 0 {
			return false
		}
		end := i + j + len(needle)
		if end == len(message) || message[end] < '0' || message[end] > '9' {
			return true
		}
		i = end
	}
}

// callFn is one C call of a client within the given call options.
type callFn func(p *C.mcp_client, co *C.mcp_call_options, e **C.mcp_error) C.mcp_result

// run makes one blocking call of the client for operation op within ctx (see call), or
// fails with ErrClosed once the client is closed.
func (s *state) run(ctx context.Context, op string, f callFn) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil {
		return contextError(op, ctx)
	}
	p, err := s.acquire(op)
	if err != nil {
		return err
	}
	defer s.release()
	return s.call(ctx, op, func(co *C.mcp_call_options, e **C.mcp_error) C.mcp_result {
		return f(p, co, e)
	})
}

// call makes one blocking C call for operation op within ctx: the context's deadline is the
// call's timeout, and its end cancels this call only (through the call's own
// mcp_call_options); the error then wraps ctx.Err().
func (s *state) call(ctx context.Context, op string, f func(co *C.mcp_call_options, e **C.mcp_error) C.mcp_result) error {
	if ctx.Err() != nil {
		return contextError(op, ctx)
	}
	co, deadline, hasDeadline, end, err := callOptions(ctx, op)
	if err != nil {
		return err
	}
	defer end()
	mark := s.failureMark()
	var e *C.mcp_error
	rc := f(co, &e)
	if rc == C.MCP_RESULT_OK {
		return nil
	}
	out := takeError(op, rc, e)
	s.explain(out, ctx, deadline, hasDeadline, mark)
	return out
}

// explain adds what the Go side knows to a failed call's error: the context that ended it,
// the Close that interrupted it, the callback that failed its sign-in.
func (s *state) explain(out *Error, ctx context.Context, deadline time.Time, hasDeadline bool, mark uint64) {
	switch {
	case (out.Code == CodeCancelled || out.Code == CodeTimeout) && ctx.Err() != nil:
		out.causes = append(out.causes, causesOf(ctx)...)
		if ctx.Err() == context.DeadlineExceeded {
			out.Code = CodeTimeout
		} else {
			out.Code = CodeCancelled
		}
	case out.Code == CodeTimeout && hasDeadline && !time.Now().Before(deadline):
		// The library's timer (the deadline, rounded up to a millisecond) fired before the
		// context's own.
		out.causes = append(out.causes, context.DeadlineExceeded)
	case (out.Code == CodeCancelled || out.Code == CodeTransport || out.Code == CodeProtocol) && s.isClosed():
		out.Message = "the client was closed during the call (" + out.Message + ")"
		out.Code = CodeClosed
	case out.Code >= 600 && out.Code <= 699:
		if cause := s.failureSince(mark, out.Message); cause != nil {
			out.causes = append(out.causes, cause)
		}
	}
}

// callOptions makes the C call options for ctx: nil when ctx can never end (the client's
// defaults), else options whose timeout is the deadline and which ctx's end cancels. end
// frees them once the cancellation can no longer run.
func callOptions(ctx context.Context, op string) (co *C.mcp_call_options, deadline time.Time, hasDeadline bool, end func(), err error) {
	end = func() {}
	if ctx.Done() == nil {
		return nil, time.Time{}, false, end, nil
	}
	co = C.mcp_call_options_new()
	if co == nil {
		return nil, time.Time{}, false, end, goError(op, CodeInternal, "cannot make call options")
	}
	deadline, hasDeadline = ctx.Deadline()
	if hasDeadline {
		left := time.Until(deadline)
		if left <= 0 {
			C.mcp_call_options_free(co)
			return nil, deadline, true, end, contextError(op, ctx)
		}
		ms := (left + time.Millisecond - 1) / time.Millisecond
		C.mcp_call_options_set_timeout_ms(co, C.uint64_t(ms))
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.mcp_call_options_cancel(co)
		close(done)
	})
	end = func() {
		if !stop() {
			<-done // the cancel is running: free the options after it
		}
		C.mcp_call_options_free(co)
	}
	return co, deadline, hasDeadline, end, nil
}

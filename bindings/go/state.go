package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
*/
import "C"

import (
	"context"
	"math"
	"runtime"
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
	// ptr is set before the Client is returned, and set to nil when freed: once closed and
	// no call is using it.
	ptr *C.mcp_client
	// uses counts the calls using ptr, plus closedFlag once the client is closed (atomic, so
	// that the calls of many goroutines do not contend for a lock).
	uses  atomic.Uint64
	freed atomic.Bool

	// handlerCtx is the context handlers get: cancelled by Close.
	handlerCtx    context.Context
	cancelHandler context.CancelFunc

	// failures of the presenter and device-code callbacks, for the calls they made fail
	// (failSeq is written under failMu, and read without it when a call starts).
	failMu  sync.Mutex
	failSeq atomic.Uint64
	fails   []callbackFailure
}

// closedFlag is set in state.uses once the client is closed.
const closedFlag = 1 << 62

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
	for {
		n := s.uses.Load()
		if n&closedFlag != 0 {
			return nil, goError(op, CodeClosed, "the client is closed")
		}
		if s.uses.CompareAndSwap(n, n+1) {
			// Not freed before (that takes closedFlag), nor until this call's release.
			return s.ptr, nil
		}
	}
}

// release ends a call begun with acquire; the last call out of a closed client frees it.
func (s *state) release() {
	if s.uses.Add(^uint64(0)) == closedFlag {
		s.free()
	}
}

// free frees the C client, once; true if this call did.
func (s *state) free() bool {
	if !s.freed.CompareAndSwap(false, true) {
		return false
	}
	p := s.ptr
	s.ptr = nil
	if p != nil {
		C.mcp_client_free(p)
	}
	return p != nil
}

func (s *state) isClosed() bool {
	return s.uses.Load()&closedFlag != 0
}

// close ends the session: calls in flight are cancelled (they return ErrClosed), later ones
// fail with ErrClosed, and the C client is freed when the last call in flight returns.
func (s *state) close() error {
	for {
		n := s.uses.Load()
		if n&closedFlag != 0 {
			return nil
		}
		// One more use: the pointer stays valid while mcp_close runs.
		if s.uses.CompareAndSwap(n, (n|closedFlag)+1) {
			break
		}
	}
	defer s.release()
	p := s.ptr
	if p == nil {
		return nil
	}
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
	for {
		n := s.uses.Load()
		if s.uses.CompareAndSwap(n, n|closedFlag) {
			break
		}
	}
	s.cancelHandler()
	if s.free() {
		freedByCleanup.Add(1)
	}
}

// recordFailure keeps the error of a presenter or device-code callback for the call it
// fails, and returns the non-zero code the callback returns to the library (the library
// names it in its message, which ties the failure to the call).
func (s *state) recordFailure(err error) int32 {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	seq := s.failSeq.Add(1)
	rc := int32((seq-1)%math.MaxInt32) + 1
	s.fails = append(s.fails, callbackFailure{seq: seq, rc: rc, err: err})
	if len(s.fails) > 32 {
		s.fails = append(s.fails[:0:0], s.fails[len(s.fails)-32:]...)
	}
	return rc
}

// failureMark is where a call starts in the record of callback failures.
func (s *state) failureMark() uint64 {
	return s.failSeq.Load()
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
	ctx = orBackground(ctx)
	p, sc, err := s.begin(ctx, op, "")
	if err != nil {
		return err
	}
	defer s.release()
	var e *C.mcp_error
	rc := f(p, sc.options(), &e)
	return s.finish(ctx, op, &sc, rc, e)
}

// call makes one blocking C call for operation op within ctx: the context's deadline is the
// call's timeout, and its end cancels this call only (through the call's own
// mcp_call_options); the error then wraps ctx.Err().
func (s *state) call(ctx context.Context, op string, f func(co *C.mcp_call_options, e **C.mcp_error) C.mcp_result) error {
	sc, err := s.enter(ctx, op, "")
	if err != nil {
		return err
	}
	var e *C.mcp_error
	rc := f(sc.options(), &e)
	return s.finish(ctx, op, &sc, rc, e)
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// begin starts one blocking call of the client for operation op within ctx (not nil), sending
// the progress token progress ("": none): the C client to call and the call's scope (see
// enter), or ErrClosed once the client is closed. After the C call: finish, then release.
func (s *state) begin(ctx context.Context, op, progress string) (*C.mcp_client, scope, error) {
	yieldSometimes()
	if ctx.Err() != nil {
		return nil, scope{}, contextError(op, ctx)
	}
	p, err := s.acquire(op)
	if err != nil {
		return nil, scope{}, err
	}
	sc, err := s.enter(ctx, op, progress)
	if err != nil {
		s.release()
		return nil, scope{}, err
	}
	return p, sc, nil
}

// A goroutine that makes blocking C calls one after another never passes through the
// scheduler, and after 10 ms of that the runtime's monitor takes it for one that runs too
// long: at each of its ticks (20 µs apart) it asks the goroutine to stop and takes its P
// while it is in C, handing the P to another thread (woken for nothing). The call then ends
// waiting for a P, often moving to another thread (each has its own runtime and connections
// in the library). Measured on a sequential CallTool loop: a hand-off for 1 call in 7 (4 in
// 5 for a bare cgo loop) and a quarter fewer calls per second. Yielding once every few
// milliseconds, before a call, keeps the goroutine from looking stuck.
const yieldEvery = 2 * time.Millisecond

var (
	yieldClock = time.Now()
	lastYield  atomic.Int64 // nanoseconds since yieldClock
)

// yieldSometimes yields the processor if no call did for yieldEvery (one goroutine does).
func yieldSometimes() {
	now := int64(time.Since(yieldClock))
	last := lastYield.Load()
	if now-last >= int64(yieldEvery) && lastYield.CompareAndSwap(last, now) {
		runtime.Gosched()
	}
}

// scope is one blocking call in progress: its call options (none when its context can never
// end and it sends no progress token: the client's defaults) and what explaining its failure
// takes.
type scope struct {
	opts        *callOptions
	stop        func() bool // stops the context's watch of the call (nil: no watch)
	deadline    time.Time
	hasDeadline bool
	mark        uint64
}

// options are the C call options of the call (nil: the client's defaults).
func (sc *scope) options() *C.mcp_call_options {
	if sc.opts == nil {
		return nil
	}
	return sc.opts.p
}

// enter starts the scope of one blocking call for operation op within ctx, sending the
// progress token progress ("": none): when ctx can end, call options whose timeout is its
// deadline and which its end cancels; when it sends a token, call options carrying it.
func (s *state) enter(ctx context.Context, op, progress string) (scope, error) {
	if ctx.Err() != nil {
		return scope{}, contextError(op, ctx)
	}
	if progress != "" {
		if err := checkProgressToken(op, progress); err != nil {
			return scope{}, err
		}
	}
	var sc scope
	if done := ctx.Done(); done != nil || progress != "" {
		deadline, hasDeadline := ctx.Deadline()
		var ms uint64
		if hasDeadline {
			left := time.Until(deadline)
			if left <= 0 {
				return scope{}, contextError(op, ctx)
			}
			ms = uint64((left + time.Millisecond - 1) / time.Millisecond)
		}
		o := getCallOptions(ms)
		if o == nil {
			return scope{}, goError(op, CodeInternal, "cannot make call options")
		}
		// Every call sets the token it sends, none included: reused options never carry the
		// token of an earlier call.
		if err := o.setProgressToken(op, progress); err != nil {
			putCallOptions(o)
			return scope{}, err
		}
		sc = scope{opts: o, deadline: deadline, hasDeadline: hasDeadline}
		if done != nil {
			sc.stop = context.AfterFunc(ctx, o.cancelFn)
		}
	}
	sc.mark = s.failureMark()
	return sc, nil
}

// finish ends the scope of a call that returned rc (and e), and makes its error: with what
// the Go side knows added (see explain).
func (s *state) finish(ctx context.Context, op string, sc *scope, rc C.mcp_result, e *C.mcp_error) error {
	if o := sc.opts; o != nil {
		if sc.stop == nil || sc.stop() {
			putCallOptions(o) // never cancelled: reusable
		} else {
			// The cancel is running: wait for it. These options stay cancelled; their
			// cleanup frees them.
			<-o.done
		}
		sc.opts = nil
	}
	if rc == C.MCP_RESULT_OK {
		return nil
	}
	out := takeError(op, rc, e)
	s.explain(out, ctx, sc.deadline, sc.hasDeadline, sc.mark)
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

// callOptions are C call options for calls whose context can end, reused from call to call
// until one is cancelled (a cancelled one stays cancelled).
type callOptions struct {
	p        *C.mcp_call_options
	ms       uint64        // the timeout set on p (0: the client's default)
	token    string        // the progress token set on p ("": none)
	done     chan struct{} // closed when cancel has run
	cancelFn func()        // cancel, for context.AfterFunc
}

// idleCallOptions holds call options no context cancelled. Those the pool drops are freed
// by their cleanup.
var idleCallOptions sync.Pool

// getCallOptions returns idle call options with timeout ms (0: the client's default), or
// new ones; nil if the library cannot make them.
func getCallOptions(ms uint64) *callOptions {
	o, _ := idleCallOptions.Get().(*callOptions)
	if o == nil {
		p := C.mcp_call_options_new()
		if p == nil {
			return nil
		}
		o = &callOptions{p: p, done: make(chan struct{})}
		o.cancelFn = o.cancel
		runtime.AddCleanup(o, freeCallOptions, p)
	}
	if o.ms != ms {
		C.mcp_call_options_set_timeout_ms(o.p, C.uint64_t(ms))
		o.ms = ms
	}
	return o
}

func putCallOptions(o *callOptions) { idleCallOptions.Put(o) }

func freeCallOptions(p *C.mcp_call_options) { C.mcp_call_options_free(p) }

// cancel cancels the call running with these options (the context ended).
func (o *callOptions) cancel() {
	C.mcp_call_options_cancel(o.p)
	close(o.done)
}

package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
*/
import "C"

import (
	"context"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// progressKey is the context key of a call's progress token.
type progressKey struct{}

// WithProgressToken returns a copy of ctx that carries a progress token for the calls made
// with it, as a per-call value: Call, CallTool, CallToolRaw and StartToolTask send it as the
// request's _meta.progressToken (beside any _meta the params carry), and the server's
// notifications/progress carrying it reach the notification handler (WithNotificationHandler)
// as "notifications/progress" with params such as
// {"progressToken":"t1","progress":2,"total":4,"message":"step 2 of 4"}. For a tool run as a
// task (StartToolTask, or CallTool of a tool that requires a task) the token goes on the
// request that creates the task only, not on its polls, and the task's progress keeps coming
// until the task ends. Other calls ignore the token.
//
// Tokens are strings: the C ABI takes strings (the protocol also allows integers, which this
// package does not send). The empty string means no token: WithProgressToken(ctx, "")
// removes a token ctx carried. A token holding a NUL byte fails the call with
// ErrInvalidArgument, one that is not UTF-8 with ErrInvalidUTF8, before anything is sent.
// Give calls in flight at the same time tokens of their own: the token is how the server and
// your handler tell their progress apart.
//
// A nil ctx is taken as context.Background().
func WithProgressToken(ctx context.Context, token string) context.Context {
	return context.WithValue(orBackground(ctx), progressKey{}, token)
}

// ProgressToken returns the progress token ctx carries (see WithProgressToken), and whether it
// carries one (the empty string is none).
func ProgressToken(ctx context.Context) (string, bool) {
	if ctx == nil {
		return "", false
	}
	token, _ := ctx.Value(progressKey{}).(string)
	return token, token != ""
}

// progressTokenOf is the progress token ctx carries for a call of kind k ("" for none, and for
// calls that do not send one).
func progressTokenOf(ctx context.Context, k stringCall) string {
	switch k {
	case callMethod, callTool, taskStart:
		token, _ := ProgressToken(ctx)
		return token
	default:
		return ""
	}
}

// checkProgressToken refuses what the library cannot take as a progress token.
func checkProgressToken(op, token string) error {
	if strings.IndexByte(token, 0) >= 0 {
		return goError(op, CodeInvalidArgument, "the progress token holds a NUL byte")
	}
	if !utf8.ValidString(token) {
		return goError(op, CodeInvalidUTF8, "the progress token is not valid UTF-8")
	}
	return nil
}

// setProgressToken makes the calls made with these options send token ("": none). The
// options remember it, so that options reused from call to call change only when the next
// call wants another token (and a token never outlives the call that asked for it).
func (o *callOptions) setProgressToken(op, token string) error {
	if o.token == token {
		return nil
	}
	var ct *C.char
	if token != "" {
		ct = C.CString(token)
		defer C.free(unsafe.Pointer(ct))
	}
	if rc := C.mcp_call_options_set_progress_token(o.p, ct); rc != C.MCP_RESULT_OK {
		// Unchanged: the library checks the token before it replaces the old one.
		return takeError(op, rc, nil)
	}
	o.token = token
	return nil
}

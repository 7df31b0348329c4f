package mcpclient

/*
#include "mcp_client.h"
#include "shims.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// LevelTrace is the level of the library's most detailed lines (below slog.LevelDebug).
const LevelTrace = slog.LevelDebug - 4

var (
	current atomic.Pointer[slog.Logger]
	setMu   sync.Mutex
)

// logger is where this package logs what fails no call (a panic in a handler, a store
// error): the logger given to SetLogger, else slog.Default().
func logger() *slog.Logger {
	if l := current.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// SetLogger sends the library's log lines (every client's: logging is process-wide) to l,
// each with its module as the "target" attribute; nil turns them off. The library is asked
// for the lines at the lowest level l is enabled for now (LevelTrace, slog.LevelDebug,
// ...): call SetLogger again after lowering the level of l's handler. The lines never hold
// a token or a secret. This package's own reports (a panic recovered in a handler, a store
// that failed) go to l too (to slog.Default() without a logger).
func SetLogger(l *slog.Logger) error {
	setMu.Lock()
	defer setMu.Unlock()
	var e *C.mcp_error
	if l == nil {
		if rc := C.mcp_log_set_callback(C.MCP_LOG_LEVEL_OFF, nil, nil, nil, &e); rc != C.MCP_RESULT_OK {
			return takeError("set logger", rc, e)
		}
		current.Store(nil)
		return nil
	}
	level := cLevel(l)
	if level == C.MCP_LOG_LEVEL_OFF {
		// Nothing the library says would be shown.
		if rc := C.mcp_log_set_callback(C.MCP_LOG_LEVEL_OFF, nil, nil, nil, &e); rc != C.MCP_RESULT_OK {
			return takeError("set logger", rc, e)
		}
		current.Store(l)
		return nil
	}
	ud := userData(&logCallback{logger: l})
	if rc := C.mcp_log_set_callback(C.int32_t(level), C.mcp_log_fn(C.mcpgo_log), ud, C.mcp_free_fn(C.mcpgo_free), &e); rc != C.MCP_RESULT_OK {
		freeUserData(ud)
		return takeError("set logger", rc, e)
	}
	current.Store(l)
	return nil
}

// cLevel is the lowest library level l shows.
func cLevel(l *slog.Logger) C.int32_t {
	ctx := context.Background()
	for _, c := range []struct {
		slog slog.Level
		c    C.int32_t
	}{
		{LevelTrace, C.MCP_LOG_LEVEL_TRACE},
		{slog.LevelDebug, C.MCP_LOG_LEVEL_DEBUG},
		{slog.LevelInfo, C.MCP_LOG_LEVEL_INFO},
		{slog.LevelWarn, C.MCP_LOG_LEVEL_WARN},
		{slog.LevelError, C.MCP_LOG_LEVEL_ERROR},
	} {
		if l.Enabled(ctx, c.slog) {
			return c.c
		}
	}
	return C.MCP_LOG_LEVEL_OFF
}

// slogLevel is the slog level of a library level.
func slogLevel(level C.int32_t) slog.Level {
	switch level {
	case C.MCP_LOG_LEVEL_ERROR:
		return slog.LevelError
	case C.MCP_LOG_LEVEL_WARN:
		return slog.LevelWarn
	case C.MCP_LOG_LEVEL_INFO:
		return slog.LevelInfo
	case C.MCP_LOG_LEVEL_DEBUG:
		return slog.LevelDebug
	default:
		return LevelTrace
	}
}

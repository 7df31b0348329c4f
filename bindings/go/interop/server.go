package interop

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Scopes are the scopes the Go servers advertise; every token must carry RequiredScope.
var Scopes = []string{"mcp:read", "mcp:write"}

// RequiredScope is the scope a token needs to reach the Go servers' /mcp.
const RequiredScope = "mcp:read"

// Server is a running Go MCP server behind OAuth, with its authorization server.
type Server struct {
	// Name is "go-sdk" or "mcp-go".
	Name string
	// URL is the MCP endpoint, http://127.0.0.1:PORT/mcp (also the OAuth resource).
	URL string
	// MetadataURL is where its protected resource metadata is served.
	MetadataURL string
	// AS is the authorization server whose tokens it accepts.
	AS *AuthServer

	srv *http.Server
	// Counters of the protected endpoint's answers.
	admitted, refused atomic.Int64
	// notes counts the JSON-RPC notifications written on any response of /mcp (the POST
	// responses and the standalone GET stream).
	notes atomic.Int64
}

// Admitted is how many requests to /mcp carried a token the server accepted.
func (s *Server) Admitted() int64 { return s.admitted.Load() }

// Refused is how many requests to /mcp were refused with 401 (or 403).
func (s *Server) Refused() int64 { return s.refused.Load() }

// Close stops the HTTP server (at once: its connections are closed, streams and all) and
// the authorization server.
func (s *Server) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
	if s.AS != nil {
		s.AS.Close()
	}
}

// counting wraps the protected handler to count what it admitted and refused, and the
// notifications the responses carry (see awaitWritten).
func (s *Server) counting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &statusWriter{ResponseWriter: w, written: &s.notes}
		r = r.WithContext(context.WithValue(r.Context(), writtenKey{}, &s.notes))
		h.ServeHTTP(cw, r)
		if cw.status == http.StatusUnauthorized || cw.status == http.StatusForbidden {
			s.refused.Add(1)
		} else {
			s.admitted.Add(1)
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	// written counts the JSON-RPC notifications written (Server.notes).
	written *atomic.Int64
}

type writtenKey struct{}

var notificationMark = []byte(`"method":"notifications/`)

// notesWritten is how many notifications the server of the request of ctx has written.
func notesWritten(ctx context.Context) int64 {
	if written, _ := ctx.Value(writtenKey{}).(*atomic.Int64); written != nil {
		return written.Load()
	}
	return 0
}

// awaitWritten waits (up to 5 s) until the server of the request of ctx has written target
// notifications in all, on the request's response or on the session's GET stream (a
// stateful mcp-go session hands a notification to whichever takes it first). The count is
// server-wide: good for the tests' one call at a time.
func awaitWritten(ctx context.Context, target int64) {
	written, _ := ctx.Value(writtenKey{}).(*atomic.Int64)
	if written == nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for written.Load() < target && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written.Add(int64(bytes.Count(p, notificationMark)))
	return n, err
}

// Flush passes flushes through (the servers stream SSE).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// start starts the listener's HTTP server with mux, and the authorization server.
func start(name string, ttl time.Duration, build func(s *Server) (http.Handler, error)) (*Server, error) {
	l, mcpURL, err := Listen()
	if err != nil {
		return nil, err
	}
	as, err := StartAuthServer(mcpURL, ttl)
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	origin := strings.TrimSuffix(mcpURL, "/mcp")
	s := &Server{
		Name:        name,
		URL:         mcpURL,
		MetadataURL: origin + "/.well-known/oauth-protected-resource/mcp",
		AS:          as,
	}
	h, err := build(s)
	if err != nil {
		_ = l.Close()
		as.Close()
		return nil, err
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			panic(err)
		}
	}()
	return s, nil
}

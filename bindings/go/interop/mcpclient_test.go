package interop

// The mcpclient package against the Go ecosystem's servers: OAuth sign-in (headless, memory
// store) through each server's protected resource metadata to the project's test
// authorization server, tools/list and tools/call, notifications during a call, and a token
// refresh after the access token expired.

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	mcpclient "github.com/mcp-client/mcp-client/bindings/go"
)

// recorder keeps what the client's callbacks received.
type recorder struct {
	mu     sync.Mutex
	events []string
	notes  chan note
}

type note struct {
	method string
	params json.RawMessage
}

func newRecorder() *recorder { return &recorder{notes: make(chan note, 64)} }

func (r *recorder) event(e mcpclient.AuthEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e.Event)
}

func (r *recorder) eventCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e == name {
			n++
		}
	}
	return n
}

func (r *recorder) allEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) notification(method string, params json.RawMessage) {
	select {
	case r.notes <- note{method, append(json.RawMessage(nil), params...)}:
	default:
	}
}

// waitNote waits for a notification of method whose params satisfy ok.
func (r *recorder) waitNote(t *testing.T, method string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-r.notes:
			if n.method != method {
				continue
			}
			var p map[string]any
			if err := json.Unmarshal(n.params, &p); err != nil {
				t.Fatalf("%s params %s: %v", method, n.params, err)
			}
			if ok(p) {
				return p
			}
		case <-deadline:
			t.Fatalf("no %s notification within 10 s", method)
			return nil
		}
	}
}

// clientCase is a server and the protocol version the client pins ("": negotiated; the
// client then speaks 2026-07-28 to mcp-go, which offers it, and 2025-11-25 to the Go SDK).
type clientCase struct {
	kind    serverKind
	version string
}

func (c clientCase) name() string {
	if c.version == "" {
		return c.kind.name
	}
	return c.kind.name + "@" + c.version
}

var clientCases = []clientCase{
	{serverKinds[0], ""},
	{serverKinds[1], ""},
	{serverKinds[1], "2025-11-25"},
}

func connect(t *testing.T, ctx context.Context, s *Server, version string, rec *recorder) *mcpclient.Client {
	t.Helper()
	opts := []mcpclient.Option{mcpclient.WithClientInfo("mcpclient-interop", "0")}
	if version != "" {
		opts = append(opts, mcpclient.WithProtocolVersion(version))
	}
	c, err := mcpclient.New(ctx, s.URL, append(opts,
		mcpclient.WithOAuth(mcpclient.OAuth{
			Headless: true,
			Store:    mcpclient.StoreMemory,
			OnEvent:  rec.event,
		}),
		mcpclient.WithNotificationHandler(rec.notification),
	)...)
	if err != nil {
		t.Fatalf("connect to the %s server: %v", s.Name, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}

	})
	return c
}

func echo(t *testing.T, ctx context.Context, c *mcpclient.Client, text string) {
	t.Helper()
	res, err := c.CallTool(ctx, "echo", map[string]any{"text": text})
	if err != nil {
		t.Fatalf("echo: %v", err)
	}
	if res.IsError || res.Text() != text {
		t.Fatalf("echo returned %s", res.Raw)
	}
}

func TestSignInListCallAndNotifications(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name(), func(t *testing.T) {
			s := startServer(t, cc.kind, 0)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rec := newRecorder()
			c := connect(t, ctx, s, cc.version, rec)

			st, err := c.AuthStatus()
			if err != nil {
				t.Fatal(err)
			}
			if !st.HasToken || !st.HasRefreshToken || st.Resource != s.URL || st.Issuer != s.AS.Issuer {
				t.Fatalf("auth status %+v (server %s, issuer %s)", st, s.URL, s.AS.Issuer)
			}
			if !slices.Contains(st.Scopes, RequiredScope) {
				t.Fatalf("granted scopes %v lack %s", st.Scopes, RequiredScope)
			}
			if rec.eventCount("signed_in") != 1 {
				t.Fatalf("auth events %v", rec.allEvents())
			}

			tools, err := c.ListTools(ctx)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			var names []string
			for _, tool := range tools {
				names = append(names, tool.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"echo", "whoami"}) {
				t.Fatalf("tools %v", names)
			}

			info, err := c.ServerInfo()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s server %s: protocol %s over %s", s.Name, info.Server.ServerInfo.Name,
				info.ProtocolVersion, info.Transport)
			// The Go SDK sends log messages only once the client has set a level (a request
			// of the stateful protocol versions; 2026-07-28 has none).
			if cc.version != "" && info.ProtocolVersion != cc.version {
				t.Fatalf("protocol %s, pinned %s", info.ProtocolVersion, cc.version)
			}
			if info.ProtocolVersion < "2026-07-28" {
				if _, err := c.Call(ctx, "logging/setLevel", map[string]any{"level": "debug"}); err != nil {
					t.Fatalf("logging/setLevel: %v", err)
				}
			}
			echo(t, ctx, c, "hello from Go")
			rec.waitNote(t, "notifications/message", func(p map[string]any) bool {
				return p["data"] == "echo: hello from Go" && p["level"] == "info" && p["logger"] == s.Name
			})

			// Progress, with a token of the caller's (through the generic call).
			raw, err := c.Call(ctx, "tools/call", map[string]any{
				"name": "echo", "arguments": map[string]any{"text": "with progress"},
				"_meta": map[string]any{"progressToken": "p-7"},
			})
			if err != nil {
				t.Fatalf("tools/call with a progress token: %v", err)
			}
			var res mcpclient.CallToolResult
			if err := json.Unmarshal(raw, &res); err != nil || res.Text() != "with progress" {
				t.Fatalf("tools/call returned %s (%v)", raw, err)
			}
			rec.waitNote(t, "notifications/progress", func(p map[string]any) bool {
				return p["progressToken"] == "p-7" && p["progress"] == 1.0 && p["total"] == 2.0
			})

			// The token the server saw is the one the client holds.
			who, err := c.CallTool(ctx, "whoami", nil)
			if err != nil || who.IsError {
				t.Fatalf("whoami: %v %s", err, who.Raw)
			}
			var w WhoAmI
			if err := json.Unmarshal(who.StructuredContent, &w); err != nil {
				t.Fatalf("whoami structured content %s: %v", who.StructuredContent, err)
			}
			if w.ClientID != st.ClientID || !slices.Equal(w.Scopes, st.Scopes) {
				t.Fatalf("server saw %+v, client holds %+v", w, st)
			}

			stats, err := s.AS.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stats.Registrations != 1 || stats.AuthorizeRequests != 1 ||
				stats.TokenRequests["authorization_code"] != 1 || stats.TokenRequests["refresh_token"] != 0 {
				t.Fatalf("authorization server stats %+v", stats)
			}
			if s.Refused() < 1 {
				t.Fatalf("the server refused nothing: the client signed in unasked?")
			}
		})
	}
}

// After every access token expired at the authorization server, the next call is refused
// (401), and the client refreshes and retries it: no second sign-in, same session.
func TestRefreshAfterTokensExpire(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name(), func(t *testing.T) {
			s := startServer(t, cc.kind, 0)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rec := newRecorder()
			c := connect(t, ctx, s, cc.version, rec)
			echo(t, ctx, c, "before")
			before := s.Refused()
			info, err := c.ServerInfo()
			if err != nil {
				t.Fatal(err)
			}

			if err := s.AS.ExpireTokens(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				echo(t, ctx, c, "after "+string(rune('a'+i)))
			}
			if s.Refused() != before+1 {
				t.Fatalf("refused %d times after expiry, want 1", s.Refused()-before)
			}
			stats, err := s.AS.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stats.TokenRequests["refresh_token"] != 1 || stats.TokenRequests["authorization_code"] != 1 ||
				stats.AuthorizeRequests != 1 {
				t.Fatalf("authorization server stats %+v", stats)
			}
			if rec.eventCount("token_refreshed") != 1 || rec.eventCount("signed_in") != 1 {
				t.Fatalf("auth events %v", rec.allEvents())
			}
			after, err := c.ServerInfo()
			if err != nil {
				t.Fatal(err)
			}
			if after.SessionID != info.SessionID {
				t.Fatalf("session %q became %q", info.SessionID, after.SessionID)
			}
		})
	}
}

// With access tokens that live 2 s, a client used past that keeps working on refreshed
// tokens without signing in again.
func TestShortLivedTokens(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name(), func(t *testing.T) {
			s := startServer(t, cc.kind, 2*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rec := newRecorder()
			c := connect(t, ctx, s, cc.version, rec)
			echo(t, ctx, c, "first")
			time.Sleep(2500 * time.Millisecond)
			echo(t, ctx, c, "second")
			if _, err := c.ListTools(ctx); err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			stats, err := s.AS.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stats.TokenRequests["refresh_token"] < 1 || stats.TokenRequests["authorization_code"] != 1 ||
				stats.AuthorizeRequests != 1 {
				t.Fatalf("authorization server stats %+v", stats)
			}
			if rec.eventCount("signed_in") != 1 || rec.eventCount("token_refreshed") < 1 {
				t.Fatalf("auth events %v", rec.allEvents())
			}
		})
	}
}

package interop

// Checks of the Go servers themselves, without the mcpclient package: the 401 challenge,
// the protected resource metadata, the audience check, and a token obtained by hand at the
// test authorization server used by the Go SDK's own client.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	mcpgotransport "github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type serverKind struct {
	name  string
	start func(ttl time.Duration) (*Server, error)
}

var serverKinds = []serverKind{
	{"go-sdk", StartGoSDKServer},
	{"mcp-go", StartMCPGoServer},
}

func startServer(t *testing.T, k serverKind, ttl time.Duration) *Server {
	t.Helper()
	s, err := k.start(ttl)
	if err != nil {
		t.Fatalf("start %s server: %v", k.name, err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("mcp-test-server stderr:\n%s", s.AS.Stderr())
		}
	})
	return s
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// handToken runs the authorization code flow with PKCE by hand at the server's authorization
// server (registration, /authorize, /token) and returns the access token.
func handToken(t *testing.T, s *Server) string {
	t.Helper()
	const redirect = "http://127.0.0.1:33333/callback"
	body := `{"client_name":"hand","redirect_uris":["` + redirect + `"],` +
		`"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none"}`
	resp, err := http.Post(s.AS.Issuer+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if reg.ClientID == "" {
		t.Fatalf("registration: HTTP %d", resp.StatusCode)
	}
	buf := make([]byte, 32)
	_, _ = rand.Read(buf)
	verifier := base64.RawURLEncoding.EncodeToString(buf)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirect},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"state": {"s"}, "resource": {s.URL}, "scope": {"mcp:read"},
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(s.AS.Issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: HTTP %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "client_id": {reg.ClientID}, "resource": {s.URL},
	}
	resp, err = http.PostForm(s.AS.Issuer+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if tok.AccessToken == "" {
		t.Fatalf("token: HTTP %d", resp.StatusCode)
	}
	return tok.AccessToken
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestServersChallengeAndServeMetadata(t *testing.T) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			s := startServer(t, k, 0)
			for _, auth := range []string{"", "Bearer not-a-token"} {
				req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				challenge := resp.Header.Get("WWW-Authenticate")
				if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") ||
					!strings.Contains(challenge, fmt.Sprintf("resource_metadata=%q", s.MetadataURL)) {
					t.Fatalf("auth %q: HTTP %d, WWW-Authenticate %q", auth, resp.StatusCode, challenge)
				}
			}
			var prm struct {
				Resource             string   `json:"resource"`
				AuthorizationServers []string `json:"authorization_servers"`
				ScopesSupported      []string `json:"scopes_supported"`
			}
			getJSON(t, s.MetadataURL, &prm)
			if prm.Resource != s.URL || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != s.AS.Issuer {
				t.Fatalf("metadata: %+v (server %s, issuer %s)", prm, s.URL, s.AS.Issuer)
			}
			var asm struct {
				Issuer                string `json:"issuer"`
				IntrospectionEndpoint string `json:"introspection_endpoint"`
			}
			getJSON(t, s.AS.Issuer+"/.well-known/oauth-authorization-server", &asm)
			if asm.Issuer != s.AS.Issuer || asm.IntrospectionEndpoint != s.AS.Issuer+"/introspect" {
				t.Fatalf("authorization server metadata: %+v", asm)
			}
		})
	}
}

func TestIntrospectionChecksTheAudience(t *testing.T) {
	s := startServer(t, serverKinds[0], 0)
	token := handToken(t, s)
	ctx := context.Background()
	if _, err := s.AS.Introspect(ctx, token); err != nil {
		t.Fatalf("own token: %v", err)
	}
	other := *s.AS
	other.Resource = "http://127.0.0.1:1/mcp"
	if _, err := other.Introspect(ctx, token); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("a token for another resource was accepted: %v", err)
	}
}

// Each server works with its own SDK's client and a token obtained by hand: what the
// mcpclient tests rely on is the servers' doing, not theirs.
func TestGoSDKServerWithTheGoSDKClient(t *testing.T) {
	s := startServer(t, serverKinds[0], 0)
	token := handToken(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	logs := make(chan string, 4)
	progress := make(chan float64, 4)
	client := mcp.NewClient(&mcp.Implementation{Name: "sdk-check", Version: "0"}, &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			logs <- fmt.Sprint(r.Params.Data)
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			progress <- r.Params.Progress
		},
	})
	transport := &mcp.StreamableClientTransport{
		Endpoint:   s.URL,
		HTTPClient: &http.Client{Transport: bearerTransport{token}},
	}
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		t.Fatalf("setLevel: %v", err)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 2 {
		t.Fatalf("tools/list: %v %+v", err, tools)
	}
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}
	params.SetProgressToken("p1")
	res, err := cs.CallTool(ctx, params)
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "hi" {
		t.Fatalf("echo: %v %+v", err, res)
	}
	expect(t, ctx, logs, "echo: hi")
	expect(t, ctx, progress, 1)
}

func TestMCPGoServerWithTheMCPGoClient(t *testing.T) {
	s := startServer(t, serverKinds[1], 0)
	token := handToken(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := mcpgoclient.NewStreamableHttpClient(s.URL,
		mcpgotransport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logs := make(chan string, 4)
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		if n.Method == "notifications/message" {
			logs <- fmt.Sprint(n.Params.AdditionalFields["data"])
		}
	})
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	init := mcpgo.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-11-25"
	init.Params.ClientInfo = mcpgo.Implementation{Name: "mcp-go-check", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	tools, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil || len(tools.Tools) != 2 {
		t.Fatalf("tools/list: %v %+v", err, tools)
	}
	call := mcpgo.CallToolRequest{}
	call.Params.Name = "echo"
	call.Params.Arguments = map[string]any{"text": "hi"}
	res, err := c.CallTool(ctx, call)
	if err != nil || res.IsError {
		t.Fatalf("echo: %v %+v", err, res)
	}
	if text := res.Content[0].(mcpgo.TextContent).Text; text != "hi" {
		t.Fatalf("echo returned %q", text)
	}
	expect(t, ctx, logs, "echo: hi")
}

func expect[T comparable](t *testing.T, ctx context.Context, ch <-chan T, want T) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("got %v, want %v", got, want)
		}
	case <-ctx.Done():
		t.Fatalf("nothing came (wanted %v)", want)
	}
}

// Package interop runs MCP servers from the Go MCP ecosystem (the official Go SDK and
// mark3labs/mcp-go) behind OAuth, for the tests of the mcpclient package against them. The
// authorization server is the project's test server (mcp-test-server --oauth), started as a
// process; the Go servers check its opaque tokens at its RFC 7662 introspection endpoint.
package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// AuthServer is a running mcp-test-server --oauth process used as the authorization server.
type AuthServer struct {
	// Issuer is the authorization server's issuer (the test server's origin).
	Issuer string
	// Resource is the protected resource it issues tokens for (the Go server's MCP URL).
	Resource string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   *lockedBuffer
	done     chan struct{}
}

// TestServerBinary is the path of mcp-test-server: $MCP_TEST_SERVER, else
// target/debug/mcp-test-server at the repository root.
func TestServerBinary() string {
	if p := os.Getenv("MCP_TEST_SERVER"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	return filepath.Join(root, "target", "debug", "mcp-test-server")
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartAuthServer starts mcp-test-server --oauth issuing tokens for resource (an absolute
// URL), with access tokens living ttl (0: the server's default, an hour). The process ends
// when Close is called (or when this process dies: it exits when its stdin closes).
func StartAuthServer(resource string, ttl time.Duration) (*AuthServer, error) {
	bin := TestServerBinary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s is missing (cargo build -p mcp-test-server): %w", bin, err)
	}
	args := []string{"--oauth", "--resource", resource, "--exit-on-eof", "--no-record"}
	if ttl > 0 {
		args = append(args, "--token-ttl", fmt.Sprint(int(ttl/time.Second)))
	}
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	as := &AuthServer{Resource: resource, cmd: cmd, stdin: stdin, stderr: stderr, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(as.done)
	}()
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		u, err := url.Parse(line)
		if err != nil || u.Host == "" {
			as.Close()
			return nil, fmt.Errorf("mcp-test-server printed %q; stderr: %s", line, stderr.String())
		}
		as.Issuer = u.Scheme + "://" + u.Host
		return as, nil
	case <-time.After(20 * time.Second):
		as.Close()
		return nil, fmt.Errorf("mcp-test-server printed no URL in 20 s; stderr: %s", stderr.String())
	}
}

// Close stops the process (stdin closed, then SIGKILL after 5 s).
func (as *AuthServer) Close() {
	_ = as.stdin.Close()
	select {
	case <-as.done:
	case <-time.After(5 * time.Second):
		_ = as.cmd.Process.Kill()
		<-as.done
	}
}

// Stderr is what the process wrote to stderr so far.
func (as *AuthServer) Stderr() string { return as.stderr.String() }

// ExpireTokens makes every access token issued so far expire now (refresh tokens stay).
func (as *AuthServer) ExpireTokens(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.Issuer+"/debug/expire-tokens", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("expire-tokens: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stats is the authorization server's counters (GET /debug/auth-stats).
type Stats struct {
	AuthorizeRequests int            `json:"authorize_requests"`
	TokenRequests     map[string]int `json:"token_requests"`
	Registrations     int            `json:"registrations"`
	Revocations       int            `json:"revocations"`
}

// Stats fetches the counters.
func (as *AuthServer) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, as.Issuer+"/debug/auth-stats", nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

// Introspection is an RFC 7662 introspection response of the test authorization server.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope"`
	ClientID  string `json:"client_id"`
	TokenType string `json:"token_type"`
	Exp       int64  `json:"exp"`
	Aud       string `json:"aud"`
	Iss       string `json:"iss"`
}

// ErrInactive is returned by Introspect for a token the authorization server does not
// consider active.
var ErrInactive = errors.New("token is not active")

// Introspect asks the authorization server about an access token, and checks that it is
// active, issued by this server and meant for this resource (its audience).
func (as *AuthServer) Introspect(ctx context.Context, token string) (*Introspection, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.Issuer+"/introspect",
		strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("introspection: HTTP %d: %s", resp.StatusCode, body)
	}
	var in Introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&in); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	switch {
	case !in.Active:
		return nil, ErrInactive
	case in.Iss != as.Issuer:
		return nil, fmt.Errorf("%w: issued by %q", ErrInactive, in.Iss)
	case in.Aud != as.Resource:
		// The MCP audience check: a token for another resource is no good here.
		return nil, fmt.Errorf("%w: audience %q is not %q", ErrInactive, in.Aud, as.Resource)
	case in.TokenType != "" && !strings.EqualFold(in.TokenType, "Bearer"):
		return nil, fmt.Errorf("%w: token type %q", ErrInactive, in.TokenType)
	}
	return &in, nil
}

// Listen opens a listener on 127.0.0.1 with an ephemeral port and returns it with the MCP
// URL a server on it will have (http://127.0.0.1:PORT/mcp).
func Listen() (net.Listener, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return l, "http://" + l.Addr().String() + "/mcp", nil
}

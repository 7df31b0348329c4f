package mcpclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The project's test server (target/debug/mcp-test-server, or $MCP_TEST_SERVER) as a real
// process on 127.0.0.1: it prints its MCP URL on its first line of stdout.

func serverBinary(t testing.TB) string {
	if p := os.Getenv("MCP_TEST_SERVER"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "target", "debug", "mcp-test-server"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the test server is missing at %s: run `cargo build -p mcp-test-server`", p)
	}
	return p
}

type testServer struct {
	URL    string // the MCP endpoint
	Origin string // scheme://host:port, for the /debug routes
	cmd    *exec.Cmd
}

// startServer starts a test server with flags, stopped when the test ends.
func startServer(t testing.TB, flags ...string) *testServer {
	t.Helper()
	cmd := exec.Command(serverBinary(t), append([]string{"--no-record"}, flags...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the test server printed no URL: %v", err)
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("unexpected first line from the test server: %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &testServer{URL: url, Origin: url[:strings.LastIndex(url, "/")], cmd: cmd}
}

var shared *testServer

// sharedServer is one plain server for the tests that need nothing of their own (started by
// TestMain).
func sharedServer(t testing.TB) *testServer {
	if shared == nil {
		t.Fatal("the shared test server did not start")
	}
	return shared
}

func TestMain(m *testing.M) {
	// Nothing here may open a real browser, and the tests pick their stores.
	os.Setenv("BROWSER", "true")
	os.Unsetenv("MCP_CLIENT_STORE")
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	path := os.Getenv("MCP_TEST_SERVER")
	if path == "" {
		path = filepath.Join("..", "..", "target", "debug", "mcp-test-server")
	}
	cmd := exec.Command(path, "--no-record")
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot start the test server %s: %v (run `cargo build -p mcp-test-server`)\n", path, err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fmt.Fprintf(os.Stderr, "the test server printed no URL: %v\n", err)
		return 1
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	url := strings.TrimSpace(line)
	shared = &testServer{URL: url, Origin: url[:strings.LastIndex(url, "/")], cmd: cmd}
	// For the examples, in the external test package.
	os.Setenv("MCPCLIENT_EXAMPLE_URL", url)
	return m.Run()
}

// debug calls a /debug route of the server and decodes its JSON answer into v (v nil: none).
func (s *testServer) debug(t testing.TB, method, what string, v any) {
	t.Helper()
	req, err := http.NewRequest(method, s.Origin+"/debug/"+what, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s /debug/%s: %s %s", method, what, resp.Status, body)
	}
	if v != nil && len(body) > 0 {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("/debug/%s: %v in %s", what, err, body)
		}
	}
}

type authStats struct {
	AuthorizeRequests    int            `json:"authorize_requests"`
	TokenRequests        map[string]int `json:"token_requests"`
	Registrations        int            `json:"registrations"`
	DeviceAuthorizations int            `json:"device_authorizations"`
	Revocations          int            `json:"revocations"`
}

func (s *testServer) authStats(t testing.TB) authStats {
	var st authStats
	s.debug(t, "GET", "auth-stats", &st)
	return st
}

// cancelled is what /debug/cancelled lists: the ids seen in notifications/cancelled.
func (s *testServer) cancelled(t testing.TB) []json.RawMessage {
	var ids []json.RawMessage
	s.debug(t, "GET", "cancelled", &ids)
	return ids
}

// visit is what a browser does with an authorization URL the server approves at once:
// follow the redirects, to the loopback listener in the end. It runs in a goroutine, since
// the listener answers only once the presenter has returned.
func visit(url string, done chan<- error) {
	go func() {
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("the browser ended on %s", resp.Status)
			}
		}
		if done != nil {
			done <- err
		}
	}()
}

// browser is a Presenter that plays the user's browser, counting sign-ins.
type browser struct {
	mu   sync.Mutex
	urls []string
	errs chan error
}

func newBrowser() *browser { return &browser{errs: make(chan error, 16)} }

func (b *browser) present(authURL, redirectURI string) (string, error) {
	if !strings.HasPrefix(redirectURI, "http://127.0.0.1:") {
		return "", fmt.Errorf("unexpected redirect URI %q", redirectURI)
	}
	b.mu.Lock()
	b.urls = append(b.urls, authURL)
	b.mu.Unlock()
	visit(authURL, b.errs)
	return "", nil
}

func (b *browser) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.urls)
}

// mapStore is a CredentialStore in a map, as a host would write one.
type mapStore struct {
	mu      sync.Mutex
	entries map[string]string
	calls   []string
}

func newMapStore() *mapStore { return &mapStore{entries: map[string]string{}} }

func (s *mapStore) Load(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "load")
	v, ok := s.entries[key]
	return v, ok, nil
}

func (s *mapStore) Save(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "save")
	s.entries[key] = value
	return nil
}

func (s *mapStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "delete")
	delete(s.entries, key)
	return nil
}

func (s *mapStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// testCtx is a context bounded for one test step.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustNew connects to url or fails the test; the client is closed when the test ends.
func mustNew(t testing.TB, url string, opts ...Option) *Client {
	t.Helper()
	c, err := New(testCtx(t), url, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

package mcpclient

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startRedis runs a real redis-server on a free loopback port until the test ends. Without
// redis-server the test is skipped, unless MCP_REDIS_TESTS=1 (CI) makes that a failure.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("MCP_REDIS_TESTS") == "1" {
			t.Fatal("MCP_REDIS_TESTS=1: redis-server is required")
		}
		t.Skip("redis-server not found (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--logfile", dir+"/redis.log")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port)
}

// Hosts sharing a Redis store: one signs in, another starts warm (no sign-in), a bad URL is
// refused when the client is made, and a Redis that is not there is an ErrAuth naming it.
func TestRedisStoreSharedByHosts(t *testing.T) {
	redis := startRedis(t)
	srv := startServer(t, "--oauth")
	ctx := testCtx(t)
	store := redis + "?prefix=go-test"
	first := mustNew(t, srv.URL, WithOAuth(OAuth{Headless: true, StoreURL: store}))
	if r, err := first.CallTool(ctx, "echo", map[string]string{"text": "first"}); err != nil || r.Text() != "first" {
		t.Fatalf("echo: %+v %v", r, err)
	}
	first.Close()
	refuse := func(string, string) (string, error) { return "", errors.New("no sign-in expected") }
	second := mustNew(t, srv.URL, WithOAuth(OAuth{Presenter: refuse, StoreURL: store}))
	if r, err := second.CallTool(ctx, "echo", map[string]string{"text": "warm"}); err != nil || r.Text() != "warm" {
		t.Fatalf("echo from the warm host: %+v %v", r, err)
	}
	second.Close()
	if n := srv.authStats(t).AuthorizeRequests; n != 1 {
		t.Errorf("%d authorizations, want 1", n)
	}

	_, err := New(ctx, srv.URL, WithOAuth(OAuth{StoreURL: "redis://u:hunter2@127.0.0.1:1/0?lease_ms=often"}))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "lease_ms") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad store URL: %v", err)
	}
	_, err = New(ctx, srv.URL, WithOAuth(OAuth{StoreURL: store, Store: StoreMemory}))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("StoreURL with Store: %v", err)
	}
	_, err = New(ctx, srv.URL, WithOAuth(OAuth{Presenter: refuse, StoreURL: "redis://127.0.0.1:1/0?timeout_ms=500"}))
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "redis://127.0.0.1:1/0") || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("Redis down: %v", err)
	}
}

// benches/compare peer driver: mcp-go (github.com/mark3labs/mcp-go) with its streamable HTTP
// client (client.NewStreamableHttpClient) and the bearer token through its documented header
// option transport.WithHTTPHeaders; everything else (its HTTP client: Go's default stack) at its
// defaults. K calls in flight = K goroutines sharing the one *client.Client.
// --auth cold|warm|storm: its own OAuth client (client.NewOAuthStreamableHttpClient with a
// transport.OAuthConfig and a TokenStore over one JSON file). --hold N: N clients at once.
// Contract: benches/compare/README.md. Only the RESULT line goes to stdout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

const modPath = "github.com/mark3labs/mcp-go"

func libVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == modPath {
				return d.Version
			}
		}
	}
	return "unknown"
}

func rusage() (cpuUs int64, maxrssKb int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000, ru.Maxrss
}

func pct(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(len(s)-1, i))]
}

var firstErr atomic.Pointer[error]

func echoCall(ctx context.Context, cs *client.Client) bool {
	req := mcp.CallToolRequest{}
	req.Params.Name = "echo"
	req.Params.Arguments = map[string]any{"text": "hello"}
	r, err := cs.CallTool(ctx, req)
	if err == nil {
		if !r.IsError && len(r.Content) > 0 {
			if t, ok := mcp.AsTextContent(r.Content[0]); ok && t.Type == "text" && t.Text == "hello" {
				return true
			}
		}
		b, _ := json.Marshal(r)
		err = fmt.Errorf("unexpected result: %s", b)
	}
	firstErr.CompareAndSwap(nil, &err)
	return false
}

// runCalls makes n calls with k goroutines sharing cs; returns the successes and latencies (µs).
func runCalls(ctx context.Context, cs *client.Client, n, k int) (int, []float64) {
	var next, ok atomic.Int64
	var mu sync.Mutex
	lat := make([]float64, 0, n)
	var wg sync.WaitGroup
	for w := 0; w < min(k, max(n, 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]float64, 0, n/k+1)
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				good := echoCall(ctx, cs)
				local = append(local, float64(time.Since(t0).Nanoseconds())/1000)
				if good {
					ok.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return int(ok.Load()), lat
}

func main() {
	url := flag.String("url", "", "MCP endpoint")
	token := flag.String("token", "", "bearer token")
	calls := flag.Int("calls", 1000, "timed calls")
	inflight := flag.Int("inflight", 1, "calls in flight")
	warmup := flag.Int("warmup", 0, "warm-up calls")
	authMode := flag.String("auth", "", "cold|warm|storm: the OAuth scenarios")
	store := flag.String("store", "", "directory holding the OAuth state (--auth)")
	expireURL := flag.String("expire-url", "", "URL to POST to expire every token (--auth storm)")
	hold := flag.Int("hold", 0, "memory scenario: N clients held open at once")
	flag.Parse()
	if *authMode != "" {
		os.Exit(runAuth(*authMode, *url, *store, *calls, *expireURL))
	}
	if *hold > 0 {
		os.Exit(runHold(*hold, *url, *token))
	}
	k := max(1, *inflight)
	ctx := context.Background()

	ok, wallUs, cpuUs := 0, int64(0), int64(0)
	var lat []float64
	func() {
		cs, err := client.NewStreamableHttpClient(*url,
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + *token}))
		if err != nil {
			fmt.Fprintln(os.Stderr, "new client:", err)
			return
		}
		defer func() {
			if err := cs.Close(); err != nil { // DELETEs the session
				fmt.Fprintln(os.Stderr, "close:", err)
			}
		}()
		if err := cs.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "start:", err)
			return
		}
		initReq := mcp.InitializeRequest{}
		initReq.Params.ClientInfo = mcp.Implementation{Name: "compare-mcp-go", Version: "0.0.0"}
		if _, err := cs.Initialize(ctx, initReq); err != nil {
			fmt.Fprintln(os.Stderr, "initialize:", err)
			return
		}
		if *warmup > 0 {
			if wok, _ := runCalls(ctx, cs, *warmup, k); wok != *warmup {
				fmt.Fprintf(os.Stderr, "warm-up: %d/%d ok\n", wok, *warmup)
			}
			firstErr.Store(nil)
		}
		c0, _ := rusage()
		t0 := time.Now()
		ok, lat = runCalls(ctx, cs, *calls, k)
		wallUs = time.Since(t0).Microseconds()
		c1, _ := rusage()
		cpuUs = c1 - c0
		if e := firstErr.Load(); e != nil {
			fmt.Fprintln(os.Stderr, "first error:", *e)
		}
	}()
	sort.Float64s(lat)
	_, rss := rusage()
	// A struct, not a map, so the keys come out in the contract's order.
	out, _ := json.Marshal(struct {
		Client    string  `json:"client"`
		Version   string  `json:"version"`
		Calls     int     `json:"calls"`
		OK        int     `json:"ok"`
		WallUs    int64   `json:"wall_us"`
		P50Us     float64 `json:"p50_us"`
		P99Us     float64 `json:"p99_us"`
		CPUUs     int64   `json:"cpu_us"`
		PeakRSSKb int64   `json:"peak_rss_kb"`
	}{"mcp-go", libVersion(), *calls, ok, wallUs, math.Round(pct(lat, 0.5)*10) / 10,
		math.Round(pct(lat, 0.99)*10) / 10, cpuUs, rss})
	fmt.Println("RESULT " + string(out))
	if ok != *calls {
		os.Exit(1)
	}
}

// ---- --auth cold|warm|storm --------------------------------------------------------------
//
// mcp-go's OAuth client: client.NewOAuthStreamableHttpClient(url, transport.OAuthConfig{...})
// puts a transport.OAuthHandler in the transport. Every request takes its Authorization header
// from the handler (GetAuthorizationHeader: the TokenStore's token; when that token's own
// ExpiresAt has passed and it has a refresh token, one shared refresh). With no usable token,
// or on a 401, the request fails with OAuthAuthorizationRequiredError and the application runs
// the sign-in itself with the handler from client.GetOAuthHandler(err), as the library's
// examples/oauth_client does: RegisterClient (when it has no client ID), GetAuthorizationURL
// (with its own PKCE challenge and state), the browser step (here one GET of that URL, the
// redirect not followed, code and state read from its Location), ProcessAuthorizationResponse
// (the code exchange; the token goes to the TokenStore), then the same request again.
// Persistence: transport.TokenStore implemented over one JSON file in DIR, which also keeps the
// registration (GetClientID/GetClientSecret/GetTokenEndpointAuthMethod, as the library's docs
// suggest saving) that a warm start passes back in OAuthConfig.

type savedClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	AuthMethod   string `json:"token_endpoint_auth_method,omitempty"`
	RedirectURI  string `json:"redirect_uri"`
}

type savedState struct {
	Client *savedClient     `json:"client,omitempty"`
	Token  *transport.Token `json:"token,omitempty"`
}

// fileTokenStore implements transport.TokenStore over one JSON file in DIR (kept in memory,
// written through on every save; writes go to a temporary file renamed over it).
type fileTokenStore struct {
	path  string
	mu    sync.RWMutex
	state savedState
}

var _ transport.TokenStore = (*fileTokenStore)(nil)

func openStore(dir string) (*fileTokenStore, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	s := &fileTokenStore{path: filepath.Join(dir, "mcp-go-oauth.json")}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.state); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return s, nil
}

func (s *fileTokenStore) GetToken(ctx context.Context) (*transport.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.state.Token == nil {
		return nil, transport.ErrNoToken
	}
	return s.state.Token, nil
}

func (s *fileTokenStore) SaveToken(ctx context.Context, t *transport.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Token = t
	return s.writeLocked()
}

func (s *fileTokenStore) saveClient(c *savedClient) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Client = c
	return s.writeLocked()
}

func (s *fileTokenStore) writeLocked() error {
	b, err := json.MarshalIndent(&s.state, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// freeRedirectURL is http://127.0.0.1:PORT/callback on a port free right now (the driver reads
// the code from the authorization response itself, so nothing listens on it).
func freeRedirectURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprintf("http://127.0.0.1:%d/callback", l.Addr().(*net.TCPAddr).Port), nil
}

// noRedirect is the plain HTTP client of the headless sign-in: one GET, redirects not followed.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// signIn is the application's part of mcp-go's authorization code flow, as in its
// examples/oauth_client, with the browser replaced by one GET of the authorization URL.
func signIn(ctx context.Context, h *transport.OAuthHandler, st *fileTokenStore, redirect string) error {
	if h.GetClientID() == "" {
		if err := h.RegisterClient(ctx, "compare-mcp-go"); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	verifier, err := client.GenerateCodeVerifier()
	if err != nil {
		return err
	}
	state, err := client.GenerateState()
	if err != nil {
		return err
	}
	authURL, err := h.GetAuthorizationURL(ctx, state, client.GenerateCodeChallenge(verifier))
	if err != nil {
		return fmt.Errorf("authorization URL: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return fmt.Errorf("authorize: status %d, no redirect", resp.StatusCode)
	}
	u, err := neturl.Parse(loc)
	if err != nil {
		return err
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("authorize: %s", e)
	}
	if err := h.ProcessAuthorizationResponse(ctx, q.Get("code"), q.Get("state"), verifier); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	return st.saveClient(&savedClient{ClientID: h.GetClientID(), ClientSecret: h.GetClientSecret(),
		AuthMethod: h.GetTokenEndpointAuthMethod(), RedirectURI: redirect})
}

// connectOAuth creates the client and initializes it; when the library reports that
// authorization is required, signs in and initializes again (once).
func connectOAuth(ctx context.Context, st *fileTokenStore, url string) (*client.Client, error) {
	cfg := transport.OAuthConfig{
		Scopes:      []string{"mcp:read", "mcp:write"},
		TokenStore:  st,
		PKCEEnabled: true,
	}
	if c := st.state.Client; c != nil {
		cfg.ClientID, cfg.ClientSecret, cfg.TokenEndpointAuthMethod = c.ClientID, c.ClientSecret, c.AuthMethod
		cfg.RedirectURI = c.RedirectURI
	} else {
		redirect, err := freeRedirectURL()
		if err != nil {
			return nil, err
		}
		cfg.RedirectURI = redirect
	}
	cs, err := client.NewOAuthStreamableHttpClient(url, cfg)
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	initialize := func() error {
		if err := cs.Start(ctx); err != nil {
			return err
		}
		initReq := mcp.InitializeRequest{}
		initReq.Params.ClientInfo = mcp.Implementation{Name: "compare-mcp-go", Version: "0.0.0"}
		_, err := cs.Initialize(ctx, initReq)
		return err
	}
	err = initialize()
	if err != nil && client.IsOAuthAuthorizationRequiredError(err) {
		if err = signIn(ctx, client.GetOAuthHandler(err), st, cfg.RedirectURI); err == nil {
			err = initialize()
		}
	}
	if err != nil {
		cs.Close()
		return nil, err
	}
	return cs, nil
}

type benchResult struct {
	Client    string  `json:"client"`
	Version   string  `json:"version"`
	Calls     int     `json:"calls"`
	OK        int     `json:"ok"`
	WallUs    int64   `json:"wall_us"`
	P50Us     float64 `json:"p50_us"`
	P99Us     float64 `json:"p99_us"`
	CPUUs     int64   `json:"cpu_us"`
	PeakRSSKb int64   `json:"peak_rss_kb"`
}

func printBench(calls, ok int, wallUs, cpuUs int64, lat []float64) int {
	sort.Float64s(lat)
	_, rss := rusage()
	out, _ := json.Marshal(benchResult{"mcp-go", libVersion(), calls, ok, wallUs,
		math.Round(pct(lat, 0.5)*10) / 10, math.Round(pct(lat, 0.99)*10) / 10, cpuUs, rss})
	fmt.Println("RESULT " + string(out))
	if ok != calls {
		return 1
	}
	return 0
}

func runAuth(mode, url, dir string, calls int, expireURL string) int {
	if mode != "cold" && mode != "warm" && mode != "storm" {
		fmt.Fprintln(os.Stderr, "unknown --auth mode:", mode)
		return 2
	}
	if url == "" || dir == "" || (mode == "storm" && expireURL == "") {
		fmt.Fprintln(os.Stderr, "--auth needs --url and --store (and --expire-url for storm)")
		return 2
	}
	st, err := openStore(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
		return 2
	}
	ctx := context.Background()
	if mode == "storm" {
		return runStorm(ctx, st, url, calls, expireURL)
	}
	// cold / warm: timed from before the client is created to the first call's result.
	ok := 0
	c0, _ := rusage()
	t0 := time.Now()
	cs, err := connectOAuth(ctx, st, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
	} else if echoCall(ctx, cs) {
		ok = 1
	}
	wall := time.Since(t0)
	c1, _ := rusage()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first error:", *e)
	}
	if cs != nil {
		if err := cs.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
		}
	}
	us := float64(wall.Nanoseconds()) / 1000
	return printBench(1, ok, wall.Microseconds(), c1-c0, []float64{us})
}

func runStorm(ctx context.Context, st *fileTokenStore, url string, n int, expireURL string) int {
	if st.state.Token == nil {
		fmt.Fprintln(os.Stderr, "storm: the store holds no token (run --auth cold first); starting cold")
	}
	cs, err := connectOAuth(ctx, st, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		return printBench(n, 0, 0, 0, nil)
	}
	defer func() {
		if err := cs.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
		}
	}()
	if !echoCall(ctx, cs) {
		fmt.Fprintln(os.Stderr, "storm: first (untimed) call failed:", *firstErr.Load())
		firstErr.Store(nil)
	}
	resp, err := http.Post(expireURL, "", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "expire:", err)
		return printBench(n, 0, 0, 0, nil)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Fprintln(os.Stderr, "expire: status", resp.StatusCode)
	}
	// N goroutines, all waiting on one channel, released together. Whatever the library does
	// on the 401s is what is measured: no retry or sign-in here.
	lat := make([]float64, n)
	good := make([]bool, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			t0 := time.Now()
			good[i] = echoCall(ctx, cs)
			lat[i] = float64(time.Since(t0).Nanoseconds()) / 1000
		}(i)
	}
	ready.Wait()
	c0, _ := rusage()
	t0 := time.Now()
	close(start)
	done.Wait()
	wall := time.Since(t0).Microseconds()
	c1, _ := rusage()
	ok := 0
	for _, g := range good {
		if g {
			ok++
		}
	}
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first error:", *e)
	}
	return printBench(n, ok, wall, c1-c0, lat)
}

// ---- --hold N ------------------------------------------------------------------------------

func vmRSSKb() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &kb)
			return kb
		}
	}
	return 0
}

// runHold: N clients, each its own *client.Client and session (bearer header as in scenario
// 1), one echo call each, VmRSS read while all are open, then all closed.
func runHold(n int, url, token string) int {
	ctx := context.Background()
	clients := make([]*client.Client, 0, n)
	ok := 0
	for i := 0; i < n; i++ {
		cs, err := client.NewStreamableHttpClient(url,
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
		if err == nil {
			clients = append(clients, cs)
			if err = cs.Start(ctx); err == nil {
				initReq := mcp.InitializeRequest{}
				initReq.Params.ClientInfo = mcp.Implementation{Name: "compare-mcp-go", Version: "0.0.0"}
				_, err = cs.Initialize(ctx, initReq)
			}
		}
		if err != nil {
			err = fmt.Errorf("connect: %w", err)
			firstErr.CompareAndSwap(nil, &err)
			continue
		}
		if echoCall(ctx, cs) {
			ok++
		}
	}
	rss := vmRSSKb()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first error:", *e)
	}
	for _, cs := range clients {
		if err := cs.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
		}
	}
	_, peak := rusage()
	out, _ := json.Marshal(struct {
		Client    string `json:"client"`
		Version   string `json:"version"`
		Clients   int    `json:"clients"`
		OK        int    `json:"ok"`
		RSSKb     int64  `json:"rss_kb"`
		PeakRSSKb int64  `json:"peak_rss_kb"`
	}{"mcp-go", libVersion(), n, ok, rss, peak})
	fmt.Println("RESULT " + string(out))
	if ok != n {
		return 1
	}
	return 0
}

// benches/compare peer driver: the official MCP Go SDK (github.com/modelcontextprotocol/go-sdk)
// client over its StreamableClientTransport. The bearer token is added by the http.Client the
// transport is given (its documented HTTPClient field): a RoundTripper wrapping
// http.DefaultTransport (Go's default HTTP stack, unchanged) that sets Authorization on every
// request. K calls in flight = K goroutines sharing the one ClientSession.
// --auth cold|warm|storm: the SDK's own OAuth client (auth.AuthorizationCodeHandler as the
// transport's OAuthHandler). --hold N: N clients, each with its own session.
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

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

const modPath = "github.com/modelcontextprotocol/go-sdk"

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

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

func echoCall(ctx context.Context, cs *mcp.ClientSession) bool {
	r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hello"}})
	if err == nil {
		if !r.IsError && len(r.Content) > 0 {
			if t, ok := r.Content[0].(*mcp.TextContent); ok && t.Text == "hello" {
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
func runCalls(ctx context.Context, cs *mcp.ClientSession, n, k int) (int, []float64) {
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
		client := mcp.NewClient(&mcp.Implementation{Name: "compare-go-sdk", Version: "0.0.0"}, nil)
		transport := &mcp.StreamableClientTransport{
			Endpoint:   *url,
			HTTPClient: &http.Client{Transport: &bearer{token: *token, base: http.DefaultTransport}},
		}
		cs, err := client.Connect(ctx, transport, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "connect:", err)
			return
		}
		defer func() {
			if err := cs.Close(); err != nil { // DELETEs the session
				fmt.Fprintln(os.Stderr, "close:", err)
			}
		}()
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
	}{"go-sdk", libVersion(), *calls, ok, wallUs, math.Round(pct(lat, 0.5)*10) / 10,
		math.Round(pct(lat, 0.99)*10) / 10, cpuUs, rss})
	fmt.Println("RESULT " + string(out))
	if ok != *calls {
		os.Exit(1)
	}
}

// ---- --auth cold|warm|storm --------------------------------------------------------------
//
// The SDK's client-side OAuth is auth.AuthorizationCodeHandler, set as the transport's
// OAuthHandler: on a 401/403 the transport calls its Authorize (protected resource and
// authorization server metadata discovery, client registration, the authorization code
// fetcher, the PKCE code exchange) and retries the request once; every request takes its
// Authorization header from the handler's oauth2.TokenSource (golang.org/x/oauth2, which
// refreshes only when the token's own expiry has passed). The SDK has no persistent store;
// its two documented hooks are InitialTokenSource (inject a token source at start) and
// NewTokenSource (build the token source from the oauth2.Config and token after an exchange).
// The driver keeps one JSON file in DIR: the registration (from the oauth2.Config handed to
// NewTokenSource: client id/secret, endpoints, redirect URL, scopes) and the latest token
// (saved whenever the token source hands out a new access token). A warm start passes the
// saved client as PreregisteredClient and the saved token through InitialTokenSource.

type savedClient struct {
	ClientID     string           `json:"client_id"`
	ClientSecret string           `json:"client_secret,omitempty"`
	AuthStyle    oauth2.AuthStyle `json:"auth_style"`
	AuthURL      string           `json:"authorization_endpoint"`
	TokenURL     string           `json:"token_endpoint"`
	RedirectURL  string           `json:"redirect_uri"`
	Scopes       []string         `json:"scopes,omitempty"`
}

type savedState struct {
	Client *savedClient  `json:"client,omitempty"`
	Token  *oauth2.Token `json:"token,omitempty"`
}

// fileStore is the one JSON file in DIR. Writes go to a temporary file renamed over it.
type fileStore struct {
	path  string
	mu    sync.Mutex
	state savedState
}

func openStore(dir string) (*fileStore, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	s := &fileStore{path: filepath.Join(dir, "go-sdk-oauth.json")}
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

func (s *fileStore) writeLocked() error {
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

func (s *fileStore) save(c *savedClient, t *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c != nil {
		s.state.Client = c
	}
	if t != nil {
		s.state.Token = t
	}
	if err := s.writeLocked(); err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
	}
}

// savingTokenSource hands out the tokens of the SDK's token source unchanged and writes each
// new one to the store (persistence only: it neither locks nor retries the token source).
type savingTokenSource struct {
	base  oauth2.TokenSource
	store *fileStore
	last  atomic.Pointer[string]
}

func (p *savingTokenSource) Token() (*oauth2.Token, error) {
	t, err := p.base.Token()
	if err != nil || t == nil {
		return t, err
	}
	if l := p.last.Load(); l == nil || *l != t.AccessToken {
		a := t.AccessToken
		p.last.Store(&a)
		p.store.save(nil, t)
	}
	return t, nil
}

func newSavingTokenSource(base oauth2.TokenSource, st *fileStore, tok *oauth2.Token) *savingTokenSource {
	p := &savingTokenSource{base: base, store: st}
	if tok != nil {
		a := tok.AccessToken
		p.last.Store(&a)
	}
	return p
}

// noRedirect is the plain HTTP client of the headless sign-in: one GET, redirects not followed.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// headlessSignIn is the AuthorizationCodeFetcher: instead of a browser, one GET of the
// authorization URL; the 302's Location carries code, state and iss, returned to the SDK.
func headlessSignIn(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return nil, fmt.Errorf("authorize: status %d, no redirect", resp.StatusCode)
	}
	u, err := neturl.Parse(loc)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("authorize: %s", e)
	}
	return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
}

// freeRedirectURL is http://127.0.0.1:PORT/callback on a port free right now (the SDK hands
// the code to the fetcher, so nothing listens on it).
func freeRedirectURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprintf("http://127.0.0.1:%d/callback", l.Addr().(*net.TCPAddr).Port), nil
}

// newAuthHandler builds the SDK's AuthorizationCodeHandler: from what the store holds when it
// holds a registration and a token (warm), else with dynamic client registration (cold).
func newAuthHandler(st *fileStore) (*auth.AuthorizationCodeHandler, error) {
	newTS := func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
		st.save(&savedClient{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AuthStyle: cfg.Endpoint.AuthStyle,
			AuthURL: cfg.Endpoint.AuthURL, TokenURL: cfg.Endpoint.TokenURL,
			RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes,
		}, tok)
		return newSavingTokenSource(cfg.TokenSource(ctx, tok), st, tok), nil
	}
	cfg := &auth.AuthorizationCodeHandlerConfig{
		AuthorizationCodeFetcher: headlessSignIn,
		RequestRefreshToken:      true,
		NewTokenSource:           newTS,
	}
	if c, t := st.state.Client, st.state.Token; c != nil && t != nil {
		pre := &oauthex.ClientCredentials{ClientID: c.ClientID}
		if c.ClientSecret != "" {
			pre.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: c.ClientSecret}
		}
		cfg.PreregisteredClient = pre
		cfg.RedirectURL = c.RedirectURL
		oc := &oauth2.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL, Scopes: c.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL, AuthStyle: c.AuthStyle},
		}
		// As the SDK does in its own exchange: a background context carrying its HTTP client.
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, http.DefaultClient)
		cfg.InitialTokenSource = newSavingTokenSource(oc.TokenSource(ctx, t), st, t)
		return auth.NewAuthorizationCodeHandler(cfg)
	}
	redirect, err := freeRedirectURL()
	if err != nil {
		return nil, err
	}
	cfg.RedirectURL = redirect
	cfg.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{
		Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName:              "compare-go-sdk",
			RedirectURIs:            []string{redirect},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
		},
	}
	return auth.NewAuthorizationCodeHandler(cfg)
}

func connectOAuth(ctx context.Context, st *fileStore, url string) (*mcp.ClientSession, error) {
	h, err := newAuthHandler(st)
	if err != nil {
		return nil, fmt.Errorf("auth handler: %w", err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "compare-go-sdk", Version: "0.0.0"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, OAuthHandler: h}, nil)
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
	out, _ := json.Marshal(benchResult{"go-sdk", libVersion(), calls, ok, wallUs,
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

func runStorm(ctx context.Context, st *fileStore, url string, n int, expireURL string) int {
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
	// N goroutines, all waiting on one channel, released together.
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

// runHold: N clients, each its own mcp.Client, transport and session (bearer header as in
// scenario 1), one echo call each, VmRSS read while all are open, then all closed.
func runHold(n int, url, token string) int {
	ctx := context.Background()
	sessions := make([]*mcp.ClientSession, 0, n)
	ok := 0
	for i := 0; i < n; i++ {
		client := mcp.NewClient(&mcp.Implementation{Name: "compare-go-sdk", Version: "0.0.0"}, nil)
		transport := &mcp.StreamableClientTransport{
			Endpoint:   url,
			HTTPClient: &http.Client{Transport: &bearer{token: token, base: http.DefaultTransport}},
		}
		cs, err := client.Connect(ctx, transport, nil)
		if err != nil {
			err = fmt.Errorf("connect: %w", err)
			firstErr.CompareAndSwap(nil, &err)
			continue
		}
		sessions = append(sessions, cs)
		if echoCall(ctx, cs) {
			ok++
		}
	}
	rss := vmRSSKb()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first error:", *e)
	}
	for _, cs := range sessions {
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
	}{"go-sdk", libVersion(), n, ok, rss, peak})
	fmt.Println("RESULT " + string(out))
	if ok != n {
		return 1
	}
	return 0
}

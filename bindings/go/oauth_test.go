package mcpclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type eventLog struct {
	mu     sync.Mutex
	events []AuthEvent
}

func (l *eventLog) add(e AuthEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		out = append(out, e.Event)
	}
	return out
}

func (l *eventLog) find(name string) (AuthEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Event == name {
			return e, true
		}
	}
	return AuthEvent{}, false
}

// The full flow: a 401, discovery, registration, the presenter playing the browser with the
// loopback listener receiving the redirect, the tokens in a Go store; then a refresh after
// the access token expires (no new sign-in), and logout.
func TestOAuthLoopbackSignInRefreshAndLogout(t *testing.T) {
	srv := startServer(t, "--oauth")
	b, store, log := newBrowser(), newMapStore(), &eventLog{}
	ctx := testCtx(t)
	c := mustNew(t, srv.URL, WithOAuth(OAuth{
		Presenter:       b.present,
		CredentialStore: store,
		OnEvent:         log.add,
		RedirectTimeout: 10 * time.Second,
	}))
	if err := <-b.errs; err != nil {
		t.Fatalf("the browser: %v", err)
	}
	r, err := c.CallTool(ctx, "echo", map[string]string{"text": "in"})
	if err != nil || r.Text() != "in" {
		t.Fatalf("echo: %+v %v", r, err)
	}
	if b.count() != 1 {
		t.Errorf("%d sign-ins", b.count())
	}
	st, err := c.AuthStatus()
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasToken || !st.HasRefreshToken || !slices.Contains(st.Scopes, "mcp:read") || st.Issuer == "" || st.ExpiresAt.IsZero() {
		t.Errorf("status: %+v", st)
	}
	if store.len() == 0 {
		t.Error("nothing in the Go store")
	}
	// The access token expires: the next call refreshes it, with no browser.
	srv.debug(t, "POST", "expire-tokens", nil)
	if _, err := c.CallTool(ctx, "echo", map[string]string{"text": "again"}); err != nil {
		t.Fatal(err)
	}
	if b.count() != 1 {
		t.Errorf("%d sign-ins after the refresh", b.count())
	}
	if got := srv.authStats(t).TokenRequests["refresh_token"]; got != 1 {
		t.Errorf("%d refresh_token grants", got)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.AuthStatus(); st == nil || st.HasToken {
		t.Errorf("status after logout: %+v", st)
	}
	if store.len() != 0 {
		t.Error("the entry outlived logout")
	}
	seen := log.names()
	for _, e := range []string{"sign_in_required", "browser_opened", "signed_in", "token_refreshed", "logged_out"} {
		if !slices.Contains(seen, e) {
			t.Errorf("no %s in %v", e, seen)
		}
	}
	for _, e := range log.events {
		if strings.Contains(string(e.Raw), "access_token") || strings.Contains(string(e.Raw), "refresh_token\"") {
			t.Errorf("a secret in an event? %s", e.Raw)
		}
	}
	if e, ok := log.find("signed_in"); !ok || e.Grant != "authorization_code" || e.ExpiresAt.IsZero() || e.Server == "" {
		t.Errorf("signed_in: %+v", e)
	}
}

func TestRestartWithTheSameStoreSignsInNoMore(t *testing.T) {
	srv := startServer(t, "--oauth")
	b, store := newBrowser(), newMapStore()
	ctx := testCtx(t)
	opts := WithOAuth(OAuth{Presenter: b.present, CredentialStore: store})
	c, err := New(ctx, srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	before := srv.authStats(t)
	c, err = New(ctx, srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	if b.count() != 1 {
		t.Errorf("%d sign-ins", b.count())
	}
	after := srv.authStats(t)
	if after.AuthorizeRequests != before.AuthorizeRequests || fmt.Sprint(after.TokenRequests) != fmt.Sprint(before.TokenRequests) {
		t.Errorf("before %+v, after %+v", before, after)
	}
}

func TestStepUpAsksForTheMissingScope(t *testing.T) {
	srv := startServer(t, "--oauth")
	b, log := newBrowser(), &eventLog{}
	ctx := testCtx(t)
	c := mustNew(t, srv.URL, WithOAuth(OAuth{Presenter: b.present, Store: StoreMemory, OnEvent: log.add}))
	r, err := c.CallTool(ctx, "admin", nil)
	if err != nil || r.Text() != "admin ok" {
		t.Fatalf("admin: %+v %v", r, err)
	}
	st, err := c.AuthStatus()
	if err != nil || !slices.Contains(st.Scopes, "mcp:admin") {
		t.Errorf("status: %+v %v", st, err)
	}
	if b.count() != 2 {
		t.Errorf("%d sign-ins", b.count())
	}
	if e, ok := log.find("step_up"); !ok || !slices.Equal(e.Required, []string{"mcp:admin"}) {
		t.Errorf("step_up: %+v (%v)", e, log.names())
	}
}

func TestDeviceFlow(t *testing.T) {
	srv := startServer(t, "--oauth-device")
	var mu sync.Mutex
	var shown []DeviceCode
	approved := make(chan error, 1)
	c := mustNew(t, srv.URL, WithOAuth(OAuth{
		Grant: GrantDeviceCode,
		Store: StoreMemory,
		DeviceCodeDisplay: func(d DeviceCode) error {
			mu.Lock()
			shown = append(shown, d)
			mu.Unlock()
			// The user approves on another device.
			visit(d.VerificationURIComplete, approved)
			return nil
		},
	}))
	if _, err := c.ListTools(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := <-approved; err != nil {
		t.Errorf("approval: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(shown) != 1 || shown[0].UserCode == "" || !strings.Contains(shown[0].VerificationURIComplete, shown[0].UserCode) || shown[0].ExpiresIn <= 0 {
		t.Errorf("shown: %+v", shown)
	}
	if got := srv.authStats(t).DeviceAuthorizations; got != 1 {
		t.Errorf("%d device authorizations", got)
	}
}

func TestTwoStepSignInBeforeConnecting(t *testing.T) {
	srv := startServer(t, "--oauth")
	ctx := testCtx(t)
	redirectURI := "http://127.0.0.1:9/callback"
	c, err := New(ctx, srv.URL, WithoutConnect(), WithOAuth(OAuth{
		Store: StoreMemory,
		Presenter: func(string, string) (string, error) {
			t.Error("the presenter ran in the two-step flow")
			return "", errors.New("no presenter here")
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	authURL, err := c.BeginAuthorization(ctx, redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(authURL, srv.Origin) || !strings.Contains(authURL, "code_challenge") {
		t.Fatalf("authorization URL %s", authURL)
	}
	// The browser, stopping at the redirect to the host's handler.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	location := resp.Header.Get("Location")
	if !strings.HasPrefix(location, redirectURI) {
		t.Fatalf("redirected to %q (%s)", location, resp.Status)
	}
	// A refusal first, to see the OAuth error fields.
	denied := strings.Replace(location, "code=", "error=access_denied&error_description=the%20user%20said%20no&x=", 1)
	err = c.CompleteAuthorization(ctx, denied)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrAuth) || e.OAuthError != "access_denied" || !strings.Contains(e.OAuthErrorDescription, "the user said no") {
		t.Errorf("refusal: %#v", err)
	}
	// A refusal consumes the pending sign-in: begin again.
	authURL, err = c.BeginAuthorization(ctx, redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := c.CompleteAuthorization(ctx, resp.Header.Get("Location")); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.CallTool(ctx, "echo", map[string]string{"text": "two-step"})
	if err != nil || r.Text() != "two-step" {
		t.Errorf("echo: %+v %v", r, err)
	}
}

func TestAuthorizeBeforeConnecting(t *testing.T) {
	srv := startServer(t, "--oauth")
	ctx := testCtx(t)
	b := newBrowser()
	c, err := New(ctx, srv.URL, WithoutConnect(), WithOAuth(OAuth{Store: StoreMemory, Presenter: b.present}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := c.AuthStatus(); err != nil || !st.HasToken {
		t.Fatalf("status %+v %v", st, err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if b.count() != 1 {
		t.Errorf("%d sign-ins", b.count())
	}
}

func TestHeadlessPresenter(t *testing.T) {
	srv := startServer(t, "--oauth")
	c := mustNew(t, srv.URL, WithOAuth(OAuth{Headless: true, Store: StoreMemory}))
	if _, err := c.CallTool(testCtx(t), "echo", map[string]string{"text": "headless"}); err != nil {
		t.Fatal(err)
	}
}

func TestTheAuthorizationServersErrorReachesGo(t *testing.T) {
	srv := startServer(t, "--oauth")
	// A dynamically registered client is public; the server refuses it client_credentials.
	_, err := New(testCtx(t), srv.URL, WithOAuth(OAuth{Grant: GrantClientCredentials, Store: StoreMemory}))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrAuth) {
		t.Fatalf("%v", err)
	}
	if e.OAuthError != "unauthorized_client" || !strings.Contains(e.OAuthErrorDescription, "confidential") {
		t.Errorf("%#v", e)
	}
}

func TestPresenterErrorIsTheCause(t *testing.T) {
	srv := startServer(t, "--oauth")
	refused := errors.New("the user closed the window")
	_, err := New(testCtx(t), srv.URL, WithOAuth(OAuth{
		Store:     StoreMemory,
		Presenter: func(string, string) (string, error) { return "", refused },
	}))
	if !errors.Is(err, ErrAuth) || !errors.Is(err, refused) {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "the user closed the window") {
		t.Errorf("message: %v", err)
	}
}

func TestPresenterPanicIsAnErrorNotACrash(t *testing.T) {
	srv := startServer(t, "--oauth")
	_, err := New(testCtx(t), srv.URL, WithOAuth(OAuth{
		Store:     StoreMemory,
		Presenter: func(string, string) (string, error) { panic("presenter bug") },
	}))
	var p *PanicError
	if !errors.Is(err, ErrAuth) || !errors.As(err, &p) {
		t.Fatalf("%v", err)
	}
	if p.Value != "presenter bug" || p.Callback != "presenter" || len(p.Stack) == 0 {
		t.Errorf("%+v", p)
	}
	// A panic in the device-code display too.
	dev := startServer(t, "--oauth-device")
	_, err = New(testCtx(t), dev.URL, WithOAuth(OAuth{
		Grant:             GrantDeviceCode,
		Store:             StoreMemory,
		DeviceCodeDisplay: func(DeviceCode) error { panic(fmt.Errorf("display bug")) },
	}))
	if !errors.As(err, &p) || p.Callback != "device code display" || !strings.Contains(err.Error(), "display bug") {
		t.Errorf("device: %v", err)
	}
}

// A presenter's failure belongs to the calls that waited for that sign-in, not to others.
func TestPresenterFailureDuringConcurrentCalls(t *testing.T) {
	srv := startServer(t, "--oauth")
	ctx := testCtx(t)
	refused := errors.New("not now")
	c, err := New(ctx, srv.URL, WithoutConnect(), WithOAuth(OAuth{
		Store:     StoreMemory,
		Presenter: func(string, string) (string, error) { return "", refused },
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = c.Authorize(ctx)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, refused) {
			t.Errorf("authorize %d: %v", i, err)
		}
	}
}

// A store that panics is logged, and the session goes on (the credentials then live for
// this session only).
func TestStoreThatPanicsIsLoggedAndTheSessionGoesOn(t *testing.T) {
	h := withLogger(t, slog.LevelWarn)
	srv := startServer(t, "--oauth")
	b := newBrowser()
	c := mustNew(t, srv.URL, WithOAuth(OAuth{Presenter: b.present, CredentialStore: panickyStore{}}))
	r, err := c.CallTool(testCtx(t), "echo", map[string]string{"text": "ok"})
	if err != nil || r.Text() != "ok" {
		t.Fatalf("echo: %+v %v", r, err)
	}
	for _, what := range []string{"store Load", "store Save"} {
		if !h.find(func(r slog.Record) bool {
			found := false
			r.Attrs(func(a slog.Attr) bool {
				found = found || (a.Key == "callback" && a.Value.String() == what)
				return true
			})
			return found && r.Level == slog.LevelError
		}) {
			t.Errorf("no log of the panic in %s", what)
		}
	}
	// An error (not a panic) is logged too, as a warning.
	h2 := withLogger(t, slog.LevelWarn)
	c2 := mustNew(t, srv.URL, WithOAuth(OAuth{Presenter: b.present, CredentialStore: failingStore{}}))
	if err := c2.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if !h2.find(func(r slog.Record) bool { return strings.Contains(r.Message, "credential store failed") }) {
		t.Error("no log of the store's error")
	}
}

type panickyStore struct{}

func (panickyStore) Load(string) (string, bool, error) { panic("load bug") }
func (panickyStore) Save(string, string) error         { panic("save bug") }
func (panickyStore) Delete(string) error               { panic("delete bug") }

type failingStore struct{}

func (failingStore) Load(string) (string, bool, error) { return "", false, errors.New("disk gone") }
func (failingStore) Save(string, string) error         { return errors.New("disk full") }
func (failingStore) Delete(string) error               { return errors.New("disk gone") }

func TestBadOAuthSettingsAreRefusedBeforeAnyRequest(t *testing.T) {
	ctx := testCtx(t)
	for name, cfg := range map[string]OAuth{
		"jwt-bearer without an assertion": {Grant: GrantJWTBearer},
		"an unknown grant":                {Grant: Grant(42)},
		"an unknown store":                {Store: StoreKind(42)},
		"a dir for the memory store":      {Store: StoreMemory, StoreDir: "/tmp"},
		"a port out of range":             {RedirectPort: 70000},
		"a store of each kind":            {Store: StoreMemory, CredentialStore: newMapStore()},
		"a bad private key":               {PrivateKeyPEM: "not a key"},
		"an enterprise IdP over http":     {Enterprise: &EnterpriseGrant{IDPTokenEndpoint: "http://idp.example/token", IDPClientID: "id", SubjectToken: "t"}},
	} {
		if _, err := New(ctx, "http://127.0.0.1:9/mcp", WithOAuth(cfg)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

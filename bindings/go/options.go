package mcpclient

/*
#include <stdlib.h>
#include "mcp_client.h"
#include "shims.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"
)

// Option configures a client made by New or NewStdio. Later options replace earlier ones
// where both set the same thing.
type Option func(*settings)

type settings struct {
	steps     []func(*builder) error
	noConnect bool
	requests  requestCallback
}

func (s *settings) add(f func(*builder) error) { s.steps = append(s.steps, f) }

// builder applies settings to C options.
type builder struct {
	o *C.mcp_options
	s *state
}

// set runs one C setter with its strings as C strings (freed after).
func (b *builder) set(op string, strs []string, f func(cs []*C.char, e **C.mcp_error) C.mcp_result) error {
	cs := make([]*C.char, len(strs))
	for i, s := range strs {
		if strings.IndexByte(s, 0) >= 0 {
			return goError(op, CodeInvalidArgument, "a string argument holds a NUL byte")
		}
		cs[i] = C.CString(s)
	}
	defer func() {
		for _, c := range cs {
			C.free(unsafe.Pointer(c))
		}
	}()
	var e *C.mcp_error
	if rc := f(cs, &e); rc != C.MCP_RESULT_OK {
		return takeError(op, rc, e)
	}
	return nil
}

// setCallback registers a callback whose user data is a handle to v; the library owns it
// once the setter succeeds.
func (b *builder) setCallback(op string, v any, f func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result) error {
	ud := userData(v)
	var e *C.mcp_error
	if rc := f(ud, &e); rc != C.MCP_RESULT_OK {
		freeUserData(ud)
		return takeError(op, rc, e)
	}
	return nil
}

// optStr is a C string, or NULL for "" (freed by the caller with C.free; NULL is fine).
func optStr(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func millis(op string, d time.Duration) (C.uint64_t, error) {
	if d <= 0 {
		return 0, goError(op, CodeInvalidArgument, "a timeout must be more than 0 (got %v)", d)
	}
	return C.uint64_t((d + time.Millisecond - 1) / time.Millisecond), nil
}

// WithoutConnect makes New and NewStdio return a client that has not connected yet (no
// network): sign in first with Authorize or BeginAuthorization/CompleteAuthorization, then
// Connect. Calls before Connect fail with ErrNotConnected.
func WithoutConnect() Option {
	return func(s *settings) { s.noConnect = true }
}

// WithHeader adds a header to every HTTP request (an API key and the like; its value is
// treated as a secret and never logged).
func WithHeader(name, value string) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			return b.set("header", []string{name, value}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_add_header(b.o, c[0], c[1], e)
			})
		})
	}
}

// WithBearerToken authorizes every request with this fixed bearer token.
func WithBearerToken(token string) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			return b.set("bearer token", []string{token}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_bearer_token(b.o, c[0], e)
			})
		})
	}
}

// WithRequestTimeout is the default timeout of each request (60 s unless set; a call's
// context deadline replaces it for that call). Time spent signing in does not count.
func WithRequestTimeout(d time.Duration) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			ms, err := millis("request timeout", d)
			if err != nil {
				return err
			}
			return b.set("request timeout", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_request_timeout_ms(b.o, ms, e)
			})
		})
	}
}

// WithConnectTimeout is the timeout to establish a TCP/TLS connection (10 s unless set).
func WithConnectTimeout(d time.Duration) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			ms, err := millis("connect timeout", d)
			if err != nil {
				return err
			}
			return b.set("connect timeout", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_connect_timeout_ms(b.o, ms, e)
			})
		})
	}
}

// WithProtocolVersion pins the MCP protocol version (e.g. "2025-06-18") instead of
// negotiating the newest both sides speak.
func WithProtocolVersion(version string) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			return b.set("protocol version", []string{version}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_protocol_version(b.o, c[0], e)
			})
		})
	}
}

// WithClientInfo is the clientInfo sent in the handshake (and the client name used in OAuth
// registration).
func WithClientInfo(name, version string) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			return b.set("client info", []string{name, version}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_client_info(b.o, c[0], c[1], e)
			})
		})
	}
}

// WithCAFile trusts the CA certificates in this PEM file too (besides the system's and
// SSL_CERT_FILE's). Repeatable.
func WithCAFile(path string) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			return b.set("CA file", []string{path}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_add_ca_file(b.o, c[0], e)
			})
		})
	}
}

// WithCapabilities declares extra client capabilities: a JSON object (any value that
// encodes to one, or json.RawMessage) merged over those the handlers imply.
func WithCapabilities(capabilities any) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			text, err := jsonText("capabilities", capabilities)
			if err != nil {
				return err
			}
			return b.set("capabilities", []string{string(text)}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_capabilities(b.o, c[0], e)
			})
		})
	}
}

// WithNotificationHandler receives the server's notifications (logging, progress, list
// changes, resource updates) in order, on a library thread, one at a time: return quickly.
// A panic is recovered and logged.
func WithNotificationHandler(fn func(method string, params json.RawMessage)) Option {
	return func(s *settings) {
		s.add(func(b *builder) error {
			if fn == nil {
				return b.set("notification handler", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
					return C.mcp_options_set_notification_callback(b.o, nil, nil, nil, e)
				})
			}
			return b.setCallback("notification handler", &notificationCallback{fn: fn}, func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_notification_callback(b.o, C.mcp_notification_fn(C.mcpgo_notification), ud, C.mcp_free_fn(C.mcpgo_free), e)
			})
		})
	}
}

// ElicitationHandler answers a server's elicitation/create (ask the user). ctx ends when
// the client is closed. Return a *HandlerError to answer with a JSON-RPC error.
type ElicitationHandler func(ctx context.Context, req *ElicitRequest) (*ElicitResult, error)

// SamplingHandler answers a server's sampling/createMessage (ask your model).
type SamplingHandler func(ctx context.Context, req *SamplingRequest) (*SamplingResult, error)

// RootsHandler answers a server's roots/list.
type RootsHandler func(ctx context.Context) ([]Root, error)

// RequestHandler answers any other server request: its result is any value that encodes to
// JSON (json.RawMessage as it is).
type RequestHandler func(ctx context.Context, method string, params json.RawMessage) (any, error)

// WithElicitationHandler answers elicitation requests (and declares the elicitation
// capability). Handlers run on library threads and may block (waiting for the user is
// fine); several requests may be answered at once. A blocking call on the client from a
// handler fails with ErrReentrant. A panic or an error other than *HandlerError is logged
// and answered with -32603 "internal error" (its text is not sent to the server).
func WithElicitationHandler(h ElicitationHandler) Option {
	return func(s *settings) { s.requests.elicit = h }
}

// WithSamplingHandler answers sampling requests (and declares the sampling capability);
// see WithElicitationHandler.
func WithSamplingHandler(h SamplingHandler) Option {
	return func(s *settings) { s.requests.sample = h }
}

// WithRootsHandler answers roots/list (and declares the roots capability); see
// WithElicitationHandler.
func WithRootsHandler(h RootsHandler) Option {
	return func(s *settings) { s.requests.roots = h }
}

// WithRequestHandler answers server requests that no typed handler takes; see
// WithElicitationHandler. Without one they are answered "method not found".
func WithRequestHandler(h RequestHandler) Option {
	return func(s *settings) { s.requests.other = h }
}

// ---- OAuth ------------------------------------------------------------------------------------

// Grant says how OAuth tokens are obtained (the C ABI's mcp_grant).
type Grant int

// The grants (their values are the C ABI's: a test checks them).
const (
	// GrantAuthorizationCode: the user signs in through a browser, with PKCE (the default).
	GrantAuthorizationCode Grant = 0
	// GrantClientCredentials: the client acts on its own behalf (needs ClientID with
	// ClientSecret, or PrivateKeyPEM).
	GrantClientCredentials Grant = 1
	// GrantDeviceCode: RFC 8628, a code the user enters on another device
	// (OAuth.DeviceCodeDisplay shows it).
	GrantDeviceCode Grant = 2
	// GrantJWTBearer: RFC 7523 with the assertion in OAuth.Assertion (e.g. a workload
	// identity token).
	GrantJWTBearer Grant = 3
)

// StoreKind is where OAuth credentials are kept between runs. The environment variable
// MCP_CLIENT_STORE (keyring, kernel-keyring, file, file:<dir>, memory) overrides it, except
// for a CredentialStore of your own.
type StoreKind int

// The stores (their values are the C ABI's mcp_store_kind: a test checks them).
const (
	// StoreAuto: the OS keyring, else a private file, with one warning (the default).
	StoreAuto StoreKind = 0
	// StoreKeyring: the OS keyring only.
	StoreKeyring StoreKind = 1
	// StoreKernelKeyring: the Linux kernel keyring (until logout or reboot).
	StoreKernelKeyring StoreKind = 2
	// StoreFile: a private file (mode 0600) in OAuth.StoreDir ("": $XDG_STATE_HOME/mcp-client
	// or ~/.local/state/mcp-client).
	StoreFile StoreKind = 3
	// StoreMemory: nothing outlives the process.
	StoreMemory StoreKind = 4
)

// CredentialStore is a store of your own for OAuth credentials (text under a key). Its
// methods run on the thread of the call that needs credentials or on a library thread: keep
// them short. A failure (an error or a panic) is logged, and the session goes on (the
// credentials then last only for this session).
type CredentialStore interface {
	// Load returns the entry for key, and whether there is one.
	Load(key string) (value string, found bool, err error)
	// Save replaces the entry for key.
	Save(key, value string) error
	// Delete removes the entry for key (absent is fine).
	Delete(key string) error
}

// Presenter shows the authorization URL to the user (OAuth.Presenter). It runs on a library
// thread while a call waits for the sign-in. Return "" to let the library's loopback
// listener at redirectURI receive the browser's redirect (it listens once the presenter
// returns, so do not wait for the browser here), or the full URL the browser was
// redirected to (with code and state) if you obtained it yourself. An error or a panic fails
// the sign-in: the call returns an ErrAuth error wrapping it (a *PanicError for a panic).
type Presenter func(authURL, redirectURI string) (redirectURL string, err error)

// PrintPresenter is a Presenter that writes the URL to w for the user to open, and lets the
// loopback listener receive the redirect.
func PrintPresenter(w io.Writer) Presenter {
	return func(authURL, _ string) (string, error) {
		_, err := fmt.Fprintf(w, "Open this URL to sign in:\n  %s\n", authURL)
		return "", err
	}
}

// EnterpriseGrant is enterprise-managed authorization (SEP-990): the user's token at the
// identity provider is exchanged there (RFC 8693) for an identity assertion that the
// server's authorization server redeems (RFC 7523).
type EnterpriseGrant struct {
	IDPTokenEndpoint string // the identity provider's token endpoint
	IDPClientID      string // this client at the identity provider
	IDPClientSecret  string // its secret ("" for a public client there)
	SubjectToken     string // the user's token at the identity provider
	SubjectTokenType string // its type ("": an OpenID Connect ID token)
}

// OAuth configures the OAuth 2.1 engine (WithOAuth). The zero value signs in through the
// system browser, with dynamic registration, and keeps credentials in the OS keyring (else a
// private file).
type OAuth struct {
	// ClientID is a pre-registered client id, with ClientSecret ("" for a public client).
	ClientID     string
	ClientSecret string
	// ClientIssuer is the authorization server the pre-registered client, private key or
	// assertion belongs to: they are never sent to another.
	ClientIssuer string
	// ClientMetadataURL is this client's metadata document (an HTTPS URL with a path), used
	// when the authorization server supports client ID metadata documents.
	ClientMetadataURL string
	// Scopes to request instead of the server's guidance.
	Scopes []string
	// Grant is how tokens are obtained (GrantAuthorizationCode unless set).
	Grant Grant
	// Assertion is the assertion of GrantJWTBearer.
	Assertion string
	// Enterprise, when set, is the grant instead of Grant.
	Enterprise *EnterpriseGrant
	// PrivateKeyPEM authenticates the client with private_key_jwt (PKCS#8 EC P-256 or RSA,
	// or PKCS#1 RSA); PrivateKeyAlg is "ES256" or "RS256" ("": from the key).
	PrivateKeyPEM string
	PrivateKeyAlg string
	// RedirectPort is the port of the loopback redirect listener (0: any free port).
	RedirectPort int
	// RedirectTimeout is how long the listener waits for the browser (0: 300 s).
	RedirectTimeout time.Duration
	// Store is where credentials are kept (StoreAuto unless set), StoreDir the directory of
	// StoreFile.
	Store    StoreKind
	StoreDir string
	// StoreURL names the store as the CLI's --store does, instead of Store: "file:<dir>",
	// "memory", … or a Redis URL shared by hosts on many machines
	// ("redis://[user:password@]host:port/db", "rediss://" for TLS; settings as query
	// parameters: prefix, lease_ms, timeout_ms, lock_wait_ms, fallback, key_file). A refresh
	// is then single-flight across every host sharing it. See docs/auth.md.
	StoreURL string
	// CredentialStore is a store of your own instead of Store.
	CredentialStore CredentialStore
	// Presenter shows the authorization URL (nil: the system browser).
	Presenter Presenter
	// Headless answers the authorization URL with one plain GET and takes the code from its
	// redirect, for authorization servers that approve without a user (tests, automation).
	// Not with Presenter.
	Headless bool
	// DeviceCodeDisplay shows a device-flow sign-in (nil: printed on stderr). Return once it
	// is shown; the library polls meanwhile. An error or a panic fails the sign-in.
	DeviceCodeDisplay func(DeviceCode) error
	// OnEvent receives each step of authorization (sign-in needed, signed in, refreshed,
	// step-up, ...), on the thread doing it: return quickly. A panic is recovered and logged.
	OnEvent func(AuthEvent)
}

// WithOAuth turns on the OAuth 2.1 engine: on a 401 it discovers the authorization server,
// registers, signs in, then keeps the tokens fresh and stored, and steps up scopes on 403.
func WithOAuth(cfg OAuth) Option {
	return func(s *settings) {
		s.add(func(b *builder) error { return b.oauth(cfg) })
	}
}

func (b *builder) oauth(cfg OAuth) error {
	const op = "oauth"
	if cfg.Presenter != nil && cfg.Headless {
		return goError(op, CodeInvalidArgument, "OAuth.Presenter and OAuth.Headless exclude each other")
	}
	if cfg.CredentialStore != nil && (cfg.Store != StoreAuto || cfg.StoreDir != "") {
		return goError(op, CodeInvalidArgument, "OAuth.CredentialStore and OAuth.Store exclude each other")
	}
	if cfg.StoreURL != "" && (cfg.CredentialStore != nil || cfg.Store != StoreAuto || cfg.StoreDir != "") {
		return goError(op, CodeInvalidArgument, "OAuth.StoreURL excludes OAuth.Store, OAuth.StoreDir and OAuth.CredentialStore")
	}
	if cfg.RedirectPort < 0 || cfg.RedirectPort > 65535 {
		return goError(op, CodeInvalidArgument, "OAuth.RedirectPort %d is not a port", cfg.RedirectPort)
	}
	steps := []func() error{
		func() error {
			return b.set(op, nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_auth(b.o, C.MCP_AUTH_MODE_OAUTH, e)
			})
		},
	}
	add := func(f func() error) { steps = append(steps, f) }
	if cfg.ClientID != "" || cfg.ClientSecret != "" {
		add(func() error {
			return b.set("OAuth client id", []string{cfg.ClientID}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				secret := optStr(cfg.ClientSecret)
				defer C.free(unsafe.Pointer(secret))
				return C.mcp_options_set_client_id(b.o, c[0], secret, e)
			})
		})
	}
	if cfg.ClientIssuer != "" {
		add(func() error {
			return b.set("OAuth client issuer", []string{cfg.ClientIssuer}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_client_issuer(b.o, c[0], e)
			})
		})
	}
	if cfg.ClientMetadataURL != "" {
		add(func() error {
			return b.set("OAuth client metadata URL", []string{cfg.ClientMetadataURL}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_client_metadata_url(b.o, c[0], e)
			})
		})
	}
	if len(cfg.Scopes) > 0 {
		add(func() error {
			return b.set("OAuth scopes", []string{strings.Join(cfg.Scopes, " ")}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_scopes(b.o, c[0], e)
			})
		})
	}
	switch {
	case cfg.Enterprise != nil:
		g := cfg.Enterprise
		add(func() error {
			return b.set("OAuth enterprise grant", []string{g.IDPTokenEndpoint, g.IDPClientID, g.SubjectToken}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				secret, kind := optStr(g.IDPClientSecret), optStr(g.SubjectTokenType)
				defer C.free(unsafe.Pointer(secret))
				defer C.free(unsafe.Pointer(kind))
				return C.mcp_options_set_enterprise_grant(b.o, c[0], c[1], secret, c[2], kind, e)
			})
		})
	case cfg.Grant != GrantAuthorizationCode || cfg.Assertion != "":
		add(func() error {
			return b.set("OAuth grant", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				assertion := optStr(cfg.Assertion)
				defer C.free(unsafe.Pointer(assertion))
				return C.mcp_options_set_grant(b.o, C.int32_t(cfg.Grant), assertion, e)
			})
		})
	}
	if cfg.PrivateKeyPEM != "" {
		add(func() error {
			return b.set("OAuth private key", []string{cfg.PrivateKeyPEM}, func(c []*C.char, e **C.mcp_error) C.mcp_result {
				alg := optStr(cfg.PrivateKeyAlg)
				defer C.free(unsafe.Pointer(alg))
				return C.mcp_options_set_private_key(b.o, c[0], alg, e)
			})
		})
	}
	if cfg.RedirectPort != 0 {
		add(func() error {
			return b.set("OAuth redirect port", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_redirect_port(b.o, C.uint16_t(cfg.RedirectPort), e)
			})
		})
	}
	if cfg.RedirectTimeout != 0 {
		add(func() error {
			ms, err := millis("OAuth redirect timeout", cfg.RedirectTimeout)
			if err != nil {
				return err
			}
			return b.set("OAuth redirect timeout", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_redirect_timeout_ms(b.o, ms, e)
			})
		})
	}
	switch {
	case cfg.CredentialStore != nil:
		add(func() error {
			return b.setCallback("OAuth credential store", &storeCallback{store: cfg.CredentialStore}, func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_store_callbacks(b.o, C.mcp_store_load_fn(C.mcpgo_store_load),
					C.mcp_store_save_fn(C.mcpgo_store_save), C.mcp_store_remove_fn(C.mcpgo_store_remove),
					ud, C.mcp_free_fn(C.mcpgo_free), e)
			})
		})
	case cfg.StoreURL != "":
		add(func() error {
			return b.set("OAuth store", []string{cfg.StoreURL}, func(a []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_store_url(b.o, a[0], e)
			})
		})
	case cfg.Store != StoreAuto || cfg.StoreDir != "":
		add(func() error {
			return b.set("OAuth store", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				dir := optStr(cfg.StoreDir)
				defer C.free(unsafe.Pointer(dir))
				return C.mcp_options_set_store(b.o, C.int32_t(cfg.Store), dir, e)
			})
		})
	}
	switch {
	case cfg.Headless:
		add(func() error {
			return b.set("OAuth headless presenter", nil, func(_ []*C.char, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_headless_presenter(b.o, true, e)
			})
		})
	case cfg.Presenter != nil:
		add(func() error {
			return b.setCallback("OAuth presenter", &presenterCallback{s: b.s, fn: cfg.Presenter}, func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_presenter(b.o, C.mcp_presenter_fn(C.mcpgo_present), ud, C.mcp_free_fn(C.mcpgo_free), e)
			})
		})
	}
	if cfg.DeviceCodeDisplay != nil {
		add(func() error {
			return b.setCallback("OAuth device code display", &deviceCallback{s: b.s, fn: cfg.DeviceCodeDisplay}, func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_device_code_callback(b.o, C.mcp_device_code_fn(C.mcpgo_device_code), ud, C.mcp_free_fn(C.mcpgo_free), e)
			})
		})
	}
	if cfg.OnEvent != nil {
		add(func() error {
			return b.setCallback("OAuth event handler", &authEventCallback{fn: cfg.OnEvent}, func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result {
				return C.mcp_options_set_auth_event_callback(b.o, C.mcp_auth_event_fn(C.mcpgo_auth_event), ud, C.mcp_free_fn(C.mcpgo_free), e)
			})
		})
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// requestHandlers registers the one C request callback that dispatches to the Go handlers.
func (b *builder) requestHandlers(h requestCallback) error {
	if !h.any() {
		return nil
	}
	h.s = b.s
	caps := h.capabilities()
	return b.setCallback("request handlers", &h, func(ud unsafe.Pointer, e **C.mcp_error) C.mcp_result {
		return C.mcp_options_set_request_callback(b.o, caps, C.mcp_request_fn(C.mcpgo_request), ud, C.mcp_free_fn(C.mcpgo_free), e)
	})
}

// jsonText is v as JSON text: json.RawMessage and []byte as they are, anything else encoded.
func jsonText(op string, v any) ([]byte, error) {
	return appendJSONText(nil, op, v)
}

//! The options builder: everything a client is made from, set one call at a time.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::boundary::{boundary, json_arg, opt_str_arg, str_arg};
use super::callbacks::{
    auth_event_hook, mcp_auth_event_fn, mcp_device_code_fn, mcp_free_fn, mcp_notification_fn,
    mcp_presenter_fn, mcp_request_fn, mcp_store_load_fn, mcp_store_remove_fn, mcp_store_save_fn,
    AuthEventFn, CDevicePresenter, CNotifications, CPresenter, CRequests, CStore, DeviceFn,
    NotificationFn, PresenterFn, RequestFn, StoreFns,
};
use super::error::{mcp_error, mcp_result, Failure, FfiResult};
use super::foreign::{Foreign, Revoke, Slot};
use super::registry::Registry;
use mcp::config::{ClientBuilder, ClientConfig, StdioCommand};
use mcp::oauth::{EnterpriseGrant, Grant, HeadlessPresenter, OAuthConfig, OAuthEngine};
use mcp::secret::Secret;
use mcp::store::StoreChoice;

/// How requests are authorized (`mcp_options_set_auth`).
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mcp_auth_mode {
    /// No credentials (the default); a server that answers 401 fails with `MCP_RESULT_AUTH`.
    None = 0,
    /// A fixed bearer token (`mcp_options_set_bearer_token`).
    Bearer = 1,
    /// The OAuth engine: on a 401 it discovers, registers and signs in, then keeps the tokens
    /// fresh and stored.
    Oauth = 2,
}

impl mcp_auth_mode {
    /// The mode a C caller passed (the one place its integer is decoded).
    pub(crate) fn from_c(value: i32) -> FfiResult<Self> {
        Ok(match value {
            0 => Self::None,
            1 => Self::Bearer,
            2 => Self::Oauth,
            _ => return Err(Failure::invalid(format!("unknown auth mode {value}"))),
        })
    }
}

/// How OAuth tokens are obtained (`mcp_options_set_grant`).
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mcp_grant {
    /// Authorization code with PKCE through the user's browser (the default).
    AuthorizationCode = 0,
    /// `client_credentials`: the client acts on its own behalf (needs a pre-registered client
    /// with a secret, or a private key).
    ClientCredentials = 1,
    /// The device authorization grant (RFC 8628): a code the user enters on another device.
    DeviceCode = 2,
    /// RFC 7523 jwt-bearer with an assertion the host holds (e.g. a workload identity token).
    JwtBearer = 3,
}

impl mcp_grant {
    /// The grant a C caller passed (the one place its integer is decoded).
    pub(crate) fn from_c(value: i32) -> FfiResult<Self> {
        Ok(match value {
            0 => Self::AuthorizationCode,
            1 => Self::ClientCredentials,
            2 => Self::DeviceCode,
            3 => Self::JwtBearer,
            _ => return Err(Failure::invalid(format!("unknown grant {value}"))),
        })
    }
}

/// Where OAuth credentials are kept between runs (`mcp_options_set_store`). The environment
/// variable `MCP_CLIENT_STORE` (`keyring`, `kernel-keyring`, `file`, `file:<dir>`, `memory`)
/// overrides the choice, except custom stores (a host that supplies its store means it).
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mcp_store_kind {
    /// The OS keyring, else a private file with one warning (the default).
    Auto = 0,
    /// The OS keyring only.
    Keyring = 1,
    /// The Linux kernel keyring (secrets last until logout or reboot).
    KernelKeyring = 2,
    /// A private file (mode 0600) in a directory.
    File = 3,
    /// Memory only: nothing outlives the process.
    Memory = 4,
}

impl mcp_store_kind {
    /// The kind a C caller passed (the one place its integer is decoded).
    pub(crate) fn from_c(value: i32) -> FfiResult<Self> {
        Ok(match value {
            0 => Self::Auto,
            1 => Self::Keyring,
            2 => Self::KernelKeyring,
            3 => Self::File,
            4 => Self::Memory,
            _ => return Err(Failure::invalid(format!("unknown store kind {value}"))),
        })
    }

    /// The core's store choice for this kind (`dir`: the directory of `File`).
    fn choice(self, dir: Option<&str>) -> FfiResult<StoreChoice> {
        if dir.is_some() && self != Self::File {
            return Err(Failure::invalid(
                "`dir` applies to MCP_STORE_KIND_FILE only",
            ));
        }
        Ok(match self {
            Self::Auto => StoreChoice::Auto,
            Self::Keyring => StoreChoice::Keyring,
            Self::KernelKeyring => StoreChoice::KernelKeyring,
            Self::File => StoreChoice::File(dir.map(PathBuf::from)),
            Self::Memory => StoreChoice::Memory,
        })
    }
}

/// `mcp_options_set_request_callback`: also answer `elicitation/create` (and declare the
/// `elicitation` capability).
pub const MCP_CAPABILITY_ELICITATION: u32 = 1;
/// Also answer `sampling/createMessage` (and declare `sampling`).
pub const MCP_CAPABILITY_SAMPLING: u32 = 2;
/// Also answer `roots/list` (and declare `roots`).
pub const MCP_CAPABILITY_ROOTS: u32 = 4;

#[derive(Clone)]
enum Target {
    Http(String),
    Stdio(StdioCommand),
}

#[derive(Clone)]
enum StoreSetting {
    Choice(StoreChoice),
    Custom(Arc<Foreign<StoreFns>>),
}

#[derive(Clone)]
enum PresenterSetting {
    Browser,
    Headless,
    Callback(Arc<Foreign<PresenterFn>>),
}

/// Options to make a client from: the server, authorization, timeouts and callbacks. Made by
/// `mcp_options_new`, freed by `mcp_options_free`; one thread at a time may set options. A
/// client copies what it needs: the options may be changed, reused or freed afterwards.
pub struct mcp_options {
    target: Option<Target>,
    client_info: Option<(String, String)>,
    auth: mcp_auth_mode,
    /// Whether the host chose the mode with `mcp_options_set_auth` (otherwise setting a bearer
    /// token or an OAuth-only option chooses it).
    auth_chosen: bool,
    /// The OAuth-only options set, by name: an error at build unless the mode is OAuth.
    oauth_only: Vec<&'static str>,
    bearer: Option<String>,
    headers: Vec<(String, String)>,
    ca_files: Vec<PathBuf>,
    client_metadata_url: Option<String>,
    client_id: Option<(String, Option<String>)>,
    client_issuer: Option<String>,
    scopes: Option<Vec<String>>,
    redirect_port: u16,
    redirect_timeout: Option<Duration>,
    store: StoreSetting,
    presenter: PresenterSetting,
    request_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    protocol_version: Option<String>,
    capabilities: Option<Value>,
    notification: Option<Arc<Foreign<NotificationFn>>>,
    auth_event: Option<Arc<Foreign<AuthEventFn>>>,
    device_code: Option<Arc<Foreign<DeviceFn>>>,
    request: Option<(u32, Arc<Foreign<RequestFn>>)>,
    grant: Grant,
    private_key: Option<(Secret, Option<String>)>,
}

pub(crate) static OPTIONS: Registry = Registry::new();

/// What a client is made of.
pub(crate) struct Built {
    pub config: ClientConfig,
    pub oauth: Option<Arc<OAuthEngine>>,
    pub slots: Vec<Arc<dyn Revoke>>,
}

impl mcp_options {
    fn new() -> Self {
        mcp_options {
            target: None,
            client_info: None,
            auth: mcp_auth_mode::None,
            auth_chosen: false,
            oauth_only: Vec::new(),
            bearer: None,
            headers: Vec::new(),
            ca_files: Vec::new(),
            client_metadata_url: None,
            client_id: None,
            client_issuer: None,
            scopes: None,
            redirect_port: 0,
            redirect_timeout: None,
            store: StoreSetting::Choice(StoreChoice::Auto),
            presenter: PresenterSetting::Browser,
            request_timeout: None,
            connect_timeout: None,
            protocol_version: None,
            capabilities: None,
            notification: None,
            auth_event: None,
            device_code: None,
            request: None,
            grant: Grant::AuthorizationCode,
            private_key: None,
        }
    }

    /// Note an OAuth-only option: it turns OAuth on unless the host chose a mode (or a bearer
    /// token did); `build` refuses it under another mode.
    fn oauth_option(&mut self, name: &'static str) {
        if !self.oauth_only.contains(&name) {
            self.oauth_only.push(name);
        }
        if !self.auth_chosen && self.auth == mcp_auth_mode::None {
            self.auth = mcp_auth_mode::Oauth;
        }
    }

    /// Options that the auth mode would leave unused: an error, never silently ignored.
    fn check_unused(&self) -> FfiResult {
        if self.auth != mcp_auth_mode::Oauth && !self.oauth_only.is_empty() {
            return Err(Failure::invalid(format!(
                "OAuth options are set ({}) but the auth mode is {:?} (see mcp_options_set_auth)",
                self.oauth_only.join(", "),
                self.auth
            )));
        }
        if matches!(self.target, Some(Target::Stdio(_))) {
            let mut http_only: Vec<&str> = Vec::new();
            if !self.headers.is_empty() {
                http_only.push("headers");
            }
            if !self.ca_files.is_empty() {
                http_only.push("CA files");
            }
            if self.connect_timeout.is_some() {
                http_only.push("connect timeout");
            }
            if self.auth != mcp_auth_mode::None {
                http_only.push("authorization");
            }
            if !http_only.is_empty() {
                return Err(Failure::invalid(format!(
                    "{} apply to HTTP servers only, and this one is a stdio command",
                    http_only.join(", ")
                )));
            }
        }
        if self.auth != mcp_auth_mode::Bearer && self.bearer.is_some() {
            return Err(Failure::invalid(format!(
                "a bearer token is set but the auth mode is {:?} (see mcp_options_set_auth)",
                self.auth
            )));
        }
        Ok(())
    }

    /// The configuration, the OAuth engine (in OAuth mode) and the client's callback slots.
    pub(crate) fn build(&self) -> FfiResult<Built> {
        self.check_unused()?;
        let mut slots: Vec<Arc<dyn Revoke>> = Vec::new();
        let mut b = match &self.target {
            None => {
                return Err(Failure::invalid(
                    "no server: call mcp_options_set_url or mcp_options_set_stdio",
                ))
            }
            Some(Target::Http(url)) => ClientBuilder::http(url)?,
            Some(Target::Stdio(cmd)) => ClientBuilder::stdio(cmd.clone()),
        };
        if let Some((name, version)) = &self.client_info {
            b = b.client_info(name, version);
        }
        for (name, value) in &self.headers {
            b = b.header(name, value);
        }
        for f in &self.ca_files {
            b = b.extra_ca_file(f.clone());
        }
        if let Some(t) = self.request_timeout {
            b = b.request_timeout(t);
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(v) = &self.protocol_version {
            b = b.protocol_version(v);
        }
        if let Some(c) = &self.capabilities {
            b = b.capabilities(c.clone());
        }
        if let Some(n) = &self.notification {
            let slot = Slot::new(n.clone());
            slots.push(slot.clone());
            b = b.on_notification(CNotifications { slot });
        }
        if let Some((caps, r)) = &self.request {
            let slot = Slot::new(r.clone());
            slots.push(slot.clone());
            let h = || CRequests { slot: slot.clone() };
            if caps & MCP_CAPABILITY_ELICITATION != 0 {
                b = b.on_elicitation(h());
            }
            if caps & MCP_CAPABILITY_SAMPLING != 0 {
                b = b.on_sampling(h());
            }
            if caps & MCP_CAPABILITY_ROOTS != 0 {
                b = b.on_roots(h());
            }
            b = b.on_request(h());
        }
        let mut oauth = None;
        match self.auth {
            mcp_auth_mode::None => {}
            mcp_auth_mode::Bearer => match &self.bearer {
                Some(t) => b = b.bearer(t),
                None => {
                    return Err(Failure::invalid(
                        "bearer mode needs a token: call mcp_options_set_bearer_token",
                    ))
                }
            },
            mcp_auth_mode::Oauth => {
                let cfg = self.oauth_config(&mut slots)?;
                let (with_oauth, engine) = b.oauth_with_engine(cfg)?;
                b = with_oauth;
                oauth = Some(engine);
            }
        }
        Ok(Built {
            config: b.build(),
            oauth,
            slots,
        })
    }

    fn oauth_config(&self, slots: &mut Vec<Arc<dyn Revoke>>) -> FfiResult<OAuthConfig> {
        let mut cfg = OAuthConfig::default();
        if let Some((name, _)) = &self.client_info {
            cfg.registration.client_name = name.clone();
        }
        if let Some((id, secret)) = &self.client_id {
            cfg = cfg.client(id, secret.as_deref());
        }
        if let Some(i) = &self.client_issuer {
            cfg = cfg.client_issuer(i);
        }
        if let Some(u) = &self.client_metadata_url {
            cfg = cfg.client_metadata_url(u);
        }
        if let Some((pem, alg)) = &self.private_key {
            cfg = cfg.private_key(pem.expose(), alg.as_deref());
        }
        cfg = cfg.grant(self.grant.clone());
        cfg.scopes = self.scopes.clone();
        cfg.redirect_port = self.redirect_port;
        if let Some(t) = self.redirect_timeout {
            cfg.redirect_timeout = t;
        }
        cfg.store = match &self.store {
            StoreSetting::Choice(c) => c.clone(),
            StoreSetting::Custom(f) => {
                let slot = Slot::new(f.clone());
                slots.push(slot.clone());
                StoreChoice::Custom(Arc::new(CStore { slot }))
            }
        };
        if let Some(f) = &self.auth_event {
            let slot = Slot::new(f.clone());
            slots.push(slot.clone());
            cfg.on_event = Some(auth_event_hook(slot));
        }
        match &self.presenter {
            PresenterSetting::Browser => {}
            PresenterSetting::Headless => cfg = cfg.presenter(HeadlessPresenter::new()?),
            PresenterSetting::Callback(f) => {
                let slot = Slot::new(f.clone());
                slots.push(slot.clone());
                cfg = cfg.presenter(CPresenter { slot });
            }
        }
        if let Some(f) = &self.device_code {
            let slot = Slot::new(f.clone());
            slots.push(slot.clone());
            cfg.presenter = Arc::new(CDevicePresenter {
                inner: cfg.presenter.clone(),
                slot,
            });
        }
        Ok(cfg)
    }
}

/// Run a setter on live options; a failure says why through `error_out`.
fn set(
    options: *mut mcp_options,
    error_out: *mut *mut mcp_error,
    f: impl FnOnce(&mut mcp_options) -> FfiResult,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or live options from `mcp_options_new`, used by one thread at a time.
        let o = unsafe { options.as_mut() }.ok_or_else(|| Failure::null("options"))?;
        f(o)
    })
}

fn millis(ms: u64) -> FfiResult<Duration> {
    if ms == 0 {
        Err(Failure::invalid("a timeout must be more than 0 ms"))
    } else {
        Ok(Duration::from_millis(ms))
    }
}

/// New options with every default: no server yet, no authorization, a 60 s request timeout,
/// the system browser as the OAuth presenter and the OS keyring (else a private file) as the
/// store. NULL only if the library failed unexpectedly.
#[no_mangle]
pub extern "C" fn mcp_options_new() -> *mut mcp_options {
    super::catch::boundary_value(std::ptr::null_mut(), || {
        let p = Box::into_raw(Box::new(mcp_options::new()));
        OPTIONS.insert(p);
        p
    })
}

/// Free options. NULL is fine, and so is a second free of the same pointer (ignored, while
/// the address has not been reused). Clients made from them are not affected.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_free(options: *mut mcp_options) {
    super::catch::boundary_value((), || {
        if !options.is_null() && OPTIONS.remove(options) {
            // SAFETY: a live pointer from `mcp_options_new`, freed once (checked above).
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

/// The server's URL (http or https): Streamable HTTP, falling back to HTTP+SSE.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_url(
    options: *mut mcp_options,
    url: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let url = unsafe { str_arg(url, "url") }?;
        ClientBuilder::http(url)?;
        o.target = Some(Target::Http(url.to_owned()));
        Ok(())
    })
}

/// A stdio server instead: the command line of the process to start (words split on
/// whitespace; single or double quotes group words).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_stdio(
    options: *mut mcp_options,
    command_line: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let line = unsafe { str_arg(command_line, "command_line") }?;
        o.target = Some(Target::Stdio(StdioCommand::parse(line)?));
        Ok(())
    })
}

/// `clientInfo` sent in the handshake (and the client name used in OAuth registration).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_client_info(
    options: *mut mcp_options,
    name: *const c_char,
    version: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: C string arguments.
        let (name, version) = unsafe { (str_arg(name, "name")?, str_arg(version, "version")?) };
        o.client_info = Some((name.to_owned(), version.to_owned()));
        Ok(())
    })
}

/// The auth mode: an `mcp_auth_mode` value.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_auth(
    options: *mut mcp_options,
    mode: i32,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.auth = mcp_auth_mode::from_c(mode)?;
        o.auth_chosen = true;
        Ok(())
    })
}

/// A fixed bearer token; also selects `MCP_AUTH_MODE_BEARER`.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_bearer_token(
    options: *mut mcp_options,
    token: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let token = unsafe { str_arg(token, "token") }?;
        o.bearer = Some(token.to_owned());
        if !o.auth_chosen {
            o.auth = mcp_auth_mode::Bearer;
        }
        Ok(())
    })
}

/// Add a header to every HTTP request (an API key and the like; its value is treated as a
/// secret and never logged).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_add_header(
    options: *mut mcp_options,
    name: *const c_char,
    value: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: C string arguments.
        let (name, value) = unsafe { (str_arg(name, "name")?, str_arg(value, "value")?) };
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(Failure::invalid(format!("`{name}` is not a header name")));
        }
        if reqwest::header::HeaderValue::from_str(value).is_err() {
            return Err(Failure::invalid(format!(
                "the value of `{name}` is not a valid header value"
            )));
        }
        o.headers.push((name.to_owned(), value.to_owned()));
        Ok(())
    })
}

/// Trust the CA certificates in this PEM file too (besides the system's and `SSL_CERT_FILE`).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_add_ca_file(
    options: *mut mcp_options,
    path: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let path = unsafe { str_arg(path, "path") }?;
        o.ca_files.push(PathBuf::from(path));
        Ok(())
    })
}

/// OAuth: the URL of this client's metadata document (an HTTPS URL with a path), used when
/// the authorization server supports client ID metadata documents.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_client_metadata_url(
    options: *mut mcp_options,
    url: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let url = unsafe { str_arg(url, "url") }?;
        o.client_metadata_url = Some(url.to_owned());
        o.oauth_option("client metadata URL");
        Ok(())
    })
}

/// OAuth: a pre-registered client id, with its secret (NULL for a public client).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_client_id(
    options: *mut mcp_options,
    client_id: *const c_char,
    client_secret: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: C string arguments.
        let (id, secret) = unsafe {
            (
                str_arg(client_id, "client_id")?,
                opt_str_arg(client_secret, "client_secret")?,
            )
        };
        o.client_id = Some((id.to_owned(), secret.map(str::to_owned)));
        o.oauth_option("client id");
        Ok(())
    })
}

/// OAuth: the issuer (authorization server) the pre-registered client, private key or
/// assertion belongs to. They are never sent to another; without this they are bound to the
/// issuer they are first used with (remembered in the store), and a server that later names
/// another authorization server gets `MCP_RESULT_AUTH` instead of them.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_client_issuer(
    options: *mut mcp_options,
    issuer: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let issuer = unsafe { str_arg(issuer, "issuer") }?;
        o.client_issuer = Some(issuer.to_owned());
        o.oauth_option("client issuer");
        Ok(())
    })
}

/// OAuth: how tokens are obtained, an `mcp_grant` value. `assertion` is the assertion of
/// `MCP_GRANT_JWT_BEARER` (required there, NULL otherwise). Grants without a browser need
/// client credentials (`mcp_options_set_client_id` with a secret, or
/// `mcp_options_set_private_key`).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_grant(
    options: *mut mcp_options,
    grant: i32,
    assertion: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let assertion = unsafe { opt_str_arg(assertion, "assertion") }?;
        o.grant = match (mcp_grant::from_c(grant)?, assertion) {
            (mcp_grant::AuthorizationCode, None) => Grant::AuthorizationCode,
            (mcp_grant::ClientCredentials, None) => Grant::ClientCredentials,
            (mcp_grant::DeviceCode, None) => Grant::DeviceCode,
            (mcp_grant::JwtBearer, Some(a)) => Grant::JwtBearer {
                assertion: Secret::new(a),
            },
            (mcp_grant::JwtBearer, None) => {
                return Err(Failure::invalid("MCP_GRANT_JWT_BEARER needs an assertion"))
            }
            (_, Some(_)) => {
                return Err(Failure::invalid(
                    "only MCP_GRANT_JWT_BEARER takes an assertion",
                ))
            }
        };
        o.oauth_option("grant");
        Ok(())
    })
}

/// OAuth: authenticate the client with `private_key_jwt`, signing with this PEM key (PKCS#8 EC
/// P-256 or RSA, or PKCS#1 RSA); `alg` is `"ES256"` or `"RS256"` (NULL: from the key).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_private_key(
    options: *mut mcp_options,
    pem: *const c_char,
    alg: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: C string arguments.
        let (pem, alg) = unsafe { (str_arg(pem, "pem")?, opt_str_arg(alg, "alg")?) };
        // Checked now, so a bad key is reported by this call rather than at connect.
        mcp::oauth::jwt::SigningKey::from_pem(pem, alg)
            .map_err(|e| Failure::invalid(e.to_string()))?;
        o.private_key = Some((Secret::new(pem), alg.map(str::to_owned)));
        o.oauth_option("private key");
        Ok(())
    })
}

/// OAuth: the scopes to request, separated by spaces, instead of the server's guidance
/// (NULL: the server's guidance).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_scopes(
    options: *mut mcp_options,
    scopes: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let scopes = unsafe { opt_str_arg(scopes, "scopes") }?;
        o.scopes = scopes.map(|s| s.split_whitespace().map(str::to_owned).collect());
        if o.scopes.is_some() {
            o.oauth_option("scopes");
        }
        Ok(())
    })
}

/// OAuth: the port of the loopback redirect listener (0, the default: any free port).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_redirect_port(
    options: *mut mcp_options,
    port: u16,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.redirect_port = port;
        o.oauth_option("redirect port");
        Ok(())
    })
}

/// OAuth: how long the loopback listener waits for the browser's redirect (default 300 s).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_redirect_timeout_ms(
    options: *mut mcp_options,
    timeout_ms: u64,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.redirect_timeout = Some(millis(timeout_ms)?);
        o.oauth_option("redirect timeout");
        Ok(())
    })
}

/// OAuth: where credentials are kept, an `mcp_store_kind` value; `dir` is the directory of
/// `MCP_STORE_KIND_FILE` (NULL: `$XDG_STATE_HOME/mcp-client` or
/// `~/.local/state/mcp-client`) and must be NULL for the other kinds. Replaces custom store
/// callbacks set earlier.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_store(
    options: *mut mcp_options,
    kind: i32,
    dir: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let dir = unsafe { opt_str_arg(dir, "dir") }?;
        o.store = StoreSetting::Choice(mcp_store_kind::from_c(kind)?.choice(dir)?);
        o.oauth_option("store");
        Ok(())
    })
}

/// OAuth: where credentials are kept, by name, as the CLI's `--store` and `MCP_CLIENT_STORE`
/// take it: `auto`, `keyring`, `kernel-keyring`, `file`, `file:<dir>`, `memory`, or a Redis URL
/// (`redis://[user:password@]host:port/db`, `rediss://` for TLS) shared by hosts on many
/// machines, with the store's settings as query parameters (`prefix`, `lease_ms`,
/// `timeout_ms`, `lock_wait_ms`, `fallback`, `key_file`; see docs/auth.md). A name or URL that
/// cannot be used is refused here, saying why (never echoing a password). Replaces custom
/// store callbacks set earlier.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_store_url(
    options: *mut mcp_options,
    store: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let store = unsafe { str_arg(store, "store") }?;
        let choice =
            StoreChoice::parse_checked(store).map_err(|e| Failure::invalid(e.to_string()))?;
        o.store = StoreSetting::Choice(choice);
        o.oauth_option("store");
        Ok(())
    })
}

/// OAuth: a store of the host's own, as three callbacks sharing `user_data`. All three
/// NULL: back to the default store. On success the options own `user_data`: `user_data_free`
/// (may be NULL) runs once, when these options and every client made from them are freed (or
/// the store is replaced). On failure nothing is kept.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_store_callbacks(
    options: *mut mcp_options,
    load: mcp_store_load_fn,
    save: mcp_store_save_fn,
    remove: mcp_store_remove_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        match (load, save, remove) {
            (None, None, None) => o.store = StoreSetting::Choice(StoreChoice::Auto),
            (Some(load), Some(save), Some(remove)) => {
                o.store = StoreSetting::Custom(Foreign::new(
                    StoreFns { load, save, remove },
                    user_data,
                    user_data_free,
                ));
                o.oauth_option("store callbacks");
            }
            (None, _, _) => return Err(Failure::null("load")),
            (_, None, _) => return Err(Failure::null("save")),
            (_, _, None) => return Err(Failure::null("remove")),
        }
        Ok(())
    })
}

/// OAuth: show the authorization URL with this callback instead of opening the system
/// browser. NULL: back to the browser. Ownership of `user_data` as for the store callbacks.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_presenter(
    options: *mut mcp_options,
    presenter: mcp_presenter_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.presenter = match presenter {
            None => PresenterSetting::Browser,
            Some(f) => {
                o.oauth_option("presenter");
                PresenterSetting::Callback(Foreign::new(f, user_data, user_data_free))
            }
        };
        Ok(())
    })
}

/// OAuth: with `enabled`, answer the authorization URL with one plain GET and take the code
/// from its redirect, for authorization servers that approve without a user (tests,
/// automation). Replaces the presenter callback; `false` goes back to the system browser.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_headless_presenter(
    options: *mut mcp_options,
    enabled: bool,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.presenter = if enabled {
            o.oauth_option("headless presenter");
            PresenterSetting::Headless
        } else {
            PresenterSetting::Browser
        };
        Ok(())
    })
}

/// The default timeout of each request (default 60 s; `mcp_call_options_set_timeout_ms`
/// overrides it per call). Time spent signing in does not count against it.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_request_timeout_ms(
    options: *mut mcp_options,
    timeout_ms: u64,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.request_timeout = Some(millis(timeout_ms)?);
        Ok(())
    })
}

/// The timeout to establish a TCP/TLS connection (default 10 s).
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_connect_timeout_ms(
    options: *mut mcp_options,
    timeout_ms: u64,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.connect_timeout = Some(millis(timeout_ms)?);
        Ok(())
    })
}

/// Pin the protocol version (e.g. `2025-06-18`) instead of negotiating the newest.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_protocol_version(
    options: *mut mcp_options,
    version: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let v = unsafe { str_arg(version, "version") }?;
        o.protocol_version = Some(v.to_owned());
        Ok(())
    })
}

/// Extra client capabilities to declare: a JSON object merged over those the callbacks imply.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_capabilities(
    options: *mut mcp_options,
    capabilities_json: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: a C string argument.
        let text = unsafe { str_arg(capabilities_json, "capabilities_json") }?;
        match json_arg(text, "capabilities_json")? {
            v @ Value::Object(_) => o.capabilities = Some(v),
            _ => {
                return Err(Failure::invalid(
                    "`capabilities_json` must be a JSON object",
                ))
            }
        }
        Ok(())
    })
}

/// Receive server notifications (logging, progress, list changes, resource updates), in
/// order. NULL: none. Ownership of `user_data` as for the store callbacks.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_notification_callback(
    options: *mut mcp_options,
    callback: mcp_notification_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.notification = callback.map(|f| Foreign::new(f, user_data, user_data_free));
        Ok(())
    })
}

/// Receive authorization events (sign-in needed, browser opened, signed in, token refreshed,
/// step-up, refresh failed, store selected, logged out) as JSON objects: see
/// `mcp_auth_event_fn`. Used in OAuth mode. NULL: none. Ownership of `user_data` as for the
/// store callbacks.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_auth_event_callback(
    options: *mut mcp_options,
    callback: mcp_auth_event_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.auth_event = callback.map(|f| Foreign::new(f, user_data, user_data_free));
        if o.auth_event.is_some() {
            o.oauth_option("auth event callback");
        }
        Ok(())
    })
}

/// OAuth: show device-flow codes (`MCP_GRANT_DEVICE_CODE`) with this callback instead of
/// printing them on stderr. NULL: back to stderr. Ownership of `user_data` as for the store
/// callbacks.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_device_code_callback(
    options: *mut mcp_options,
    callback: mcp_device_code_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.device_code = callback.map(|f| Foreign::new(f, user_data, user_data_free));
        if o.device_code.is_some() {
            o.oauth_option("device code callback");
        }
        Ok(())
    })
}

/// OAuth: enterprise-managed authorization (SEP-990): the user's identity-provider token
/// `subject_token` (of type `subject_token_type`; NULL: an OpenID Connect ID token) is
/// exchanged at the identity provider's token endpoint (RFC 8693), as the client
/// `idp_client_id` (with `idp_client_secret`, or NULL for a public client there), for an
/// identity assertion that this server's authorization server redeems (RFC 7523). Replaces
/// the grant set with `mcp_options_set_grant`.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_enterprise_grant(
    options: *mut mcp_options,
    idp_token_endpoint: *const c_char,
    idp_client_id: *const c_char,
    idp_client_secret: *const c_char,
    subject_token: *const c_char,
    subject_token_type: *const c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        // SAFETY: C string arguments.
        let (endpoint, client_id, secret, token, token_type) = unsafe {
            (
                str_arg(idp_token_endpoint, "idp_token_endpoint")?,
                str_arg(idp_client_id, "idp_client_id")?,
                opt_str_arg(idp_client_secret, "idp_client_secret")?,
                str_arg(subject_token, "subject_token")?,
                opt_str_arg(subject_token_type, "subject_token_type")?,
            )
        };
        mcp::oauth::http::endpoint(endpoint, "idp_token_endpoint")
            .map_err(|e| Failure::invalid(e.to_string()))?;
        o.grant = Grant::EnterpriseManaged(EnterpriseGrant {
            idp_token_endpoint: endpoint.to_owned(),
            idp_client_id: client_id.to_owned(),
            idp_client_secret: secret.map(Secret::new),
            subject_token: Secret::new(token),
            subject_token_type: token_type
                .unwrap_or("urn:ietf:params:oauth:token-type:id_token")
                .to_owned(),
        });
        o.oauth_option("grant");
        Ok(())
    })
}

/// Answer server requests with this callback: any method, and, for each `MCP_CAPABILITY_*`
/// bit in `capabilities`, the matching request type, whose capability is then declared.
/// NULL: none (server requests are answered "method not found"). Ownership of `user_data` as
/// for the store callbacks.
#[no_mangle]
pub unsafe extern "C" fn mcp_options_set_request_callback(
    options: *mut mcp_options,
    capabilities: u32,
    callback: mcp_request_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    set(options, error_out, |o| {
        o.request = callback.map(|f| (capabilities, Foreign::new(f, user_data, user_data_free)));
        Ok(())
    })
}

/// Options as a reference (NULL: `NULL_ARGUMENT`).
///
/// # Safety
/// `options` is NULL or live options.
pub(crate) unsafe fn options_ref<'a>(options: *const mcp_options) -> FfiResult<&'a mcp_options> {
    // SAFETY: by the caller's contract.
    unsafe { options.as_ref() }.ok_or_else(|| Failure::null("options"))
}

//! What a client is made of: the Python keyword arguments (normalised by
//! `mcp_client/_config.py`) as the core's `ClientConfig` and, under OAuth, its engine.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp::oauth::{
    BrowserPresenter, DpopMode, EnterpriseGrant, Grant, HeadlessPresenter, OAuthConfig,
    OAuthEngine, Presenter,
};
use mcp::store::StoreChoice;
use mcp::{ClientBuilder, ClientConfig, Secret, StdioCommand};
use pyo3::conversion::FromPyObjectOwned;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::callbacks::{event_hook, Dispatcher, PyHandler, PyNotifications, PyPresenter, PyStore};
use crate::errors::{invalid, to_py, CallbackFailure};

/// A client's configuration, made once and used by one connect.
pub(crate) struct Built {
    pub config: ClientConfig,
    pub oauth: Option<Arc<OAuthEngine>>,
    pub failure: CallbackFailure,
}

/// The configuration of one client (see `mcp_client/_config.py`).
#[pyclass(frozen, module = "mcp_client._native")]
pub(crate) struct NativeConfig {
    built: Mutex<Option<Built>>,
}

impl NativeConfig {
    /// The configuration, once: a second connect with the same one is refused.
    pub fn take(&self) -> PyResult<Built> {
        self.built
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| invalid("this configuration was used by a client already"))
    }
}

/// A positive, finite number of seconds.
pub(crate) fn seconds(what: &str, t: Option<f64>) -> PyResult<Option<Duration>> {
    match t {
        None => Ok(None),
        Some(t) if t.is_finite() && t > 0.0 && t < 1e9 => Ok(Some(Duration::from_secs_f64(t))),
        Some(t) => Err(invalid(format!(
            "{what} must be a positive number of seconds, not {t}"
        ))),
    }
}

/// `d[key]`, absent or None as `None`.
fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => v
            .extract()
            .map(Some)
            .map_err(|e| invalid(format!("`{key}`: {}", Into::<PyErr>::into(e)))),
        _ => Ok(None),
    }
}

#[pymethods]
impl NativeConfig {
    /// Build the configuration. `handlers` maps `elicitation`, `sampling`, `roots` and
    /// `request` to callables `(method, params_json) -> result_json`; `on_notification` is
    /// `(method, params_json) -> None`; `oauth` is the dict of `OAuth._native()`.
    #[new]
    #[pyo3(signature = (url=None, *, command=None, bearer=None, headers=None, timeout=None,
        connect_timeout=None, protocol_version=None, client_name=None, client_version=None,
        ca_file=None, handlers=None, on_notification=None, oauth=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: Option<&str>,
        command: Option<&str>,
        bearer: Option<&str>,
        headers: Option<Vec<(String, String)>>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        protocol_version: Option<&str>,
        client_name: Option<&str>,
        client_version: Option<&str>,
        ca_file: Option<std::path::PathBuf>,
        handlers: Option<&Bound<'_, PyDict>>,
        on_notification: Option<Py<PyAny>>,
        oauth: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut b = target(py, url, command)?;
        let http_only = headers.as_ref().is_some_and(|h| !h.is_empty())
            || bearer.is_some()
            || oauth.is_some()
            || ca_file.is_some()
            || connect_timeout.is_some();
        if command.is_some() && http_only {
            return Err(invalid(
                "headers, bearer, oauth, ca_file and connect_timeout apply to HTTP servers \
                 only, and this one is a stdio command",
            ));
        }
        if bearer.is_some() && oauth.is_some() {
            return Err(invalid("give bearer or oauth, not both"));
        }
        if let Some(t) = bearer {
            b = b.bearer(t);
        }
        for (k, v) in headers.unwrap_or_default() {
            b = b.header(&k, &v);
        }
        if let Some(t) = seconds("timeout", timeout)? {
            b = b.request_timeout(t);
        }
        if let Some(t) = seconds("connect_timeout", connect_timeout)? {
            b = b.connect_timeout(t);
        }
        if let Some(v) = protocol_version {
            b = b.protocol_version(v);
        }
        if let Some(name) = client_name {
            b = b.client_info(name, client_version.unwrap_or(mcp::VERSION));
        }
        if let Some(f) = ca_file {
            b = b.extra_ca_file(f);
        }
        let dispatch = dispatcher_for(on_notification.is_some(), oauth)?;
        if let (Some(f), Some(to)) = (on_notification, &dispatch) {
            b = b.on_notification(PyNotifications {
                f: Arc::new(f),
                to: to.clone(),
            });
        }
        if let Some(h) = handlers {
            b = with_handlers(b, h)?;
        }
        let failure = CallbackFailure::default();
        let mut engine = None;
        if let Some(o) = oauth {
            let cfg = oauth_config(o, &failure, dispatch.as_ref())?;
            let (with_oauth, e) = b.oauth_with_engine(cfg).map_err(|e| to_py(py, &e, None))?;
            b = with_oauth;
            engine = Some(e);
        }
        Ok(NativeConfig {
            built: Mutex::new(Some(Built {
                config: b.build(),
                oauth: engine,
                failure,
            })),
        })
    }
}

/// The server: a URL or a stdio command line.
fn target(py: Python<'_>, url: Option<&str>, command: Option<&str>) -> PyResult<ClientBuilder> {
    match (url, command) {
        (Some(u), None) => ClientBuilder::http(u).map_err(|e| to_py(py, &e, None)),
        (None, Some(c)) => StdioCommand::parse(c)
            .map(ClientBuilder::stdio)
            .map_err(|e| to_py(py, &e, None)),
        _ => Err(invalid("give exactly one of url and command")),
    }
}

/// The dispatch thread, when notifications or auth events go to Python.
fn dispatcher_for(
    notifications: bool,
    oauth: Option<&Bound<'_, PyDict>>,
) -> PyResult<Option<Dispatcher>> {
    let events = match oauth {
        Some(o) => o.get_item("on_event")?.is_some_and(|v| !v.is_none()),
        None => false,
    };
    if !(notifications || events) {
        return Ok(None);
    }
    Dispatcher::start().map(Some).map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start a thread: {e}"))
    })
}

/// The server-request handlers.
fn with_handlers(mut b: ClientBuilder, h: &Bound<'_, PyDict>) -> PyResult<ClientBuilder> {
    for (k, v) in h.iter() {
        let name: String = k.extract()?;
        let f = PyHandler(Arc::new(v.unbind()));
        b = match name.as_str() {
            "elicitation" => b.on_elicitation(f),
            "sampling" => b.on_sampling(f),
            "roots" => b.on_roots(f),
            "request" => b.on_request(f),
            other => return Err(invalid(format!("no handler called `{other}`"))),
        };
    }
    Ok(b)
}

/// The grant named in the dict.
fn grant(o: &Bound<'_, PyDict>) -> PyResult<Grant> {
    let name: String = get(o, "grant")?.unwrap_or_else(|| "authorization_code".into());
    Ok(match name.as_str() {
        "authorization_code" => Grant::AuthorizationCode,
        "client_credentials" => Grant::ClientCredentials,
        "device_code" => Grant::DeviceCode,
        "jwt_bearer" => Grant::JwtBearer {
            assertion: Secret::new(
                get::<String>(o, "assertion")?
                    .ok_or_else(|| invalid("the jwt_bearer grant needs an assertion"))?,
            ),
        },
        "enterprise_managed" => {
            let e: Bound<'_, PyDict> = get(o, "enterprise")?
                .ok_or_else(|| invalid("the enterprise_managed grant needs its IdP settings"))?;
            let need = |k: &str| -> PyResult<String> {
                get(&e, k)?.ok_or_else(|| invalid(format!("the enterprise grant needs `{k}`")))
            };
            Grant::EnterpriseManaged(EnterpriseGrant {
                idp_token_endpoint: need("idp_token_endpoint")?,
                idp_client_id: need("idp_client_id")?,
                idp_client_secret: get::<String>(&e, "idp_client_secret")?.map(Secret::new),
                subject_token: Secret::new(need("subject_token")?),
                subject_token_type: get(&e, "subject_token_type")?
                    .unwrap_or_else(|| "urn:ietf:params:oauth:token-type:id_token".into()),
            })
        }
        other => return Err(invalid(format!("unknown grant `{other}`"))),
    })
}

/// The store named, or the Python object given.
fn store(o: &Bound<'_, PyDict>) -> PyResult<StoreChoice> {
    let Some(v) = o.get_item("store")?.filter(|v| !v.is_none()) else {
        return Ok(StoreChoice::Auto);
    };
    if let Ok(name) = v.extract::<String>() {
        return StoreChoice::parse_checked(&name).map_err(|e| invalid(e.to_string()));
    }
    for m in ["load", "save", "delete"] {
        if !v.hasattr(m)? {
            return Err(invalid(format!(
                "a credential store needs load, save and delete; this one has no `{m}`"
            )));
        }
    }
    let name = get(o, "store_name")?.unwrap_or_else(|| "python".into());
    Ok(StoreChoice::Custom(Arc::new(PyStore {
        obj: v.unbind(),
        name,
    })))
}

/// The presenter: `browser`, `print`, `headless` or a callable.
fn presenter(o: &Bound<'_, PyDict>, failure: &CallbackFailure) -> PyResult<Presenter> {
    let v = o.get_item("presenter")?.filter(|v| !v.is_none());
    let show_device: Option<Py<PyAny>> = get(o, "show_device")?;
    let (inner, present): (Presenter, Option<Py<PyAny>>) = match &v {
        None => (Arc::new(BrowserPresenter::default()), None),
        Some(v) if v.is_callable() => (
            Arc::new(BrowserPresenter::default()),
            Some(v.clone().unbind()),
        ),
        Some(v) => match v.extract::<String>().ok().as_deref() {
            Some("browser") => (Arc::new(BrowserPresenter::default()), None),
            Some("print") => (Arc::new(BrowserPresenter { print_only: true }), None),
            Some("headless") => (
                Arc::new(HeadlessPresenter::new().map_err(|e| invalid(e.to_string()))?),
                None,
            ),
            _ => {
                return Err(invalid(
                    "presenter must be \"browser\", \"print\", \"headless\" or a callable",
                ))
            }
        },
    };
    if present.is_none() && show_device.is_none() {
        return Ok(inner);
    }
    Ok(Arc::new(PyPresenter {
        present,
        show_device,
        inner,
        failure: failure.clone(),
    }))
}

/// The OAuth settings from the dict of `OAuth._native()`.
fn oauth_config(
    o: &Bound<'_, PyDict>,
    failure: &CallbackFailure,
    dispatch: Option<&Dispatcher>,
) -> PyResult<OAuthConfig> {
    let mut cfg = OAuthConfig::default();
    if let Some(name) = get::<String>(o, "client_name")? {
        cfg.registration.client_name = name;
    }
    if let Some(id) = get::<String>(o, "client_id")? {
        cfg = cfg.client(&id, get::<String>(o, "client_secret")?.as_deref());
    } else if get::<String>(o, "client_secret")?.is_some() {
        return Err(invalid("client_secret needs client_id"));
    }
    if let Some(i) = get::<String>(o, "client_issuer")? {
        cfg = cfg.client_issuer(&i);
    }
    if let Some(u) = get::<String>(o, "client_metadata_url")? {
        cfg = cfg.client_metadata_url(&u);
    }
    if let Some(pem) = get::<String>(o, "private_key_pem")? {
        cfg = cfg.private_key(&pem, get::<String>(o, "private_key_alg")?.as_deref());
    }
    cfg = cfg.grant(grant(o)?);
    cfg.scopes = get(o, "scopes")?;
    cfg.redirect_port = get(o, "redirect_port")?.unwrap_or(0);
    if let Some(t) = seconds("redirect_timeout", get(o, "redirect_timeout")?)? {
        cfg.redirect_timeout = t;
    }
    cfg.interactive = get(o, "interactive")?.unwrap_or(true);
    cfg.dpop = match get::<String>(o, "dpop")?.as_deref() {
        None | Some("auto") => DpopMode::Auto,
        Some("always") => DpopMode::Always,
        Some("never") => DpopMode::Never,
        Some(other) => {
            return Err(invalid(format!(
                "dpop must be \"auto\", \"always\" or \"never\", not {other:?}"
            )))
        }
    };
    cfg.store = store(o)?;
    cfg.presenter = presenter(o, failure)?;
    if let (Some(f), Some(to)) = (get::<Py<PyAny>>(o, "on_event")?, dispatch) {
        cfg.on_event = Some(mcp::oauth::AuthEventHook::new(event_hook(
            Arc::new(f),
            to.clone(),
        )));
    }
    Ok(cfg)
}

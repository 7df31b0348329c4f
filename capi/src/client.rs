//! The client handle and its calls.

use std::ffi::c_char;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;
use url::Url;

use super::boundary::{
    boundary, non_null, object_arg, opt_str_arg, raw_params_arg, str_arg, write_out,
};
use super::call_options::{call_options_ref, mcp_call_options};
use super::error::{mcp_error, mcp_result, Failure, FfiResult};
use super::foreign::{in_callback, Revoke};
use super::options::{mcp_options, options_ref};
use super::registry::Registry;
use super::strings::out_string;
use mcp::config::ClientConfig;
use mcp::oauth::OAuthEngine;
use mcp::{Client, Error, RequestOptions};

/// A client of one MCP server. Safe to use from many threads at once (requests are
/// multiplexed); `mcp_client_free` only after every call on it has returned.
pub struct mcp_client {
    config: ClientConfig,
    oauth: Option<Arc<OAuthEngine>>,
    core: RwLock<Option<Client>>,
    connecting: Mutex<()>,
    cancel: Mutex<CancellationToken>,
    slots: Vec<Arc<dyn Revoke>>,
}

static CLIENTS: Registry = Registry::new();

impl mcp_client {
    fn token(&self) -> CancellationToken {
        self.cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn connected(&self) -> FfiResult<Client> {
        self.core
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| {
                Failure::new(
                    mcp_result::NotConnected,
                    "the client is not connected (call mcp_connect)",
                )
            })
    }

    fn oauth(&self) -> FfiResult<Arc<OAuthEngine>> {
        self.oauth.clone().ok_or_else(|| {
            Failure::invalid("the client does not use OAuth (see mcp_options_set_auth)")
        })
    }

    /// Connect once, within `call`; later calls return at once.
    fn connect(&self, call: Option<&mcp_call_options>) -> FfiResult {
        allow_blocking()?;
        let _one = self.connecting.lock().unwrap_or_else(|p| p.into_inner());
        if self
            .core
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return Ok(());
        }
        let config = self.config.clone();
        let (opts, _guard) = mcp_call_options::begin_call(call, &self.token());
        let client = block(On::Home, async move {
            Client::connect_with(config, &opts).await
        })?;
        *self.core.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
        Ok(())
    }
}

impl Drop for mcp_client {
    fn drop(&mut self) {
        // No callback of this client starts after this, and (unless this thread is inside
        // one of them) none is still running when the drop returns.
        let wait = !in_callback();
        for s in &self.slots {
            s.revoke(wait);
        }
    }
}

/// Refuse a blocking call where blocking would deadlock or panic: inside a host callback or
/// on a thread of the runtime.
fn allow_blocking() -> FfiResult {
    if in_callback() || tokio::runtime::Handle::try_current().is_ok() {
        return Err(Failure::new(
            mcp_result::Reentrant,
            "blocking call from inside a callback or a runtime thread",
        ));
    }
    Ok(())
}

/// Which runtime a blocking call runs on (see `mcp::runtime`).
#[derive(Clone, Copy)]
pub(crate) enum On {
    /// The calling thread's own, with its own connections: requests, so that the thread that
    /// waits for the answer is the one that reads it (no hand-off between threads).
    Thread,
    /// The shared one, where the client is connected: connecting, signing in and out,
    /// closing (work that starts what outlives the call, or talks to the user).
    Home,
}

/// Run `fut` to completion on the caller's thread, on the runtime `on` names.
fn block<T>(on: On, fut: impl Future<Output = Result<T, Error>>) -> FfiResult<T> {
    allow_blocking()?;
    let out = match on {
        On::Thread => mcp::runtime::block_on_thread(fut)
            .map_err(|e| Failure::internal(format!("cannot start this thread's runtime: {e}")))?,
        On::Home => mcp::runtime::shared()
            .map_err(|e| Failure::internal(format!("cannot start the runtime: {e}")))?
            .block_on(fut),
    };
    out.map_err(Failure::from)
}

/// Run one call of `c` within `call` (NULL: the client's defaults): `f` gets the core's
/// request options (the call's timeout, and a token that `mcp_cancel` and
/// `mcp_call_options_cancel` both fire).
pub(crate) fn run<T, Fut>(
    c: &mcp_client,
    on: On,
    call: *const mcp_call_options,
    f: impl FnOnce(RequestOptions) -> Fut,
) -> FfiResult<T>
where
    Fut: Future<Output = Result<T, Error>>,
{
    // SAFETY: NULL or live call options (the caller's contract).
    let call = unsafe { call_options_ref(call) };
    let (opts, _guard) = mcp_call_options::begin_call(call, &c.token());
    block(on, f(opts))
}

/// A client as a reference (NULL: `NULL_ARGUMENT`).
///
/// # Safety
/// `client` is NULL or a live client.
pub(crate) unsafe fn client_ref<'a>(client: *const mcp_client) -> FfiResult<&'a mcp_client> {
    // SAFETY: by the caller's contract.
    unsafe { client.as_ref() }.ok_or_else(|| Failure::null("client"))
}

/// Drop a client inside the runtime's context (its tasks and HTTP pools are tokio objects).
fn drop_client(c: Box<mcp_client>) {
    match mcp::runtime::shared() {
        Ok(rt) => {
            let _ctx = rt.enter();
            drop(c);
        }
        Err(_) => drop(c),
    }
}

/// A JSON string out-parameter, written last.
///
/// # Safety
/// `out` was checked non-NULL and is writable.
pub(crate) unsafe fn give(out: *mut *mut c_char, text: &str) -> FfiResult {
    let s = out_string(text)?;
    // SAFETY: by the caller's contract.
    unsafe { write_out(out, s) };
    Ok(())
}

pub(crate) fn to_json(v: &impl serde::Serialize) -> FfiResult<String> {
    serde_json::to_string(v).map_err(|e| Failure::internal(format!("cannot encode JSON: {e}")))
}

/// Make a client from `options` without connecting (no network). Use it to sign in first with
/// `mcp_authorize_begin` / `mcp_authorize_complete` or `mcp_authorize`, then `mcp_connect`.
/// `*client_out` is written on success only.
#[no_mangle]
pub unsafe extern "C" fn mcp_client_create(
    options: *const mcp_options,
    client_out: *mut *mut mcp_client,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or live options.
        let o = unsafe { options_ref(options) }?;
        non_null(client_out, "client_out")?;
        let p = create(o)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(client_out, p) };
        Ok(())
    })
}

fn create(o: &mcp_options) -> FfiResult<*mut mcp_client> {
    let built = o.build()?;
    let p = Box::into_raw(Box::new(mcp_client {
        config: built.config,
        oauth: built.oauth,
        core: RwLock::new(None),
        connecting: Mutex::new(()),
        cancel: Mutex::new(CancellationToken::new()),
        slots: built.slots,
    }));
    CLIENTS.insert(p);
    Ok(p)
}

/// Connect a client made by `mcp_client_create`: start the transport and complete the
/// handshake (signing in first if the server asks and the client uses OAuth). Connecting a
/// connected client does nothing.
#[no_mangle]
pub unsafe extern "C" fn mcp_connect(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client; NULL or live call options.
        unsafe { client_ref(client)?.connect(call_options_ref(call_options)) }
    })
}

/// Make a client from `options` and connect it (`mcp_client_create` then `mcp_connect`)
/// within `call_options` (NULL: no limit but the client's timeouts). `*client_out` is written
/// on success only; on failure nothing is kept.
#[no_mangle]
pub unsafe extern "C" fn mcp_client_new(
    options: *const mcp_options,
    call_options: *const mcp_call_options,
    client_out: *mut *mut mcp_client,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or live options.
        let o = unsafe { options_ref(options) }?;
        non_null(client_out, "client_out")?;
        allow_blocking()?;
        let p = create(o)?;
        // SAFETY: NULL or live call options.
        let call = unsafe { call_options_ref(call_options) };
        // SAFETY: `p` is the client just made.
        if let Err(e) = unsafe { &*p }.connect(call) {
            CLIENTS.remove(p);
            // SAFETY: made above, never handed out.
            drop_client(unsafe { Box::from_raw(p) });
            return Err(e);
        }
        // SAFETY: checked non-NULL.
        unsafe { write_out(client_out, p) };
        Ok(())
    })
}

/// Free a client: stop its background work and its callbacks (none runs after this returns,
/// unless it is called from inside one of them). It does not end the session politely: call
/// `mcp_close` first for that. NULL is fine, and so is a second free of the same pointer
/// (ignored, while the address has not been reused). Only after every call on the client has
/// returned.
#[no_mangle]
pub unsafe extern "C" fn mcp_client_free(client: *mut mcp_client) {
    super::catch::boundary_value((), || {
        if !client.is_null() && CLIENTS.remove(client) {
            // SAFETY: a live client from `mcp_client_create`, freed once (checked above).
            drop_client(unsafe { Box::from_raw(client) });
        }
    })
}

/// Send any JSON-RPC request: `method` with `params_json` (a JSON object, or NULL for none)
/// within `call_options` (NULL: the client's defaults); on success `*result_json_out` is the
/// result as JSON text (free with `mcp_string_free`).
#[no_mangle]
pub unsafe extern "C" fn mcp_call(
    client: *mut mcp_client,
    method: *const c_char,
    params_json: *const c_char,
    call_options: *const mcp_call_options,
    result_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, method, params) = unsafe {
            (
                client_ref(client)?,
                str_arg(method, "method")?,
                opt_str_arg(params_json, "params_json")?,
            )
        };
        let params = raw_params_arg(params, "params_json")?;
        non_null(result_json_out, "result_json_out")?;
        let core = c.connected()?;
        let raw = run(c, On::Thread, call_options, |opts| async move {
            core.request_raw(method, params.as_deref(), opts).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(result_json_out, raw.get()) }
    })
}

/// `tools/call`: `arguments_json` is a JSON object (NULL: `{}`); on success `*result_json_out`
/// is the `CallToolResult` (a tool that failed is a result with `"isError": true`, not an
/// error). A tool whose `execution.taskSupport` is `required` runs as a task, waited for to the
/// end within `call_options` (a wait that times out or is cancelled cancels the task); the
/// `mcp_task_*` calls below run tasks step by step.
#[no_mangle]
pub unsafe extern "C" fn mcp_call_tool(
    client: *mut mcp_client,
    name: *const c_char,
    arguments_json: *const c_char,
    call_options: *const mcp_call_options,
    result_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, name, args) = unsafe {
            (
                client_ref(client)?,
                str_arg(name, "name")?,
                opt_str_arg(arguments_json, "arguments_json")?,
            )
        };
        // Raw JSON both ways: the arguments are checked, never parsed into a tree and printed
        // again, and the result goes back as the server sent it.
        let args = raw_params_arg(args, "arguments_json")?.unwrap_or_else(|| {
            serde_json::value::RawValue::from_string("{}".into()).unwrap_or_default()
        });
        non_null(result_json_out, "result_json_out")?;
        let core = c.connected()?;
        let raw = run(c, On::Thread, call_options, |opts| async move {
            core.call_tool_raw(name, &args, opts).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(result_json_out, raw.get()) }
    })
}

/// A call without arguments returning JSON, within `call_options`.
unsafe fn simple<F, Fut, T>(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
    f: F,
) -> mcp_result
where
    F: FnOnce(Client, RequestOptions) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
    T: serde::Serialize,
{
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        non_null(out, "json_out")?;
        let core = c.connected()?;
        // The core request carries the call's cancel token: a cancelled call is also
        // cancelled at the server (`notifications/cancelled` where the protocol has it).
        let v = run(c, On::Thread, call_options, |opts| f(core, opts))?;
        // SAFETY: checked non-NULL.
        unsafe { give(out, &to_json(&v)?) }
    })
}

/// Every tool (all pages of `tools/list`), as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn mcp_list_tools(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    tools_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    // SAFETY: forwarded arguments.
    unsafe {
        simple(
            client,
            call_options,
            tools_json_out,
            error_out,
            |c, o| async move { c.list_tools_with(o).await },
        )
    }
}

/// Every resource (all pages of `resources/list`), as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn mcp_list_resources(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    resources_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    // SAFETY: forwarded arguments.
    unsafe {
        simple(
            client,
            call_options,
            resources_json_out,
            error_out,
            |c, o| async move { c.list_resources_with(o).await },
        )
    }
}

/// Every prompt (all pages of `prompts/list`), as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn mcp_list_prompts(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    prompts_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    // SAFETY: forwarded arguments.
    unsafe {
        simple(
            client,
            call_options,
            prompts_json_out,
            error_out,
            |c, o| async move { c.list_prompts_with(o).await },
        )
    }
}

/// `resources/read` of `uri`; on success `*result_json_out` is the result (its `contents`).
#[no_mangle]
pub unsafe extern "C" fn mcp_read_resource(
    client: *mut mcp_client,
    uri: *const c_char,
    call_options: *const mcp_call_options,
    result_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, uri) = unsafe { (client_ref(client)?, str_arg(uri, "uri")?) };
        non_null(result_json_out, "result_json_out")?;
        let core = c.connected()?;
        let v = run(c, On::Thread, call_options, |opts| async move {
            core.read_resource_with(uri, opts).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(result_json_out, &to_json(&v)?) }
    })
}

/// `prompts/get` of `name` with `arguments_json` (a JSON object of strings; NULL: `{}`).
#[no_mangle]
pub unsafe extern "C" fn mcp_get_prompt(
    client: *mut mcp_client,
    name: *const c_char,
    arguments_json: *const c_char,
    call_options: *const mcp_call_options,
    result_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, name, args) = unsafe {
            (
                client_ref(client)?,
                str_arg(name, "name")?,
                opt_str_arg(arguments_json, "arguments_json")?,
            )
        };
        let args = object_arg(args, "arguments_json")?;
        non_null(result_json_out, "result_json_out")?;
        let core = c.connected()?;
        let v = run(c, On::Thread, call_options, |opts| async move {
            core.get_prompt_with(name, args, opts).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(result_json_out, &to_json(&v)?) }
    })
}

/// `ping`.
#[no_mangle]
pub unsafe extern "C" fn mcp_ping(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        let core = c.connected()?;
        run(c, On::Thread, call_options, |opts| async move {
            core.request_with("ping", None, opts).await.map(|_| ())
        })
    })
}

/// What the handshake settled, as a JSON object: `protocolVersion`, `transport`
/// (`streamable-http`, `http+sse` or `stdio`), `sessionId` (or null) and `server` (the
/// server's `initialize` result: `serverInfo`, `capabilities`, `instructions`).
#[no_mangle]
pub unsafe extern "C" fn mcp_server_info(
    client: *mut mcp_client,
    info_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        non_null(info_json_out, "info_json_out")?;
        let core = c.connected()?;
        let v = serde_json::json!({
            "protocolVersion": core.protocol_version(),
            "transport": core.transport_name(),
            "sessionId": core.session_id(),
            "server": core.server_info(),
        });
        // SAFETY: checked non-NULL.
        unsafe { give(info_json_out, &to_json(&v)?) }
    })
}

/// Close the connection: end the session (an HTTP DELETE where there is one) or stop the
/// stdio server. Later calls fail with `MCP_RESULT_CLOSED`. Closing twice, or a client that
/// never connected, is fine.
#[no_mangle]
pub unsafe extern "C" fn mcp_close(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        let core = c.core.read().unwrap_or_else(|p| p.into_inner()).clone();
        match core {
            Some(core) => run(c, On::Home, call_options, |opts| async move {
                opts.bound("close", core.close()).await
            }),
            None => Ok(()),
        }
    })
}

/// Cancel every call of this client in flight now (they fail with `MCP_RESULT_CANCELLED`;
/// the server is told). Calls started afterwards are not affected. Does not block: callable
/// from any thread, callbacks included.
#[no_mangle]
pub unsafe extern "C" fn mcp_cancel(client: *mut mcp_client) -> mcp_result {
    boundary(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        let mut t = c.cancel.lock().unwrap_or_else(|p| p.into_inner());
        t.cancel();
        *t = CancellationToken::new();
        Ok(())
    })
}

/// OAuth: sign in now (or resume: a stored or refreshable token makes this quick), without
/// waiting for the server to ask; the presenter shows the URL if the user is needed.
/// `MCP_RESULT_INVALID_ARGUMENT` for a client without OAuth.
#[no_mangle]
pub unsafe extern "C" fn mcp_authorize(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        let p = c.oauth()?;
        run(c, On::Home, call_options, |opts| async move {
            let signed_in = async { p.authorize().await.map_err(Error::OAuth) };
            opts.bound("authorize", signed_in).await
        })
    })
}

/// OAuth, step one of the sign-in without callbacks: discover the authorization server,
/// register with `redirect_uri` (the host's own redirect handler), and return the URL to send
/// the user to in `*url_out` (free with `mcp_string_free`).
#[no_mangle]
pub unsafe extern "C" fn mcp_authorize_begin(
    client: *mut mcp_client,
    redirect_uri: *const c_char,
    call_options: *const mcp_call_options,
    url_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, redirect_uri) =
            unsafe { (client_ref(client)?, str_arg(redirect_uri, "redirect_uri")?) };
        non_null(url_out, "url_out")?;
        let redirect = Url::parse(redirect_uri)
            .map_err(|e| Failure::invalid(format!("`redirect_uri` does not parse: {e}")))?;
        let p = c.oauth()?;
        let url = run(c, On::Home, call_options, |opts| async move {
            let begun = async { p.begin_authorization(&redirect).await.map_err(Error::OAuth) };
            opts.bound("authorize", begun).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(url_out, url.as_str()) }
    })
}

/// OAuth, step two: `redirect_url` is the full URL the browser was redirected to (with `code`
/// and `state`); checks it and obtains the tokens (saved in the store).
#[no_mangle]
pub unsafe extern "C" fn mcp_authorize_complete(
    client: *mut mcp_client,
    redirect_url: *const c_char,
    call_options: *const mcp_call_options,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, redirect_url) =
            unsafe { (client_ref(client)?, str_arg(redirect_url, "redirect_url")?) };
        let redirect = Url::parse(redirect_url)
            .map_err(|e| Failure::invalid(format!("`redirect_url` does not parse: {e}")))?;
        let p = c.oauth()?;
        run(c, On::Home, call_options, |opts| async move {
            let completed = async {
                p.complete_authorization(&redirect)
                    .await
                    .map_err(Error::OAuth)
            };
            opts.bound("authorize", completed).await
        })
    })
}

/// OAuth: what is held now, as a JSON object without secrets (`issuer`, `client_id`,
/// `has_token`, `has_refresh_token`, `token_type`, `expires_at`, `scopes`, …).
#[no_mangle]
pub unsafe extern "C" fn mcp_auth_status(
    client: *mut mcp_client,
    status_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        non_null(status_json_out, "status_json_out")?;
        let status = c.oauth()?.status();
        // SAFETY: checked non-NULL.
        unsafe { give(status_json_out, &to_json(&status)?) }
    })
}

/// OAuth: revoke the tokens at the server (when it supports it), forget them and delete the
/// stored entry (locally even when revocation fails; that failure is then returned).
#[no_mangle]
pub unsafe extern "C" fn mcp_logout(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        let p = c.oauth()?;
        run(c, On::Home, call_options, |opts| async move {
            let out = async { p.logout().await.map_err(Error::OAuth) };
            opts.bound("logout", out).await
        })
    })
}

//! How the user is sent to the authorization server and how the redirect comes back.
//!
//! A host picks an [`AuthorizationPresenter`]:
//! - [`BrowserPresenter`] (the default): opens the system browser (honouring `$BROWSER`, then
//!   `xdg-open` / `open` / `start`), prints the URL as a fallback, and lets the built-in
//!   loopback listener ([`RedirectListener`], RFC 8252) catch the redirect;
//! - [`HeadlessPresenter`]: for tests and automated servers that approve at once: a plain GET
//!   of the authorization URL, the code read from the `Location` header;
//! - its own: any implementation, e.g. one that shows the URL in the host's UI and returns the
//!   redirect URL its own redirect handler received.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::error::OAuthError;
use futures_util::future::BoxFuture;

/// What the presenter is asked to show.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The authorization URL to open.
    pub url: Url,
    /// Where the authorization server will redirect (the built-in listener's address).
    pub redirect_uri: Url,
}

/// What a device-flow sign-in (RFC 8628) asks the user to do.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    /// Where to go.
    pub verification_uri: String,
    /// The same with the code filled in, when the server offers it.
    pub verification_uri_complete: Option<String>,
    /// The code to enter.
    pub user_code: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
}

/// Shows the authorization URL to the user.
pub trait AuthorizationPresenter: Send + Sync + 'static {
    /// Present the request. Return `Some(redirect URL)` when the presenter obtained the
    /// redirect itself, or `None` to let the built-in loopback listener receive it.
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>>;

    /// Show a device-flow code (the client then polls until the user approves). The default
    /// prints the instructions on stderr.
    fn present_device<'a>(
        &'a self,
        device: &'a DeviceAuthorization,
    ) -> BoxFuture<'a, Result<(), OAuthError>> {
        Box::pin(async move {
            match &device.verification_uri_complete {
                Some(u) => eprintln!(
                    "To sign in, visit {u} (or {} and enter the code {})",
                    device.verification_uri, device.user_code
                ),
                None => eprintln!(
                    "To sign in, visit {} and enter the code {}",
                    device.verification_uri, device.user_code
                ),
            }
            Ok(())
        })
    }
}

/// Opens the system browser and prints the URL; the loopback listener gets the redirect.
#[derive(Debug, Clone, Default)]
pub struct BrowserPresenter {
    /// Don't try to open a browser; only print the URL (e.g. over SSH).
    pub print_only: bool,
}

impl AuthorizationPresenter for BrowserPresenter {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        Box::pin(async move {
            let opened = !self.print_only && open_browser(request.url.as_str());
            eprintln!(
                "{} {}",
                if opened {
                    "Opened your browser to sign in. If it did not open, visit:"
                } else {
                    "To sign in, open this URL in a browser:"
                },
                request.url
            );
            Ok(None)
        })
    }
}

/// Which platform's way of opening a URL to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// `open URL`.
    MacOs,
    /// `rundll32 url.dll,FileProtocolHandler URL`: the URL handler itself, no shell.
    Windows,
    /// `xdg-open URL`.
    Other,
}

impl Platform {
    /// The platform this program runs on.
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Other
        }
    }
}

/// The commands that would open `url`, in the order they are tried: each entry of `browser`
/// (the `$BROWSER` variable: a `:`-separated list, `%s` replaced by the URL, as Python's
/// `webbrowser` and xdg-utils read it), then the platform's opener. Each command is a program
/// and its arguments, run without a shell: the URL is always one argument, so `&`, `|`, `^`
/// or `%VAR%` in it mean nothing.
///
/// Refuses a URL that is not `http`/`https` or that holds whitespace or control characters
/// (a well-formed URL has neither; one that does could be cut or reinterpreted).
pub fn browser_commands(
    url: &str,
    browser: Option<&str>,
    platform: Platform,
) -> Result<Vec<Vec<String>>, OAuthError> {
    let scheme_ok = url
        .split_once(':')
        .is_some_and(|(s, _)| s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http"));
    if !scheme_ok {
        return Err(OAuthError::Presenter(
            "refusing to open a URL that is not http or https".into(),
        ));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(OAuthError::Presenter(
            "refusing to open a URL with whitespace or control characters".into(),
        ));
    }
    let mut commands = Vec::new();
    for cmd in browser.unwrap_or("").split(':') {
        let mut words: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            continue;
        }
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_owned());
        }
        commands.push(words);
    }
    let opener: &[&str] = match platform {
        Platform::MacOs => &["open"],
        Platform::Windows => &["rundll32", "url.dll,FileProtocolHandler"],
        Platform::Other => &["xdg-open"],
    };
    let mut words: Vec<String> = opener.iter().map(|s| (*s).to_owned()).collect();
    words.push(url.to_owned());
    commands.push(words);
    Ok(commands)
}

/// Try to open `url` in a browser (see [`browser_commands`]); whether one of the commands
/// started. A refused URL opens nothing.
pub fn open_browser(url: &str) -> bool {
    let browser = std::env::var("BROWSER").ok();
    let Ok(commands) = browser_commands(url, browser.as_deref(), Platform::current()) else {
        return false;
    };
    commands
        .iter()
        .any(|words| spawn_detached(&words[0], &words[1..]))
}

fn spawn_detached(program: &str, args: &[String]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// Follows the authorization URL with one GET and returns the `Location` it redirects to: for
/// authorization servers that approve without a user (tests, the conformance suite).
#[derive(Debug, Clone)]
pub struct HeadlessPresenter {
    client: reqwest::Client,
}

impl HeadlessPresenter {
    /// A presenter with its own HTTP client (no redirects followed).
    pub fn new() -> Result<Self, OAuthError> {
        // No idle pool: a sign-in may run on a calling thread's own runtime (see
        // `crate::runtime`), and a connection kept from there would belong to a runtime that
        // nobody drives once that thread is idle: a later sign-in on another thread would wait
        // on it for ever.
        // The library's shared TLS configuration: the system's roots loaded once, and only
        // for an https authorization server.
        let tls = crate::tls::client_config(Vec::new()).map_err(OAuthError::Presenter)?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| OAuthError::Presenter(e.to_string()))?;
        Ok(HeadlessPresenter { client })
    }
}

impl AuthorizationPresenter for HeadlessPresenter {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        Box::pin(async move {
            let resp = self
                .client
                .get(request.url.clone())
                .send()
                .await
                .map_err(|e| OAuthError::Presenter(e.without_url().to_string()))?;
            let status = resp.status();
            let loc = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    OAuthError::Presenter(format!(
                        "the authorization endpoint answered {status} without a redirect"
                    ))
                })?;
            let url = request
                .url
                .join(loc)
                .map_err(|e| OAuthError::Presenter(format!("bad Location: {e}")))?;
            Ok(Some(url))
        })
    }
}

impl<F> AuthorizationPresenter for F
where
    F: Fn(&AuthorizationRequest) -> Result<Option<Url>, OAuthError> + Send + Sync + 'static,
{
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        let out = self(request);
        Box::pin(async move { out })
    }
}

/// A shared presenter.
pub type Presenter = Arc<dyn AuthorizationPresenter>;

/// The RFC 8252 loopback redirect listener: `http://127.0.0.1:PORT/callback`.
pub struct RedirectListener {
    listener: TcpListener,
    redirect_uri: Url,
}

const PAGE_OK: &str = "<!doctype html><meta charset=utf-8><title>Signed in</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1>\
<p>You may close this tab and return to the application.</p>";
const PAGE_REFUSED: &str = "<!doctype html><meta charset=utf-8><title>Not signed in</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in not completed</h1>\
<p>The authorization server did not grant access. Return to the application for details.</p>";
const PAGE_BAD: &str = "<!doctype html><meta charset=utf-8><title>Not signed in</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>This sign-in response is not the one expected</h1>\
<p>Return to the application and try again.</p>";

impl RedirectListener {
    /// Listen on 127.0.0.1 at `port` (0: any free port).
    pub async fn bind(port: u16) -> Result<Self, OAuthError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            OAuthError::Presenter(format!("cannot listen on 127.0.0.1:{port}: {e}"))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| OAuthError::Presenter(e.to_string()))?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}/callback"))
            .map_err(|e| OAuthError::Presenter(e.to_string()))?;
        Ok(RedirectListener {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to register and send.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Wait for the browser's redirect carrying `state`; other requests (a favicon, a stale
    /// tab with another state) are answered and ignored. Connections are served side by side,
    /// each within its own deadline, so a local process that connects and trickles bytes (or
    /// says nothing) cannot hold up the browser's request.
    pub async fn wait(&self, state: &str, timeout: Duration) -> Result<Url, OAuthError> {
        use futures_util::stream::{FuturesUnordered, StreamExt};
        let fut = async {
            let mut serving = FuturesUnordered::new();
            loop {
                tokio::select! {
                    accepted = self.listener.accept(), if serving.len() < MAX_CONNECTIONS => {
                        match accepted {
                            Ok((sock, _)) => serving.push(self.serve(sock, state)),
                            // Out of descriptors or the like: try again shortly.
                            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    }
                    Some(done) = serving.next(), if !serving.is_empty() => {
                        if let Some(url) = done {
                            return url;
                        }
                    }
                }
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| OAuthError::RedirectTimeout {
                secs: timeout.as_secs(),
            })
    }

    /// Answer one connection within [`CONNECTION_DEADLINE`]; the redirect URL when it is the
    /// one awaited.
    async fn serve(&self, mut sock: tokio::net::TcpStream, state: &str) -> Option<Url> {
        let handle = async {
            let head = read_head(&mut sock).await;
            let (url, resp) = answer(&self.redirect_uri, &head, state);
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
            url
        };
        tokio::time::timeout(CONNECTION_DEADLINE, handle)
            .await
            .ok()
            .flatten()
    }
}

/// What the listener at `redirect_uri` answers to a request head: the redirect URL when it is
/// the one awaited (on the redirect path, carrying `state`), and the HTTP response to send.
pub(crate) fn answer(redirect_uri: &Url, head: &str, state: &str) -> (Option<Url>, String) {
    let target = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("");
    let url = redirect_uri.join(target).ok();
    let on_path = url
        .as_ref()
        .is_some_and(|u| u.origin() == redirect_uri.origin() && u.path() == redirect_uri.path());
    let ours = on_path
        && url
            .as_ref()
            .is_some_and(|u| u.query_pairs().any(|(k, v)| k == "state" && v == state));
    // The redirect of a refusal (`error=access_denied`…) is ours too, but is no sign-in.
    let refused = url
        .as_ref()
        .is_some_and(|u| u.query_pairs().any(|(k, _)| k == "error"));
    let (status, page) = match (ours, on_path) {
        (true, _) if refused => ("200 OK", PAGE_REFUSED),
        (true, _) => ("200 OK", PAGE_OK),
        (false, true) => ("400 Bad Request", PAGE_BAD),
        _ => ("404 Not Found", ""),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{page}",
        page.len()
    );
    (url.filter(|_| ours), resp)
}

/// How long one connection to the loopback listener may take, all told.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);
/// How many connections the listener serves at once.
const MAX_CONNECTIONS: usize = 32;

/// Read a request head (up to 8 KiB; the request line is all that is used).
async fn read_head(sock: &mut tokio::net::TcpStream) -> String {
    let mut buf = vec![0u8; 8192];
    let mut n = 0;
    while n < buf.len() {
        match sock.read(&mut buf[n..]).await {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                n += k;
                if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sec_loopback_listener_is_not_stalled_by_silent_connections() {
        let l = RedirectListener::bind(0).await.unwrap();
        let port = l.redirect_uri().port().unwrap();
        // Local processes that connect and say nothing, or trickle a byte now and then.
        let mut idle = Vec::new();
        for i in 0..4 {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            if i % 2 == 1 {
                s.write_all(b"GE").await.unwrap();
            }
            idle.push(s);
        }
        let started = std::time::Instant::now();
        let waiter = async { l.wait("s1", Duration::from_secs(20)).await };
        let browser = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            s.write_all(b"GET /callback?state=s1&code=c HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out).await;
            out
        };
        let (got, page) = tokio::join!(waiter, browser);
        let got = got.expect("the browser's redirect");
        assert_eq!(got.query_pairs().find(|(k, _)| k == "code").unwrap().1, "c");
        assert!(String::from_utf8_lossy(&page).starts_with("HTTP/1.1 200"));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the listener waited on the silent connections: {:?}",
            started.elapsed()
        );
        drop(idle);
    }

    const HOSTILE: &str = "https://evil.example/x?a&calc&b=%SECRET%^|more";

    #[test]
    fn sec_windows_browser_launch_runs_no_shell() {
        let cmds = browser_commands(HOSTILE, None, Platform::Windows).unwrap();
        assert_eq!(
            cmds,
            vec![vec![
                "rundll32".to_owned(),
                "url.dll,FileProtocolHandler".to_owned(),
                HOSTILE.to_owned()
            ]],
            "the URL must be one argument of a program that is not a shell"
        );
        assert!(cmds
            .iter()
            .flatten()
            .all(|w| !w.eq_ignore_ascii_case("cmd")));
    }

    #[test]
    fn sec_browser_commands_on_every_platform_keep_the_url_whole() {
        for (platform, program) in [
            (Platform::MacOs, "open"),
            (Platform::Other, "xdg-open"),
            (Platform::Windows, "rundll32"),
        ] {
            let cmds = browser_commands(HOSTILE, Some("firefox --new-tab %s::chromium"), platform)
                .unwrap();
            assert_eq!(cmds.len(), 3, "{platform:?}: {cmds:?}");
            assert_eq!(cmds[0], vec!["firefox", "--new-tab", HOSTILE]);
            assert_eq!(cmds[1], vec!["chromium", HOSTILE]);
            assert_eq!(cmds[2][0], program);
            assert_eq!(cmds[2].last().map(String::as_str), Some(HOSTILE));
        }
    }

    #[test]
    fn sec_browser_refuses_urls_with_control_characters_or_other_schemes() {
        for bad in [
            "https://a.example/\nx",
            "https://a.example/x\ry",
            "https://a.example/x y",
            "https://a.example/\u{1b}[31m",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "calc.exe",
        ] {
            for p in [Platform::MacOs, Platform::Windows, Platform::Other] {
                assert!(
                    matches!(
                        browser_commands(bad, None, p),
                        Err(OAuthError::Presenter(_))
                    ),
                    "{bad:?} on {p:?}"
                );
            }
        }
        assert!(!open_browser("file:///etc/passwd"));
    }

    #[test]
    fn a_refusal_is_taken_but_not_called_a_sign_in() {
        let redirect = Url::parse("http://127.0.0.1:8000/callback").unwrap();
        let head = "GET /callback?error=access_denied&state=s1 HTTP/1.1\r\n\r\n";
        let (url, page) = answer(&redirect, head, "s1");
        assert!(url.is_some(), "the caller learns of the refusal");
        assert!(page.contains("Sign-in not completed"), "{page}");
        assert!(!page.contains("<h1>Signed in"), "{page}");
        let head = "GET /callback?code=c&state=s1 HTTP/1.1\r\n\r\n";
        assert!(answer(&redirect, head, "s1").1.contains("<h1>Signed in"));
    }

    #[tokio::test]
    async fn listener_takes_the_right_state_only() {
        let l = RedirectListener::bind(0).await.unwrap();
        let uri = l.redirect_uri().clone();
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        assert_eq!(uri.path(), "/callback");
        let port = uri.port().unwrap();
        let hit = |path: String| async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let waiter = tokio::spawn(async move { l.wait("s1", Duration::from_secs(5)).await });
        assert!(hit("/favicon.ico".into()).await.starts_with("HTTP/1.1 404"));
        assert!(hit("/callback?code=c&state=wrong".into())
            .await
            .starts_with("HTTP/1.1 400"));
        let ok = hit("/callback?code=c&state=s1&iss=https%3A%2F%2Fas".into()).await;
        assert!(ok.starts_with("HTTP/1.1 200") && ok.contains("close this tab"));
        let got = waiter.await.unwrap().unwrap();
        assert!(got.query_pairs().any(|(k, v)| k == "code" && v == "c"));
    }

    #[tokio::test]
    async fn listener_times_out() {
        let l = RedirectListener::bind(0).await.unwrap();
        assert!(matches!(
            l.wait("s", Duration::from_millis(50)).await,
            Err(OAuthError::RedirectTimeout { .. })
        ));
    }
}

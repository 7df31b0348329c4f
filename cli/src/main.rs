//! `mcp-client`: connect to an MCP server, list and call its tools, read its resources and
//! prompts; `mcp-client demo` runs a whole session against a local test server.
//!
//! Exit codes: 0 success, 1 the tool reported an error (`isError`), 2 usage, 3 cannot
//! connect, 4 protocol error, 5 the server answered with a JSON-RPC error, 6 timeout or
//! cancellation, 7 authorization needed or refused, 8 internal error.

mod auth;
mod demo;
mod elicit;
mod inspect;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use mcp_client::{
    CancellationToken, Client, ClientBuilder, Error, ErrorKind, RequestOptions, StdioCommand,
};
use serde_json::{json, Value};

/// A Model Context Protocol client.
#[derive(Parser, Debug)]
#[command(name = "mcp-client", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct Global {
    /// Start the server as a child process speaking stdio, e.g. --stdio "node server.js".
    #[arg(long, global = true, value_name = "CMD ARGS")]
    stdio: Option<String>,
    /// Add an HTTP header to every request (repeatable), e.g. -H "X-Api-Key: abc".
    #[arg(short = 'H', long = "header", global = true, value_name = "K:V")]
    headers: Vec<String>,
    /// Send `Authorization: Bearer TOKEN`.
    #[arg(long, global = true, env = "MCP_BEARER_TOKEN", hide_env_values = true)]
    bearer: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Log what happens on stderr (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Seconds to wait for each request.
    #[arg(long, global = true, default_value_t = 60)]
    timeout: u64,
    /// Speak this protocol version instead of negotiating the newest.
    #[arg(long, global = true, value_name = "VERSION")]
    protocol_version: Option<String>,
    /// Never ask anything: decline every request of the server for input (for scripts).
    #[arg(long, global = true)]
    no_input: bool,
    /// Write images and audio a tool returns into DIR (as image-1.png, audio-1.wav, ...).
    #[arg(long, global = true, value_name = "DIR")]
    save_media: Option<PathBuf>,
    #[command(flatten)]
    oauth: OAuthArgs,
}

/// OAuth options: by default the client signs in through the browser when a server answers 401.
#[derive(Args, Debug, Clone)]
pub(crate) struct OAuthArgs {
    /// Never run OAuth (a 401 is an error).
    #[arg(long, global = true)]
    no_oauth: bool,
    /// A pre-registered OAuth client id.
    #[arg(long, global = true, env = "MCP_CLIENT_ID")]
    client_id: Option<String>,
    /// Its secret.
    #[arg(long, global = true, env = "MCP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The authorization server (issuer) the client id and secret belong to; without it they
    /// are bound to the first one they are used with.
    #[arg(long, global = true, value_name = "ISSUER")]
    client_issuer: Option<String>,
    /// The URL of this client's metadata document (used when the server supports them).
    #[arg(long, global = true, value_name = "URL")]
    client_metadata_url: Option<String>,
    /// Scopes to request instead of the server's guidance (space-separated).
    #[arg(long, global = true)]
    scope: Option<String>,
    /// Port of the loopback redirect listener (default: any free port).
    #[arg(long, global = true, default_value_t = 0)]
    redirect_port: u16,
    /// Sign in with the device flow (a code to enter on another device) instead of a browser.
    #[arg(long, global = true)]
    device: bool,
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long, global = true)]
    no_browser: bool,
    /// Seconds to wait for a sign-in to be finished (the browser's redirect back, or the
    /// device-flow approval) before giving up.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 300)]
    sign_in_timeout: u64,
    /// Where credentials are kept: keyring (default, with a file fallback), file, file:DIR,
    /// kernel-keyring, memory, or redis://[USER:PASSWORD@]HOST:PORT/DB (rediss:// for TLS;
    /// shared by hosts on many machines; settings as query parameters: prefix, lease_ms,
    /// timeout_ms, lock_wait_ms, fallback, key_file). MCP_CLIENT_STORE overrides it.
    #[arg(long, global = true, value_name = "STORE")]
    store: Option<String>,
}

impl OAuthArgs {
    /// The OAuth configuration; with `-v`, authorization events are shown on stderr.
    fn config(&self, verbose: u8) -> mcp_client::oauth::OAuthConfig {
        use mcp_client::oauth::{BrowserPresenter, Grant, OAuthConfig};
        let mut cfg = OAuthConfig::default().presenter(BrowserPresenter {
            print_only: self.no_browser,
        });
        cfg.registration.client_name = "mcp-client (command line)".into();
        if let Some(id) = &self.client_id {
            cfg = cfg.client(id, self.client_secret.as_deref());
        }
        if let Some(i) = &self.client_issuer {
            cfg = cfg.client_issuer(i);
        }
        if let Some(u) = &self.client_metadata_url {
            cfg = cfg.client_metadata_url(u);
        }
        if let Some(s) = &self.scope {
            cfg.scopes = Some(s.split_whitespace().map(str::to_owned).collect());
        }
        cfg.redirect_port = self.redirect_port;
        cfg.redirect_timeout = Duration::from_secs(self.sign_in_timeout.max(1));
        if self.device {
            cfg = cfg.grant(Grant::DeviceCode);
        }
        cfg.store = self.store_choice();
        if verbose > 0 {
            cfg = cfg.on_event(|e| eprintln!("auth: {e}"));
        }
        cfg
    }

    fn store_choice(&self) -> mcp_client::store::StoreChoice {
        use mcp_client::store::StoreChoice;
        self.store
            .as_deref()
            .and_then(StoreChoice::parse)
            .unwrap_or(StoreChoice::Auto)
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the server's tools.
    Tools {
        /// The server URL (omit with --stdio).
        url: Option<String>,
    },
    /// Call a tool: `call URL TOOL --args '{"k":"v"}'` (or `call TOOL` with --stdio).
    Call {
        /// [URL] TOOL.
        #[arg(num_args = 1..=2, required = true, value_name = "URL TOOL")]
        target: Vec<String>,
        /// The tool's arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
    },
    /// List the server's resources and resource templates.
    Resources {
        /// The server URL (omit with --stdio).
        url: Option<String>,
    },
    /// Read one resource: `read URL URI` (or `read URI` with --stdio).
    Read {
        /// [URL] URI.
        #[arg(num_args = 1..=2, required = true, value_name = "URL URI")]
        target: Vec<String>,
    },
    /// List the server's prompts.
    Prompts {
        /// The server URL (omit with --stdio).
        url: Option<String>,
    },
    /// Everything the server says about itself: version, transport, server info,
    /// instructions, capabilities, tools with their input schemas, resources, templates,
    /// prompts.
    Inspect {
        /// The server URL (omit with --stdio).
        url: Option<String>,
    },
    /// Print a shell completion script, e.g. `mcp-client completions bash >
    /// ~/.local/share/bash-completion/completions/mcp-client`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Start a local MCP test server and run a whole session against it, step by step.
    Demo,
    /// Stored OAuth credentials: status, login, logout.
    Auth {
        #[command(subcommand)]
        action: AuthAction,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum AuthAction {
    /// What is stored (server, issuer, client, expiry, scopes; never the secrets).
    Status {
        /// One server (default: every stored one, where the store can list them).
        url: Option<String>,
    },
    /// Sign in now, without calling anything.
    Login {
        /// The server URL.
        url: String,
    },
    /// Revoke the tokens at the server (where it supports RFC 7009) and delete them.
    Logout {
        /// The server URL.
        url: String,
    },
}

/// A failure and its exit code.
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::InvalidArgument => 2,
            ErrorKind::Transport => 3,
            ErrorKind::Protocol => 4,
            ErrorKind::Rpc => 5,
            ErrorKind::Timeout | ErrorKind::Cancelled => 6,
            ErrorKind::Auth => 7,
            _ => 8,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    // A store that cannot work is refused before anything runs (clap would echo the value,
    // and a Redis URL may hold a password).
    let store = cli.global.oauth.store.as_deref();
    if let Some(Err(e)) = store.map(mcp_client::store::StoreChoice::parse_checked) {
        eprintln!("mcp-client: error: --store: {e}");
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mcp-client: error: cannot start the async runtime: {e}");
            return ExitCode::from(8);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("mcp-client: error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "mcp_client=debug,info",
        _ => "mcp_client=trace,debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose > 0)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let g = cli.global;
    let ui = Ui::new(&g);
    match cli.command {
        Command::Completions { shell } => {
            // Into a buffer first: clap_complete panics when its writer fails (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mcp-client", &mut script);
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(&script).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure {
                    code: 8,
                    message: format!("cannot write the script: {e}"),
                }),
                _ => Ok(0),
            }
        }
        Command::Inspect { url } => {
            let client = connect(&g, url.as_deref(), &ui).await?;
            let doc = inspect::gather(&client).await;
            let shown = doc.map(|doc| {
                if g.json {
                    output::print_json(&doc);
                } else {
                    print!("{}", inspect::render(&doc));
                }
                0
            });
            finish(&client, shown).await
        }
        Command::Demo => demo::run(&g).await.map(|_| 0),
        Command::Auth { action } => auth::run(&g, action).await,
        Command::Tools { url } => {
            let client = connect(&g, url.as_deref(), &ui).await?;
            let tools = client.list_tools().await;
            finish(&client, tools.map(|t| output::tools(&t, g.json))).await
        }
        Command::Resources { url } => {
            let client = connect(&g, url.as_deref(), &ui).await?;
            let outcome = async {
                let resources = client.list_resources().await?;
                let templates = if supports(&client, "resources") {
                    client.list_resource_templates().await.unwrap_or_default()
                } else {
                    Vec::new()
                };
                output::resources(&resources, &templates, g.json);
                Ok(0)
            }
            .await;
            finish(&client, outcome).await
        }
        Command::Prompts { url } => {
            let client = connect(&g, url.as_deref(), &ui).await?;
            let prompts = client.list_prompts().await;
            finish(&client, prompts.map(|p| output::prompts(&p, g.json))).await
        }
        Command::Read { target } => {
            let (url, uri) = split_target(&g, &target, "URI")?;
            let client = connect(&g, url.as_deref(), &ui).await?;
            let r = client.read_resource(&uri).await;
            finish(&client, r.map(|r| output::resource_contents(&r, g.json))).await
        }
        Command::Call { target, args } => {
            let (url, tool) = split_target(&g, &target, "TOOL")?;
            let arguments: Value = serde_json::from_str(&args)
                .map_err(|e| Failure::usage(format!("--args is not valid JSON: {e}")))?;
            if !arguments.is_object() {
                return Err(Failure::usage("--args must be a JSON object"));
            }
            ui.progress.set_label(&tool);
            let client = connect(&g, url.as_deref(), &ui).await?;
            let cancel = CancellationToken::new();
            tokio::spawn(interrupts(ui.clone(), cancel.clone()));
            let r = call_tool(&client, &tool, arguments, cancel).await;
            ui.progress.clear();
            let media = g.save_media.as_deref();
            finish(&client, r.map(|r| output::call_result(&r, g.json, media))).await
        }
    }
}

/// Close the client whatever happened, then report the command's outcome.
async fn finish(client: &Client, outcome: Result<u8, Error>) -> Result<u8, Failure> {
    let closed = client.close().await;
    let code = outcome?;
    if let Err(e) = closed {
        tracing::warn!(error = %e, "closing the session failed");
    }
    Ok(code)
}

fn supports(client: &Client, capability: &str) -> bool {
    client
        .server_info()
        .get("capabilities")
        .and_then(|c| c.get(capability))
        .is_some()
}

/// `[URL] X`: the URL is required unless --stdio is given.
fn split_target(
    g: &Global,
    target: &[String],
    what: &str,
) -> Result<(Option<String>, String), Failure> {
    match (g.stdio.is_some(), target) {
        (true, [x]) => Ok((None, x.clone())),
        (false, [url, x]) => Ok((Some(url.clone()), x.clone())),
        (true, [_, _]) => Err(Failure::usage(format!(
            "with --stdio give only the {what}, not a URL"
        ))),
        _ => Err(Failure::usage(format!("expected: URL {what}"))),
    }
}

/// The builder for the chosen server with the global options applied.
pub(crate) fn builder(g: &Global, url: Option<&str>) -> Result<ClientBuilder, Failure> {
    let mut b = match (&g.stdio, url) {
        (Some(cmd), None) => ClientBuilder::stdio(StdioCommand::parse(cmd)?),
        (None, Some(url)) => ClientBuilder::http(url)?,
        (Some(_), Some(_)) => return Err(Failure::usage("give either a URL or --stdio, not both")),
        (None, None) => return Err(Failure::usage("a server URL (or --stdio CMD) is required")),
    };
    b = b
        .client_info("mcp-client-cli", mcp_client::VERSION)
        .request_timeout(Duration::from_secs(g.timeout.max(1)));
    for h in &g.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| Failure::usage(format!("--header `{h}` is not K:V")))?;
        b = b.header(k.trim(), v.trim());
    }
    if let Some(t) = &g.bearer {
        b = b.bearer(t);
    } else if !g.oauth.no_oauth && g.stdio.is_none() {
        b = b.oauth(g.oauth.config(g.verbose));
    }
    if let Some(v) = &g.protocol_version {
        b = b.protocol_version(v);
    }
    Ok(b)
}

/// What a command shows and asks while it runs: progress and the server's questions.
#[derive(Clone)]
struct Ui {
    progress: Arc<progress::Progress>,
    prompter: Arc<elicit::Prompter>,
}

impl Ui {
    fn new(g: &Global) -> Self {
        let progress = Arc::new(progress::Progress::new());
        let prompter = Arc::new(elicit::Prompter::new(g.no_input, progress.clone()));
        Ui { progress, prompter }
    }
}

async fn connect(g: &Global, url: Option<&str>, ui: &Ui) -> Result<Client, Failure> {
    let progress = ui.progress.clone();
    let b = builder(g, url)?
        .on_notification(move |n: &mcp_client::Notification| progress.on_notification(n))
        .on_elicitation(elicit::Elicitation(ui.prompter.clone()))
        // Both modes: forms are filled in here, URLs open in the browser.
        .capabilities(json!({"elicitation": {"form": {"applyDefaults": true}, "url": {}}}));
    Ok(b.connect().await?)
}

/// The progress token every call carries.
const PROGRESS_TOKEN: &str = "mcp-client-cli";

/// `tools/call` with a progress token, cancelled by `cancel`. A tool that must run as a task
/// runs as one (the core does it); its progress and status notifications both show.
async fn call_tool(
    client: &Client,
    tool: &str,
    arguments: Value,
    cancel: CancellationToken,
) -> Result<Value, Error> {
    let opts = RequestOptions {
        cancel: Some(cancel),
        ..Default::default()
    }
    .with_progress_token(PROGRESS_TOKEN);
    client.call_tool_with(tool, arguments, opts).await
}

/// Ctrl-C: cancels the open form if there is one, else the call; a second one quits.
async fn interrupts(ui: Ui, cancel: CancellationToken) {
    loop {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if ui.prompter.interrupt() {
            continue;
        }
        ui.progress.clear();
        if cancel.is_cancelled() {
            eprintln!("mcp-client: interrupted");
            std::process::exit(130);
        }
        eprintln!("\nCancelling the call (Ctrl-C again to quit at once)...");
        cancel.cancel();
    }
}

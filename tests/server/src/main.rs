//! `mcp-test-server`: runs the test MCP server.
//!
//! Over HTTP it prints exactly one line to stdout, the MCP URL
//! (`http://127.0.0.1:PORT/mcp`), then serves until SIGTERM/SIGINT (or until
//! stdin reaches EOF with `--exit-on-eof`). With `--stdio` it speaks MCP on
//! stdin/stdout instead and exits when stdin closes. `--tasks` turns tasks
//! (2025-11-25) on over HTTP.
//!
//! `--oauth` protects `/mcp` and serves an OAuth authorization server on the
//! same origin (defaults of `AuthOptions`); `--oauth-device`,
//! `--oauth-dpop`, `--oauth-dpop-nonce`, `--oauth-consent`, `--token-ttl SECS` and
//! `--refresh-delay-ms N` (each refresh-token request waits N ms before its token is looked
//! up; a client gone meanwhile has not used it) imply `--oauth` and adjust it; so do `--login USER:PASSWORD` (a login
//! form, a session cookie and a consent page in front of every authorization, as a person
//! meets them in a browser) and `--resource URL`,
//! the protected resource the authorization server issues tokens for (default
//! this server's `/mcp`), for a resource server elsewhere that checks them at
//! `/introspect`.
//!
//! `--state-file PATH` (implies `--oauth`) keeps the authorization server's clients, grants,
//! refresh tokens and counters in `PATH` across restarts (access tokens are forgotten); with
//! `--port N` a restarted server is the same issuer, so clients refresh instead of signing in
//! again.

use std::io::Write;

use mcp_test_server::{AuthOptions, ReplyMode, ServerOptions};

const USAGE: &str = "usage: mcp-test-server [--port N] [--sse] [--no-sessions] [--retry-ms N] \
[--no-event-ids] [--priming] [--drop-sse-after-first-event] [--no-record] [--tasks] [--exit-on-eof] \
[--stdio] [--oauth] [--oauth-device] [--oauth-dpop] [--oauth-dpop-nonce] [--oauth-consent] \
[--token-ttl SECS] [--refresh-delay-ms N] [--login USER:PASSWORD] [--resource URL] [--state-file PATH]";

struct Args {
    opts: ServerOptions,
    stdio: bool,
    exit_on_eof: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        opts: ServerOptions::default(),
        stdio: false,
        exit_on_eof: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value("--port")?;
                args.opts.port = v.parse().map_err(|_| format!("bad port: {v}"))?;
            }
            "--retry-ms" => {
                let v = value("--retry-ms")?;
                args.opts.sse_retry_ms =
                    Some(v.parse().map_err(|_| format!("bad --retry-ms: {v}"))?);
            }
            "--sse" => args.opts.reply = ReplyMode::Sse,
            "--no-sessions" => args.opts.sessions = false,
            "--no-event-ids" => args.opts.sse_event_ids = false,
            "--priming" => args.opts.sse_priming = true,
            "--drop-sse-after-first-event" => args.opts.drop_sse_after_first_event = true,
            "--no-record" => args.opts.record = false,
            "--tasks" => args.opts.tasks = true,
            "--exit-on-eof" => args.exit_on_eof = true,
            "--stdio" => args.stdio = true,
            "--oauth" => {
                auth(&mut args.opts);
            }
            "--oauth-device" => auth(&mut args.opts).device_flow = true,
            "--oauth-dpop" => auth(&mut args.opts).dpop.required = true,
            "--oauth-dpop-nonce" => {
                let a = auth(&mut args.opts);
                a.dpop.required = true;
                a.dpop.nonce = true;
            }
            "--oauth-consent" => auth(&mut args.opts).auto_approve = false,
            "--token-ttl" => {
                let v = value("--token-ttl")?;
                auth(&mut args.opts).access_token_ttl_secs =
                    v.parse().map_err(|_| format!("bad --token-ttl: {v}"))?;
            }
            "--refresh-delay-ms" => {
                let v = value("--refresh-delay-ms")?;
                auth(&mut args.opts).refresh_delay_ms = v
                    .parse()
                    .map_err(|_| format!("bad --refresh-delay-ms: {v}"))?;
            }
            "--login" => {
                let v = value("--login")?;
                auth(&mut args.opts).login = Some(
                    mcp_test_server::Login::parse(&v)
                        .ok_or_else(|| "bad --login: use USER:PASSWORD".to_owned())?,
                );
            }
            "--state-file" => {
                let v = value("--state-file")?;
                auth(&mut args.opts).state_file = Some(v.into());
            }
            "--resource" => {
                let v = value("--resource")?;
                if url::Url::parse(&v).is_err() {
                    return Err(format!("bad --resource: {v}"));
                }
                auth(&mut args.opts).prm_resource = Some(v);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(args)
}

/// The auth options, turned on with defaults if they were off.
fn auth(opts: &mut ServerOptions) -> &mut AuthOptions {
    opts.auth.get_or_insert_with(AuthOptions::default)
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves when stdin reaches EOF (or fails).
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 1024];
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if msg.is_empty() {
                println!("{USAGE}");
                return std::process::ExitCode::SUCCESS;
            }
            eprintln!("mcp-test-server: {msg}\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };

    if args.stdio {
        eprintln!(
            "mcp-test-server {}: serving MCP over stdio (pid {})",
            env!("CARGO_PKG_VERSION"),
            std::process::id()
        );
        let result = tokio::select! {
            r = mcp_test_server::serve_stdio(tokio::io::stdin(), tokio::io::stdout()) => r,
            () = terminated() => Ok(()),
        };
        return match result {
            Ok(()) => {
                eprintln!("mcp-test-server: stdin closed, exiting");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mcp-test-server: stdio error: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }

    let server = match mcp_test_server::start(args.opts).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("mcp-test-server: cannot listen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    {
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{}", server.url())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return std::process::ExitCode::FAILURE;
        }
    }
    if server.options().auth.is_some() {
        eprintln!(
            "mcp-test-server: OAuth on; issuer {}, resource metadata {}",
            server.issuer(),
            server.resource_metadata_url()
        );
    }
    if args.exit_on_eof {
        tokio::select! {
            () = terminated() => {}
            () = stdin_closed() => {}
        }
    } else {
        terminated().await;
    }
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

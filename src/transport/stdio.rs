//! The stdio transport: a child process speaking newline-delimited JSON-RPC.
//!
//! One task writes queued messages to the child's stdin, one reads its stdout line by line
//! and routes each message, one forwards its stderr to the log (`target: mcp_client::stdio`).
//! Shutdown follows the spec: close stdin, wait, then SIGTERM, then SIGKILL.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::jsonrpc::{self, Incoming};
use crate::transport::command::StdioCommand;
use crate::transport::pending::Pending;
use crate::transport::{Inbound, InboundTx, Outgoing, Responder};

/// Queues messages for the child's stdin.
#[derive(Clone)]
pub(crate) struct StdioWriter(mpsc::Sender<Vec<u8>>);

impl StdioWriter {
    /// Queue one message (a newline is added).
    pub(crate) async fn send(&self, body: Vec<u8>) -> Result<()> {
        self.0
            .send(body)
            .await
            .map_err(|_| Error::Process("the server's stdin is closed".into()))
    }
}

/// The stdio transport.
pub struct StdioTransport {
    writer: StdioWriter,
    stop: CancellationToken,
    pending: Arc<Pending>,
    child: Mutex<Option<Child>>,
}

impl StdioTransport {
    /// Spawn the server and start the reader and writer tasks.
    pub(crate) fn spawn(cmd: &StdioCommand, max_line: usize, inbound: InboundTx) -> Result<Self> {
        #[cfg(unix)]
        child_signal_on_alt_stack();
        let mut c = Command::new(&cmd.program);
        c.args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &cmd.cwd {
            c.current_dir(dir);
        }
        let mut child = c
            .spawn()
            .map_err(|e| Error::Process(format!("cannot start `{}`: {e}", cmd.program)))?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(Error::Internal("child pipes missing".into()));
        };

        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(256);
        let stop = CancellationToken::new();
        let stop_writer = stop.clone();
        tokio::spawn(async move {
            loop {
                let mut msg = tokio::select! {
                    _ = stop_writer.cancelled() => break,
                    m = rx.recv() => match m {
                        Some(m) => m,
                        None => break,
                    },
                };
                msg.push(b'\n');
                if stdin.write_all(&msg).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
            // Dropping stdin closes the pipe: the server's signal to exit.
        });

        let pending = Arc::new(Pending::default());
        let writer = StdioWriter(tx);
        tokio::spawn(read_stdout(
            stdout,
            max_line,
            pending.clone(),
            inbound,
            writer.clone(),
            cmd.program.clone(),
        ));
        tokio::spawn(forward_stderr(stderr));

        Ok(StdioTransport {
            writer,
            stop,
            pending,
            child: Mutex::new(Some(child)),
        })
    }

    /// Send a request and wait for its response.
    pub(crate) async fn request(&self, out: Outgoing<'_>) -> Result<Box<RawValue>> {
        let waiter = self.pending.register(out.id)?;
        self.writer.send(out.body.to_vec()).await?;
        waiter.wait(out.method).await
    }

    /// Send a notification.
    pub(crate) async fn notify(&self, body: Vec<u8>) -> Result<()> {
        self.writer.send(body).await
    }

    /// Close stdin, give the server time to exit, then terminate it.
    pub(crate) async fn close(&self) -> Result<()> {
        let Some(mut child) = self.child.lock().await.take() else {
            return Ok(());
        };
        // Stopping the writer task drops stdin, which closes the pipe.
        self.stop.cancel();
        self.pending.close("the client closed the connection");
        if tokio::time::timeout(Duration::from_secs(2), child.wait())
            .await
            .is_ok()
        {
            return Ok(());
        }
        #[cfg(unix)]
        if let Some(pid) = child.id() {
            // SAFETY: plain FFI call with a pid we own; no memory is shared.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
            if tokio::time::timeout(Duration::from_secs(2), child.wait())
                .await
                .is_ok()
            {
                return Ok(());
            }
        }
        child.kill().await.map_err(Error::Io)
    }
}

/// Install the process's SIGCHLD handler with `SA_ONSTACK`, once, before the first child.
///
/// Tokio reaps children through a SIGCHLD handler that it installs with signal-hook-registry,
/// whose `sigaction` flags lack `SA_ONSTACK` (on the first child it cannot watch with a pidfd,
/// or the first one dropped while still running). A host whose runtime requires handlers to
/// run on the alternate signal stack crashes on the next SIGCHLD: Go aborts with "non-Go code
/// set up signal handler without SA_ONSTACK flag" as soon as any child of the program exits.
/// So the handler is installed here first (a no-op action; the registry chains to the
/// previous handler) and the flag added to it; later registrations, tokio's among them, reuse
/// the installed handler without another `sigaction`. `SA_ONSTACK` changes nothing on a
/// thread without an alternate stack. Only the moment between the two `sigaction` calls of the
/// first spawn is left uncovered.
#[cfg(unix)]
fn child_signal_on_alt_stack() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the action does nothing (async-signal-safe); SIGCHLD is not a signal the
        // registry forbids.
        if let Err(e) = unsafe { signal_hook_registry::register(libc::SIGCHLD, || {}) } {
            tracing::debug!(error = %e, "cannot register the SIGCHLD handler");
            return;
        }
        // SAFETY: `sigaction` reads into and writes from a local struct; the handler, mask and
        // other flags written back are the ones just read.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut act) == 0
                && act.sa_flags & libc::SA_ONSTACK == 0
            {
                act.sa_flags |= libc::SA_ONSTACK;
                libc::sigaction(libc::SIGCHLD, &act, std::ptr::null_mut());
            }
        }
    });
}

async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    max_line: usize,
    pending: Arc<Pending>,
    inbound: InboundTx,
    writer: StdioWriter,
    program: String,
) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    let why = loop {
        line.clear();
        match read_line_limited(&mut reader, &mut line, max_line).await {
            Ok(0) => break format!("`{program}` closed its stdout (exited?)"),
            Ok(_) => {}
            Err(e) => break format!("reading `{program}`'s stdout failed: {e}"),
        }
        let text = trim_newline(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match jsonrpc::parse(text) {
            Ok(Incoming::Response { id, outcome }) => {
                let known = jsonrpc::our_id(&id)
                    .map(|n| pending.complete(n, outcome))
                    .unwrap_or(false);
                if !known {
                    tracing::warn!(id = %id, "stdio server sent a response with an unknown id");
                }
            }
            Ok(Incoming::Notification(n)) => {
                let _ = inbound.send(Inbound::Notification(n));
            }
            Ok(Incoming::Request(r)) => {
                let _ = inbound.send(Inbound::Request(r, Responder::Stdio(writer.clone())));
            }
            Err(e) => tracing::warn!(error = %e, "stdio server wrote a line that is not JSON-RPC"),
        }
    };
    tracing::debug!("{why}");
    pending.close(&why);
}

/// Read one line of at most `max` bytes (a longer line is an error, not a memory blow-up).
async fn read_line_limited<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if out.len() + used > max + 1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a message is longer than the limit of {max} bytes"),
            ));
        }
        out.extend_from_slice(&buf[..used]);
        r.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

async fn forward_stderr(stderr: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: "mcp_client::stdio", "{line}");
    }
}

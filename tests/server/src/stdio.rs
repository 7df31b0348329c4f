//! The stdio transport: newline-delimited JSON-RPC in both directions.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

use crate::mcp;
use crate::rpc::{self, code, Message};
use crate::session::Ctx;
use crate::session::{Hub, Outbox, Session};

/// Serves MCP over newline-delimited JSON-RPC: messages are read from
/// `input` and written to `output`, one per line. Server-to-client requests
/// (from `ask`, `sample`, `list_roots`) go out on `output` and their
/// responses are read from `input`. Returns when `input` reaches EOF (or
/// fails), after flushing what was already written.
///
/// Used by the binary's `--stdio` flag with stdin and stdout; tests can use
/// it in-process with [`tokio::io::duplex`] pipes.
pub async fn serve_stdio<R, W>(input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let hub = Arc::new(Hub::new());
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let session = Arc::new(Session::channel(None, tx.clone(), &hub));
    let writer = tokio::spawn(async move {
        let mut output = BufWriter::new(output);
        while let Some(msg) = rx.recv().await {
            let mut line = serde_json::to_vec(&msg).unwrap_or_default();
            line.push(b'\n');
            output.write_all(&line).await?;
            if rx.is_empty() {
                output.flush().await?;
            }
        }
        output.flush().await
    });

    let out = Outbox::Channel(tx);
    let mut reader = BufReader::new(input);
    let mut buf = Vec::new();
    let read_result = loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let Ok(msg) = serde_json::from_slice::<Value>(line) else {
            out.send(rpc::error(
                Some(&Value::Null),
                code::PARSE_ERROR,
                "Parse error",
            ));
            continue;
        };
        match rpc::parse(msg) {
            Message::Request { id, method, params } => {
                if mcp::is_long(&method, params.as_ref()) {
                    let (session, hub, out) = (session.clone(), hub.clone(), out.clone());
                    tokio::spawn(async move {
                        let ctx = Ctx {
                            session: &session,
                            hub: &hub,
                            out: &out,
                            versions: mcp::ALL_VERSIONS,
                        };
                        if let Some(reply) =
                            mcp::handle_request(&ctx, &id, &method, params.as_ref()).await
                        {
                            out.send(reply);
                        }
                    });
                } else {
                    let ctx = Ctx {
                        session: &session,
                        hub: &hub,
                        out: &out,
                        versions: mcp::ALL_VERSIONS,
                    };
                    if let Some(reply) =
                        mcp::handle_request(&ctx, &id, &method, params.as_ref()).await
                    {
                        out.send(reply);
                    }
                }
            }
            Message::Notification { method, params } => {
                let ctx = Ctx {
                    session: &session,
                    hub: &hub,
                    out: &out,
                    versions: mcp::ALL_VERSIONS,
                };
                mcp::handle_notification(&ctx, &method, params.as_ref());
            }
            Message::Response(msg) => {
                session.deliver_response(&msg);
            }
            Message::Invalid => {
                out.send(rpc::error(
                    Some(&Value::Null),
                    code::INVALID_REQUEST,
                    "Invalid Request",
                ));
            }
        }
    };

    // Input is over: stop in-flight work, then let the writer drain.
    session.close();
    hub.token.cancel();
    drop(out);
    drop(session);
    let written = match tokio::time::timeout(Duration::from_secs(2), writer).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) | Err(_) => Ok(()),
    };
    read_result.and(written)
}

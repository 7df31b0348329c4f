//! A real `redis-server` for integration tests: [`RedisServer`] runs one on 127.0.0.1 with a
//! port and a directory of its own, append-only file on and fsynced after every write (so the
//! data survives [`RedisServer::restart`] and even [`RedisServer::kill`]), and stops it when
//! dropped. [`redis_available`] says whether the tests can run here: without `redis-server` they
//! are skipped, unless `MCP_REDIS_TESTS=1` (CI) makes its absence a failure.
//!
//! Everything is synchronous (`std::process`, `std::net`), so it works from plain and Tokio
//! tests alike; in an async test the few blocking waits (start, stop) are short.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that makes a missing `redis-server` a failure rather than a skip.
pub const REQUIRED_ENV: &str = "MCP_REDIS_TESTS";
/// The server binary (looked up on `PATH`).
const SERVER_BIN: &str = "redis-server";
/// The command-line client (looked up on `PATH`).
const CLI_BIN: &str = "redis-cli";
/// How long a starting server may take to answer `PING`.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// How long a stopping server may take to exit after SIGTERM before it gets SIGKILL.
const STOP_WITHIN: Duration = Duration::from_secs(10);
/// Ports tried before giving up when another process takes the chosen one first.
const PORT_ATTEMPTS: usize = 5;

/// Whether the Redis tests can run: true when `redis-server` and `redis-cli` are on `PATH`.
/// When one is missing, prints a one-line skip reason to stderr and returns false, or panics
/// if `MCP_REDIS_TESTS=1`.
pub fn redis_available() -> bool {
    let missing: Vec<&str> = [SERVER_BIN, CLI_BIN]
        .into_iter()
        .filter(|bin| find_on_path(bin).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var(REQUIRED_ENV).as_deref() == Ok("1") {
        panic!("{REQUIRED_ENV}=1: redis-server is required (missing: {missing:?})");
    }
    eprintln!(
        "skipped: {} not found on PATH (apt-get install redis-server; {REQUIRED_ENV}=1 makes this a failure)",
        missing.join(" and ")
    );
    false
}

/// The first `PATH` entry holding a file named `bin`.
fn find_on_path(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(bin))
        .find(|p| p.is_file())
}

/// A `redis-server` child process on 127.0.0.1, in a temporary directory of its own (removed,
/// with the process killed, on drop). Check [`redis_available`] first.
pub struct RedisServer {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

/// A temporary directory of the server's own, removed on drop (kept apart from the OAuth
/// helpers so other test crates can include this file alone).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("mcp-client-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port of 127.0.0.1 nobody listens on now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Why a launch failed.
enum LaunchError {
    /// The port was taken (by someone else) before Redis could bind it.
    PortInUse,
}

impl RedisServer {
    /// Starts a server on a free port of 127.0.0.1 (trying another port a few times if the
    /// chosen one is taken first) and waits until it answers `PING`. Panics, with the server's
    /// log, if it cannot start within 10 s.
    pub fn start() -> Self {
        let dir = TempDir::new("redis");
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            if let Ok(child) = launch(port, dir.path()) {
                return Self {
                    port,
                    dir,
                    child: Some(child),
                };
            }
        }
        panic!("redis-server: no free port after {PORT_ATTEMPTS} attempts");
    }

    /// The port it listens on (the same across [`Self::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Its directory: the append-only files and `redis.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far (empty if unreadable).
    pub fn log(&self) -> String {
        read_log(self.dir())
    }

    /// Stops the server cleanly: SIGTERM (Redis flushes the append-only file and exits), then
    /// waits up to 10 s, then SIGKILL. A no-op when it is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !term.is_ok_and(|s| s.success()) {
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        let deadline = Instant::now() + STOP_WITHIN;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the server with SIGKILL, as a crash would (no shutdown; with `appendfsync
    /// always` every acknowledged write is already on disk). A no-op when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (if running) and starts it again on the same port and directory, so
    /// it reloads its append-only file; waits until it answers `PING`. Panics, with the log,
    /// if it cannot start within 10 s (the port is retried for a while if still taken).
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            match launch(self.port, self.dir()) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(LaunchError::PortInUse) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(LaunchError::PortInUse) => panic!(
                    "redis-server: port {} still taken at restart:\n{}",
                    self.port,
                    read_log(self.dir())
                ),
            }
        }
    }

    /// Runs `redis-cli -e -h 127.0.0.1 -p PORT args...` and returns its stdout without the
    /// final newline (a nil reply is ""; a multi-line reply keeps its inner newlines). Panics
    /// with stderr if it fails, an error reply (e.g. `WRONGTYPE`) included.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(CLI_BIN)
            .args(["-e", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            panic!(
                "redis-cli {args:?} failed ({}): {}{stdout}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        stdout.strip_suffix('\n').unwrap_or(&stdout).to_owned()
    }

    /// Makes Redis slow: `CLIENT PAUSE ms ALL` holds every client's commands (reads too) for
    /// `ms` milliseconds; they run when the pause ends.
    pub fn pause_ms(&self, ms: u64) {
        let reply = self.cli(&["CLIENT", "PAUSE", &ms.to_string(), "ALL"]);
        assert_eq!(reply, "OK", "CLIENT PAUSE {ms} ALL");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("dir", &self.dir())
            .field("running", &self.child.is_some())
            .finish()
    }
}

/// Spawns `redis-server` on `port` in `dir` and waits until it answers `PING`. Panics, with
/// the log, if it exits for another reason than a taken port or is not ready within 10 s.
fn launch(port: u16, dir: &Path) -> Result<Child, LaunchError> {
    let log = dir.join("redis.log");
    // Redis appends to its log: only what this launch wrote tells why it failed.
    let log_start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let mut child = Command::new(SERVER_BIN)
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
        .arg("--dir")
        .arg(dir)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--protected-mode", "no", "--enable-debug-command", "local"])
        .args(["--daemonize", "no", "--logfile"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if ping(port) {
            return Ok(child);
        }
        if let Some(status) = child.try_wait().ok().flatten() {
            let all = read_log(dir);
            let this = all.get(log_start as usize..).unwrap_or(&all);
            if this.contains("Address already in use") {
                return Err(LaunchError::PortInUse);
            }
            panic!("redis-server exited ({status}) on port {port}:\n{this}");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "redis-server did not answer PING on port {port} within {READY_WITHIN:?}:\n{}",
                read_log(dir)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The log of the server in `dir` (empty if unreadable).
fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default()
}

/// Whether a server on `port` answers an inline `PING` with `+PONG` (not while it is still
/// loading its append-only file: that answers `-LOADING`).
fn ping(port: u16) -> bool {
    let addr = (Ipv4Addr::LOCALHOST, port).into();
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let mut buf = [0u8; 64];
    while !reply.ends_with(b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
    }
    reply.starts_with(b"+PONG")
}

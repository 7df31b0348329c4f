//! The Redis harness of the integration tests (`tests/common/redis.rs`) on a real
//! `redis-server`:
//!
//! - it starts on a port of its own, answers through `cli`, and an error reply fails `cli`;
//! - `pause_ms` makes it slow for that long;
//! - `stop` ends it, `restart` brings it back on the same port with its data (the append-only
//!   file), even after a SIGKILL (`kill`);
//! - dropping it kills it and removes its directory.
//!
//! Skipped (with a line on stderr) where `redis-server` is missing, unless `MCP_REDIS_TESTS=1`.

mod common;

use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use common::redis::{redis_available, RedisServer};

/// Whether something accepts connections on 127.0.0.1:`port`.
fn listening(port: u16) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
}

#[test]
fn starts_answers_and_stops() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}/0"));
    assert_eq!(redis.cli(&["PING"]), "PONG");
    assert_eq!(redis.cli(&["SET", "greeting", "hello world"]), "OK");
    assert_eq!(redis.cli(&["GET", "greeting"]), "hello world");
    assert_eq!(redis.cli(&["GET", "missing"]), "", "a nil reply is empty");
    assert_eq!(
        redis.cli(&["CONFIG", "GET", "appendfsync"]),
        "appendfsync\nalways"
    );
    assert!(redis.dir().join("redis.log").is_file());

    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        redis.cli(&["NOSUCHCOMMAND"]);
    }))
    .expect_err("an error reply fails cli");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("unknown command"), "{msg}");

    redis.stop();
    assert!(!listening(port), "still listening after stop");
    redis.stop();
}

#[test]
fn pause_makes_every_command_wait() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    redis.cli(&["SET", "k", "v"]);
    redis.pause_ms(600);
    let t0 = Instant::now();
    assert_eq!(redis.cli(&["GET", "k"]), "v");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "GET answered after {waited:?}, during a 600 ms pause"
    );
}

#[test]
fn restart_keeps_the_data_even_after_a_kill() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let port = redis.port();
    redis.cli(&["SET", "before-restart", "1"]);
    redis.restart();
    assert_eq!(redis.port(), port);
    assert_eq!(redis.cli(&["GET", "before-restart"]), "1");

    // appendfsync always: an acknowledged write is on disk before the crash.
    redis.cli(&["HSET", "before-kill", "field", "2"]);
    redis.kill();
    assert!(!listening(port), "still listening after kill");
    redis.restart();
    assert_eq!(redis.cli(&["HGET", "before-kill", "field"]), "2");
    assert_eq!(redis.cli(&["DBSIZE"]), "2");
}

#[test]
fn drop_kills_the_server_and_removes_its_directory() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let (port, dir) = (redis.port(), redis.dir().to_path_buf());
    assert!(dir.is_dir());
    drop(redis);
    assert!(!listening(port), "still listening after drop");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

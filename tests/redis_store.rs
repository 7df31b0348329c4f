//! The Redis credential store against a real `redis-server` (started per test on a loopback
//! port of its own): entries, generations, the lease lock, isolation by prefix, encryption,
//! and the faults (down at start, slow, restarted, an entry damaged by hand).
#![cfg(feature = "redis")]

mod common;

use std::time::{Duration, Instant};

use common::redis::{redis_available, RedisServer};
use mcp_client::store::{
    CredentialStore, RedisOptions, RedisStore, Saved, SealKey, StoreChoice, StoreError,
};

const KEY: &str = "https://mcp.example.com/mcp";

fn store(redis: &RedisServer, params: &str) -> RedisStore {
    let url = format!("{}?{params}", redis.url());
    RedisStore::open(&RedisOptions::from_url(&url).expect("options")).expect("open the store")
}

/// Every key Redis holds.
fn all_keys(redis: &RedisServer) -> Vec<String> {
    let mut k: Vec<String> = redis.cli(&["--scan"]).lines().map(str::to_owned).collect();
    k.sort();
    k
}

#[test]
fn entries_round_trip_under_hashed_prefixed_keys() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let s = store(&redis, "prefix=fleet-a");
    assert_eq!(s.load(KEY).unwrap(), None);
    s.save(KEY, r#"{"generation":1}"#).unwrap();
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some(r#"{"generation":1}"#));
    let keys = all_keys(&redis);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let k = &keys[0];
    assert!(k.starts_with("fleet-a:cred:"), "{k}");
    assert!(!k.contains("example"), "the server URL is hashed: {k}");
    assert!(s.name().contains("prefix fleet-a"), "{}", s.name());
    s.delete(KEY).unwrap();
    assert_eq!(s.load(KEY).unwrap(), None);
    assert!(all_keys(&redis).is_empty());
}

#[test]
fn an_older_generation_never_overwrites_a_newer_one() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let s = store(&redis, "");
    assert_eq!(s.save_versioned(KEY, "g5", 5).unwrap(), Saved::Written);
    assert_eq!(
        s.save_versioned(KEY, "g4", 4).unwrap(),
        Saved::Stale { stored: 5 }
    );
    assert_eq!(
        s.save_versioned(KEY, "g5-again", 5).unwrap(),
        Saved::Stale { stored: 5 },
        "two writers of one generation: the second loses"
    );
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some("g5"));
    assert_eq!(s.save_versioned(KEY, "g6", 6).unwrap(), Saved::Written);
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some("g6"));
}

#[test]
fn two_prefixes_never_see_each_others_entries() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let a = store(&redis, "prefix=team-a");
    let b = store(&redis, "prefix=team-b");
    a.save(KEY, "a's").unwrap();
    assert_eq!(b.load(KEY).unwrap(), None);
    b.save(KEY, "b's").unwrap();
    assert_eq!(a.load(KEY).unwrap().as_deref(), Some("a's"));
    assert_eq!(b.load(KEY).unwrap().as_deref(), Some("b's"));
    a.delete(KEY).unwrap();
    assert_eq!(b.load(KEY).unwrap().as_deref(), Some("b's"));
    // Their locks are separate too: both can be held at once.
    let _la = a.lock(KEY).unwrap();
    let t = Instant::now();
    let _lb = b.lock(KEY).unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(a.keys().unwrap(), Some(vec![]));
}

#[test]
fn encrypted_entries_hold_no_plaintext_and_need_the_key() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let dir = common::oauth::TempDir::new("redis-key");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "11".repeat(32)).unwrap();
    let s = store(&redis, &format!("key_file={}", key_file.display()));
    assert!(s.name().ends_with(", encrypted)"), "{}", s.name());
    let entry = format!(r#"{{"server":"{KEY}","refresh_token":"rt-very-secret"}}"#);
    s.save(KEY, &entry).unwrap();
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some(entry.as_str()));
    assert_eq!(s.keys().unwrap(), Some(vec![KEY.to_owned()]));
    // Nothing readable through redis-cli.
    let k = &all_keys(&redis)[0];
    let dump = redis.cli(&["HGETALL", k]);
    assert!(
        !dump.contains("rt-very-secret") && !dump.contains("refresh_token"),
        "{dump}"
    );
    assert!(dump.contains("mcp-sealed-v1:"), "{dump}");
    // Another key, or none: an error naming the store and what to do (never garbage, never a
    // crash, and never "absent": that host would sign in and overwrite the fleet's entry).
    let other = RedisStore::open(
        &RedisOptions::from_url(&redis.url())
            .unwrap()
            .encryption_key(SealKey::from_bytes(&[2u8; 32]).unwrap()),
    )
    .unwrap();
    let e = other.load(KEY).expect_err("another key");
    assert!(e.to_string().contains("fleet's key"), "{e}");
    let plain = store(&redis, "");
    let e = plain.load(KEY).expect_err("no key");
    assert!(e.to_string().contains("has no key"), "{e}");
    // A host without the key never replaces the sealed entry with plaintext.
    let e = plain
        .save_versioned(KEY, "plaintext", 99)
        .expect_err("refused");
    assert!(
        e.to_string().contains("not replacing it with plaintext"),
        "{e}"
    );
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some(entry.as_str()));
    // An entry copied over another server's does not open there either.
    const ELSEWHERE: &str = "https://elsewhere.example/mcp";
    s.save(ELSEWHERE, "elsewhere's").unwrap();
    let theirs = all_keys(&redis).into_iter().find(|x| x != k).unwrap();
    redis.cli(&["COPY", k, &theirs, "REPLACE"]);
    assert!(s.load(ELSEWHERE).is_err());
    // A plaintext entry where entries are sealed reads as absent; the next write seals it.
    plain.delete(ELSEWHERE).unwrap();
    plain.save(ELSEWHERE, "plain").unwrap();
    assert_eq!(s.load(ELSEWHERE).unwrap(), None);
    s.save(ELSEWHERE, "sealed now").unwrap();
    assert_eq!(s.load(ELSEWHERE).unwrap().as_deref(), Some("sealed now"));
}

#[test]
fn entries_damaged_by_hand_read_as_absent() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let s = store(&redis, "");
    s.save(KEY, "good").unwrap();
    let k = all_keys(&redis)[0].clone();
    // Not a hash any more.
    redis.cli(&["DEL", &k]);
    redis.cli(&["SET", &k, "garbage"]);
    assert_eq!(s.load(KEY).unwrap(), None);
    // A versioned write replaces it.
    assert_eq!(s.save_versioned(KEY, "fresh", 1).unwrap(), Saved::Written);
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some("fresh"));
    // A hash with a garbage generation: the next write still lands.
    redis.cli(&["HSET", &k, "gen", "soon"]);
    assert_eq!(s.save_versioned(KEY, "next", 2).unwrap(), Saved::Written);
}

#[test]
fn the_lease_excludes_other_hosts_until_released() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let a = store(&redis, "lease_ms=600");
    let b = store(&redis, "lease_ms=600");
    let held = a.lock(KEY).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let l = b.lock(KEY);
        tx.send(Instant::now()).unwrap();
        l.map(|_| ())
    });
    // Held past several lease times: the renewer keeps it.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.try_recv().is_err(), "the waiter got a lease still held");
    let released = Instant::now();
    drop(held);
    let got = rx.recv_timeout(Duration::from_secs(5)).expect("the waiter");
    waiter.join().unwrap().unwrap();
    // Woken by the release (published), not by a poll after the lease ran out.
    assert!(got >= released);
    assert!(
        got - released < Duration::from_millis(500),
        "{:?}",
        got - released
    );
}

#[test]
fn a_dead_holders_lease_runs_out_and_another_host_takes_it() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let s = store(&redis, "lease_ms=800");
    s.save(KEY, "x").unwrap();
    let lock_key = all_keys(&redis)[0].replace(":cred:", ":lock:");
    // A holder that died: its owner token, its expiry, and nobody renewing.
    redis.cli(&["SET", &lock_key, "dead-owner", "PX", "800"]);
    let t = Instant::now();
    let l = s.lock(KEY).expect("the lease, once the dead one runs out");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(500), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // Ours now: another owner's release would not free it.
    assert_ne!(redis.cli(&["GET", &lock_key]).trim(), "dead-owner");
    drop(l);
    assert_eq!(redis.cli(&["EXISTS", &lock_key]).trim(), "0");
}

#[test]
fn waiting_for_a_lease_is_bounded_and_says_why() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let s = store(&redis, "lock_wait_ms=400");
    s.save(KEY, "x").unwrap();
    let lock_key = all_keys(&redis)[0].replace(":cred:", ":lock:");
    redis.cli(&["SET", &lock_key, "someone", "PX", "60000"]);
    let t = Instant::now();
    let e = s.lock(KEY).err().expect("no lease while another holds it");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let msg = e.to_string();
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
    assert!(msg.contains("another host held the refresh lock"), "{msg}");
    assert!(
        msg.contains(&format!("127.0.0.1:{}", redis.port())),
        "{msg}"
    );
}

#[test]
fn redis_down_at_start_is_an_error_naming_the_store_or_the_configured_fallback() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let url = format!("redis://u:hunter2@127.0.0.1:{}/0", redis.port());
    redis.stop();
    let e = StoreChoice::parse(&url)
        .unwrap()
        .open()
        .err()
        .expect("an error");
    let msg = e.to_string();
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
    assert!(
        msg.contains(&format!("redis://127.0.0.1:{}/0", redis.port())),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    // With a local fallback: that store, and the reason to announce.
    let opened = StoreChoice::parse(&format!("{url}?fallback=memory"))
        .unwrap()
        .open_with_reason()
        .expect("the fallback");
    assert_eq!(opened.store.name(), "memory");
    let why = opened.fallback.expect("a reason");
    assert!(
        why.contains("unavailable") && !why.contains("hunter2"),
        "{why}"
    );
    // A URL that cannot work is reported, not replaced by the default store.
    let e = StoreChoice::parse("redis://127.0.0.1:1/0?lease_ms=often")
        .unwrap()
        .open()
        .err()
        .expect("an error");
    assert!(e.to_string().contains("lease_ms"), "{e}");
    assert!(StoreChoice::parse_checked("redis://h/0?prefix=").is_err());
}

#[test]
fn a_slow_redis_is_a_bounded_wait() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let s = store(&redis, "timeout_ms=300");
    s.save(KEY, "x").unwrap();
    redis.pause_ms(3000);
    let t = Instant::now();
    let e = s.load(KEY).expect_err("a timeout");
    assert!(
        t.elapsed() < Duration::from_millis(2000),
        "{:?}",
        t.elapsed()
    );
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
    // Once Redis answers again, so does the store (a fresh connection: the timed-out one,
    // whose late reply must not be read as another command's, is gone).
    std::thread::sleep(Duration::from_millis(3200));
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some("x"));
    s.save(KEY, "y").unwrap();
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some("y"));
}

#[test]
fn the_store_recovers_when_redis_restarts() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let s = store(&redis, "");
    s.save(KEY, "before").unwrap();
    redis.stop();
    assert!(s.load(KEY).is_err(), "Redis is down");
    redis.restart();
    assert_eq!(s.load(KEY).unwrap().as_deref(), Some("before"));
    s.save(KEY, "after").unwrap();
    let _l = s.lock(KEY).expect("the lease after a restart");
}

//! A real browser signs in: headless Chromium (Debian's `chromium`, driven by `playwright-core`
//! through tests/browser/sign_in.mjs) plays the person. The real `mcp-client` hands the sign-in
//! URL to `$BROWSER`; the browser fills the test authorization server's login form (its
//! `login` mode), answers the consent page and follows the redirect to the CLI's loopback
//! listener. Each test checks what the CLI did, what the browser saw, and the screenshots it
//! took (kept in target/browser/shots/<scenario>/).
//!
//! Needs what tests/browser/setup.sh installs: /usr/bin/chromium (or `$MCP_CHROMIUM`) and
//! playwright-core in target/browser/node_modules (or `$MCP_BROWSER_DIR/node_modules`), and
//! `node` on PATH. Without them each test prints `skipped: ...` and passes, unless
//! `MCP_BROWSER_TESTS=1` (CI), which makes a missing piece a failure.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mcp_test_server::{AuthOptions, Login, ServerOptions, TestServer};
use serde_json::Value;
use tokio::sync::Semaphore;

const USER: &str = "ada";
const PASSWORD: &str = "lovelace";
/// The sign-in timeout given to the CLI where the browser finishes the sign-in.
const GENEROUS: u64 = 90;
/// The sign-in timeout given to the CLI where nobody finishes it.
const SHORT: u64 = 10;
/// How long the browser driver may run, all told (it bounds itself too).
const DRIVER_LIMIT: Duration = Duration::from_secs(90);
/// Two browsers at a time at most (the machines have two cores).
static BROWSERS: Semaphore = Semaphore::const_new(2);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Where the pieces are.
#[derive(Debug, Clone)]
struct Setup {
    chromium: PathBuf,
    modules: PathBuf,
    script: PathBuf,
}

/// The browser setup, or why it is missing (printed once per test).
fn setup() -> Result<Setup, String> {
    static SETUP: OnceLock<Result<Setup, String>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let chromium = std::env::var_os("MCP_CHROMIUM")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
            let modules = std::env::var_os("MCP_BROWSER_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target/browser"));
            let fix = "tests/browser/setup.sh installs it";
            if !chromium.exists() {
                return Err(format!("no Chromium at {} ({fix})", chromium.display()));
            }
            let node_ok = std::process::Command::new("node")
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !node_ok {
                return Err("no `node` (Node.js 20+) on PATH".into());
            }
            if !modules
                .join("node_modules/playwright-core/package.json")
                .exists()
            {
                return Err(format!(
                    "no playwright-core in {}/node_modules ({fix})",
                    modules.display()
                ));
            }
            Ok(Setup {
                chromium,
                modules,
                script: root().join("tests/browser/sign_in.mjs"),
            })
        })
        .clone()
}

/// The setup, or None after printing why the test is skipped (a failure with
/// `MCP_BROWSER_TESTS=1`).
fn setup_or_skip(test: &str) -> Option<Setup> {
    match setup() {
        Ok(s) => Some(s),
        Err(why) if std::env::var("MCP_BROWSER_TESTS").as_deref() == Ok("1") => {
            panic!("{test}: MCP_BROWSER_TESTS=1 but the browser is missing: {why}")
        }
        Err(why) => {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
            None
        }
    }
}

/// One sign-in through the browser.
struct Run {
    server: TestServer,
    out: Output,
    /// How long the CLI ran.
    took: Duration,
    /// The driver's result.json.
    seen: Value,
    shots: PathBuf,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Everything, for assertion messages.
    fn show(&self) -> String {
        format!(
            "exit {:?} after {:?}\nstdout: {}\nstderr: {}\nbrowser saw: {:#}\ndriver log:\n{}",
            self.out.status.code(),
            self.took,
            self.stdout(),
            self.stderr(),
            self.seen,
            std::fs::read_to_string(self.shots.join("driver.log")).unwrap_or_default()
        )
    }

    /// Asserts that `name` is a PNG screenshot with something in it.
    fn assert_png(&self, name: &str) {
        let path = self.shots.join(name);
        let data = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), self.show()));
        assert!(
            data.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            path.display()
        );
        assert!(data.len() > 2000, "{} is nearly empty", path.display());
    }

    fn code_requests(&self) -> u64 {
        self.server
            .auth_stats()
            .token_requests_for("authorization_code")
    }
}

/// Runs `mcp-client call URL echo` against a login-protected test server with the browser
/// driver as `$BROWSER` playing `scenario`; returns once the CLI has exited and the driver
/// has written what it saw.
async fn sign_in(setup: &Setup, scenario: &str, sign_in_timeout: u64) -> Run {
    let _permit = BROWSERS.acquire().await.expect("semaphore");
    let server = mcp_test_server::start(ServerOptions {
        auth: Some(AuthOptions {
            login: Some(Login::new(USER, PASSWORD)),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .expect("server");

    let shots = setup.modules.join("shots").join(scenario);
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("shots dir");
    // `$BROWSER` is split at `:` and whitespace: a wrapper at a plain path runs the driver.
    let scratch = std::env::temp_dir().join(format!(
        "mcp-client-browser-{}-{scenario}",
        std::process::id()
    ));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let wrapper = scratch.join("browser.sh");
    let quoted = setup.script.display().to_string().replace('\'', r"'\''");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec node '{quoted}' \"$@\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let started = Instant::now();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-client"));
    cmd.args(["--store", "memory", "--timeout", "120", "--sign-in-timeout"])
        .arg(sign_in_timeout.to_string())
        .args(["call", &server.url(), "echo", "--args"])
        .arg(r#"{"text": "signed in through a browser"}"#)
        .env("BROWSER", &wrapper)
        .env("MCP_BROWSER_SCENARIO", scenario)
        .env("MCP_BROWSER_SHOTS", &shots)
        .env("MCP_BROWSER_DIR", &setup.modules)
        .env("MCP_CHROMIUM", &setup.chromium)
        .env("MCP_BROWSER_USER", USER)
        .env("MCP_BROWSER_PASSWORD", PASSWORD)
        .env(
            "MCP_BROWSER_TIMEOUT_MS",
            DRIVER_LIMIT.as_millis().to_string(),
        )
        .env("MCP_LOG", "warn")
        .env_remove("MCP_CLIENT_STORE")
        .env_remove("MCP_BEARER_TOKEN")
        .env_remove("MCP_CLIENT_ID")
        .env_remove("MCP_CLIENT_SECRET")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(sign_in_timeout + 60), cmd.output())
        .await
        .unwrap_or_else(|_| {
            panic!("{scenario}: mcp-client still running after the sign-in timeout and a minute")
        })
        .expect("run mcp-client");
    let took = started.elapsed();

    // The driver was started, not waited for: wait (bounded) for what it saw.
    let result = shots.join("result.json");
    let deadline = Instant::now() + DRIVER_LIMIT + Duration::from_secs(10);
    while !result.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !result.exists() {
        // It hangs: stop it (its own pid; Playwright closes the browser on the way out).
        if let Ok(pid) = std::fs::read_to_string(shots.join("pid")) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
        panic!(
            "{scenario}: the browser driver wrote no result.json\nstderr: {}\ndriver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(shots.join("driver.log")).unwrap_or_default()
        );
    }
    let seen: Value =
        serde_json::from_slice(&std::fs::read(&result).expect("read result.json")).expect("json");
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "{scenario}: the CLI ran {took:?}; screenshots in {}",
        shots.display()
    );
    Run {
        server,
        out,
        took,
        seen,
        shots,
    }
}

/// Asserts the browser landed on the loopback listener's page saying the sign-in is done.
fn assert_landed_signed_in(run: &Run) {
    let landing = &run.seen["landing"];
    assert!(
        landing["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:") && u.ends_with("/callback")),
        "{}",
        run.show()
    );
    let params: Vec<&str> = landing["params"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for p in ["code", "state", "iss"] {
        assert!(
            params.contains(&p),
            "no {p} in the redirect\n{}",
            run.show()
        );
    }
    assert_eq!(landing["title"], "Signed in", "{}", run.show());
    let text = landing["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("Signed in") && text.contains("You may close this tab"),
        "{}",
        run.show()
    );
    run.assert_png("landing.png");
}

/// Asserts the CLI gave up waiting for the redirect, clearly and in time.
fn assert_timed_out(run: &Run) {
    assert!(!run.out.status.success(), "{}", run.show());
    assert!(
        run.stderr()
            .contains(&format!("no authorization response within {SHORT} s")),
        "{}",
        run.show()
    );
    assert!(
        run.took >= Duration::from_secs(SHORT) && run.took < Duration::from_secs(SHORT + 30),
        "{}",
        run.show()
    );
    assert_eq!(run.code_requests(), 0, "no code was issued or used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_signs_in_and_the_call_succeeds() {
    let Some(setup) = setup_or_skip("browser_signs_in_and_the_call_succeeds") else {
        return;
    };
    let run = sign_in(&setup, "ok", GENEROUS).await;
    assert!(run.out.status.success(), "{}", run.show());
    assert!(
        run.stdout().contains("signed in through a browser"),
        "{}",
        run.show()
    );
    assert!(run.seen["error"].is_null(), "{}", run.show());
    let consent = run.seen["consentText"].as_str().unwrap_or_default();
    assert!(
        consent.contains("mcp-client (command line)") && consent.contains("mcp:read"),
        "the consent page names the client and the scopes\n{}",
        run.show()
    );
    assert_landed_signed_in(&run);
    run.assert_png("login.png");
    run.assert_png("consent.png");
    assert_eq!(run.code_requests(), 1);
    assert_eq!(run.server.auth_stats().login_failures, 0);
    run.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_shown_and_the_right_one_then_signs_in() {
    let name = "a_wrong_password_is_shown_and_the_right_one_then_signs_in";
    let Some(setup) = setup_or_skip(name) else {
        return;
    };
    let run = sign_in(&setup, "wrong-password-retry", GENEROUS).await;
    assert!(run.out.status.success(), "{}", run.show());
    assert_eq!(
        run.seen["loginError"],
        "Wrong user name or password.",
        "{}",
        run.show()
    );
    run.assert_png("login-error.png");
    assert_landed_signed_in(&run);
    assert_eq!(run.server.auth_stats().login_failures, 1);
    assert_eq!(run.code_requests(), 1);
    run.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_then_giving_up_times_out() {
    let Some(setup) = setup_or_skip("a_wrong_password_then_giving_up_times_out") else {
        return;
    };
    let run = sign_in(&setup, "wrong-password", SHORT).await;
    assert_eq!(
        run.seen["loginError"],
        "Wrong user name or password.",
        "{}",
        run.show()
    );
    assert!(run.seen["error"].is_null(), "{}", run.show());
    run.assert_png("login-error.png");
    assert_timed_out(&run);
    assert_eq!(run.server.auth_stats().login_failures, 1);
    run.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_consent_reaches_the_caller_as_access_denied() {
    let Some(setup) = setup_or_skip("denied_consent_reaches_the_caller_as_access_denied") else {
        return;
    };
    let run = sign_in(&setup, "deny", GENEROUS).await;
    assert!(!run.out.status.success(), "{}", run.show());
    assert_eq!(run.out.status.code(), Some(7), "7: authorization refused");
    assert!(
        run.stderr().contains("access_denied"),
        "the error names access_denied\n{}",
        run.show()
    );
    assert!(
        run.took < Duration::from_secs(GENEROUS),
        "the denial ends the wait at once\n{}",
        run.show()
    );
    let landing = &run.seen["landing"];
    assert_eq!(landing["error"], "access_denied", "{}", run.show());
    // The tab says the sign-in did not happen (never "Signed in").
    assert_eq!(landing["title"], "Not signed in", "{}", run.show());
    let text = landing["text"].as_str().unwrap_or_default();
    assert!(text.contains("Sign-in not completed"), "{}", run.show());
    assert!(
        landing["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/callback")),
        "{}",
        run.show()
    );
    run.assert_png("consent.png");
    run.assert_png("landing.png");
    assert_eq!(run.code_requests(), 0);
    run.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_closed_on_the_consent_page_times_out() {
    let Some(setup) = setup_or_skip("a_tab_closed_on_the_consent_page_times_out") else {
        return;
    };
    let run = sign_in(&setup, "close", SHORT).await;
    assert!(run.seen["error"].is_null(), "{}", run.show());
    run.assert_png("consent.png");
    assert!(run.seen["landing"].is_null(), "{}", run.show());
    assert_timed_out(&run);
    run.server.shutdown().await;
}

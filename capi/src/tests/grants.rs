//! The C ABI's grants without a browser: client credentials with a pre-registered
//! confidential client, and `private_key_jwt` keys, driven through the extern functions from a
//! plain thread (as a C host would: blocking calls may not run on a runtime thread).

use std::ffi::{CStr, CString};
use std::ptr;

use crate::client::{mcp_call_tool, mcp_client_free, mcp_client_new, mcp_close};
use crate::mcp_client as CClient;
use crate::options::*;
use crate::{mcp_grant, mcp_options, mcp_result};
use mcp_test_server::{AuthOptions, PreRegistered, ServerOptions};

type TestResult = Result<(), String>;

fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_through_the_c_abi() -> TestResult {
    let server = mcp_test_server::start(ServerOptions {
        auth: Some(AuthOptions {
            pre_registered: vec![PreRegistered::confidential(
                "machine",
                "s3cret",
                "client_secret_basic",
            )],
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .map_err(|e| format!("server: {e}"))?;
    let url = server.url();
    // A thread of the host's own (not a runtime thread, where blocking calls are refused).
    let host = std::thread::spawn(move || unsafe {
        let o: *mut mcp_options = mcp_options_new();
        assert_eq!(
            mcp_options_set_url(o, c(&url).as_ptr(), ptr::null_mut()),
            mcp_result::Ok
        );
        assert_eq!(mcp_options_set_auth(o, 2, ptr::null_mut()), mcp_result::Ok);
        assert_eq!(
            mcp_options_set_client_id(
                o,
                c("machine").as_ptr(),
                c("s3cret").as_ptr(),
                ptr::null_mut()
            ),
            mcp_result::Ok
        );
        assert_eq!(
            mcp_options_set_grant(
                o,
                mcp_grant::ClientCredentials as i32,
                ptr::null(),
                ptr::null_mut()
            ),
            mcp_result::Ok
        );
        assert_eq!(
            mcp_options_set_store(o, 4, ptr::null(), ptr::null_mut()),
            mcp_result::Ok
        );
        let mut client: *mut CClient = ptr::null_mut();
        assert_eq!(
            mcp_client_new(o, ptr::null(), &mut client, ptr::null_mut()),
            mcp_result::Ok
        );
        let mut out = ptr::null_mut();
        assert_eq!(
            mcp_call_tool(
                client,
                c("echo").as_ptr(),
                c(r#"{"text":"machine to machine"}"#).as_ptr(),
                ptr::null(),
                &mut out,
                ptr::null_mut(),
            ),
            mcp_result::Ok
        );
        let text = CStr::from_ptr(out).to_string_lossy().into_owned();
        crate::mcp_string_free(out);
        assert_eq!(
            mcp_close(client, ptr::null(), ptr::null_mut()),
            mcp_result::Ok
        );
        mcp_client_free(client);
        mcp_options_free(o);
        text
    });
    let text = tokio::task::spawn_blocking(move || host.join())
        .await
        .map_err(|e| format!("join: {e}"))?
        .map_err(|_| "the host thread panicked".to_owned())?;
    assert!(text.contains("machine to machine"), "{text}");
    let stats = server.auth_stats();
    assert_eq!(stats.token_requests_for("client_credentials"), 1);
    assert_eq!(stats.authorize_requests, 0, "no browser involved");
    server.shutdown().await;
    Ok(())
}

#[test]
fn private_keys_are_checked_when_set() -> TestResult {
    let key = rcgen::KeyPair::generate().map_err(|e| format!("key: {e}"))?;
    let pem = c(&key.serialize_pem());
    unsafe {
        let o = mcp_options_new();
        assert_eq!(
            mcp_options_set_private_key(o, pem.as_ptr(), c("ES256").as_ptr(), ptr::null_mut()),
            mcp_result::Ok
        );
        assert_eq!(
            mcp_options_set_private_key(o, pem.as_ptr(), c("RS256").as_ptr(), ptr::null_mut()),
            mcp_result::InvalidArgument,
            "an EC key is not an RS256 key"
        );
        assert_eq!(
            mcp_options_set_private_key(o, c("garbage").as_ptr(), ptr::null(), ptr::null_mut()),
            mcp_result::InvalidArgument
        );
        mcp_options_free(o);
    }
    Ok(())
}

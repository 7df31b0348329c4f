//! With no usable OS keyring (no D-Bus session here), the default store falls back to the file
//! store in the user's state directory, and says so. Alone in its test binary: it sets
//! process-wide environment variables.

use mcp_client::store::StoreChoice;

#[test]
fn default_store_falls_back_to_a_private_file_store() {
    let dir = std::env::temp_dir().join(format!("mcp-client-fallback-{}", std::process::id()));
    std::env::set_var("XDG_STATE_HOME", &dir);
    std::env::remove_var("DBUS_SESSION_BUS_ADDRESS");
    std::env::remove_var("MCP_CLIENT_STORE");
    let store = StoreChoice::Auto.open().expect("a store");
    assert!(
        store.name().starts_with("file") || store.name() == "keyring",
        "unexpected store {}",
        store.name()
    );
    if store.name().starts_with("file") {
        assert!(store.name().contains(&dir.display().to_string()));
        store.save("https://a.example/mcp", "{}").expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let d = dir.join("mcp-client");
            assert_eq!(
                std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }
    // The operator's override wins over the configuration.
    std::env::set_var("MCP_CLIENT_STORE", "memory");
    assert_eq!(StoreChoice::File(None).open().unwrap().name(), "memory");
    std::env::set_var(
        "MCP_CLIENT_STORE",
        format!("file:{}", dir.join("x").display()),
    );
    assert!(StoreChoice::Memory.open().unwrap().name().contains("/x"));
    let _ = std::fs::remove_dir_all(&dir);
}

//! The committed C header is what cbindgen makes of `src/ffi` with `cbindgen.toml`, and its
//! version macros agree with Cargo.toml.
//!
//! After changing the C API, rewrite the header with
//! `MCP_UPDATE_HEADER=1 cargo test --test ffi_header` and commit it.

#![cfg(feature = "capi")]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let root = root();
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    // Only the C ABI's files (src/ffi/mod.rs and the modules it declares): the rest of the
    // crate's public constants are no part of the header.
    let bindings = cbindgen::Builder::new()
        .with_src(root.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

fn header_path() -> PathBuf {
    Path::new(&root()).join("include/mcp_client.h")
}

#[test]
fn committed_header_matches_cbindgen() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("MCP_UPDATE_HEADER").is_some() {
        std::fs::create_dir_all(path.parent().expect("include/")).expect("mkdir include");
        std::fs::write(&path, &fresh).expect("write the header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate it with MCP_UPDATE_HEADER=1)",
            path.display()
        )
    });
    if committed != fresh {
        let first = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
        panic!(
            "include/mcp_client.h differs from cbindgen's output from line {} on:\n  committed: {:?}\n  generated: {:?}\n\
             run `MCP_UPDATE_HEADER=1 cargo test --test ffi_header` and commit the header",
            first + 1,
            committed.lines().nth(first),
            fresh.lines().nth(first)
        );
    }
}

fn macro_value(header: &str, name: &str) -> u32 {
    let line = header
        .lines()
        .find(|l| l.starts_with(&format!("#define {name} ")))
        .unwrap_or_else(|| panic!("no #define {name} in the header"));
    line.split_whitespace()
        .nth(2)
        .and_then(|v| v.trim_end_matches('u').trim_end_matches('U').parse().ok())
        .unwrap_or_else(|| panic!("cannot read {line:?}"))
}

#[test]
fn version_macros_follow_cargo_toml() {
    let header = std::fs::read_to_string(header_path()).expect("include/mcp_client.h");
    let found = format!(
        "{}.{}.{}",
        macro_value(&header, "MCP_VERSION_MAJOR"),
        macro_value(&header, "MCP_VERSION_MINOR"),
        macro_value(&header, "MCP_VERSION_PATCH")
    );
    // CARGO_PKG_VERSION without any pre-release or build suffix.
    let cargo = env!("CARGO_PKG_VERSION");
    let cargo = cargo.split(['-', '+']).next().unwrap_or(cargo);
    assert_eq!(
        found, cargo,
        "the header's version macros disagree with Cargo.toml"
    );
    // The library reports the same version at run time.
    // SAFETY: a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(mcp_client::ffi::mcp_version()) };
    assert_eq!(v.to_str().ok(), Some(env!("CARGO_PKG_VERSION")));
}

#[test]
fn header_has_its_sections_and_guard() {
    let header = std::fs::read_to_string(header_path()).expect("include/mcp_client.h");
    for section in ["THREAD SAFETY", "OWNERSHIP", "ERRORS", "CALLBACKS"] {
        assert!(
            header.contains(section),
            "the header lacks its {section} section"
        );
    }
    assert!(header.contains("#ifndef MCP_CLIENT_H") && header.contains("#define MCP_CLIENT_H"));
    assert!(header.contains("extern \"C\""), "no C++ linkage block");
}

//! The committed C header is what cbindgen makes of this crate with `cbindgen.toml`, and its
//! version macros agree with Cargo.toml.
//!
//! After changing the C API, rewrite the header with
//! `MCP_UPDATE_HEADER=1 cargo test -p mcp-client-capi header` and commit it.

use std::path::PathBuf;

type TestResult = Result<(), String>;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("../include/mcp_client.h")
}

fn generate() -> Result<String, String> {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
        .map_err(|e| format!("cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen failed: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|_| "the header is not UTF-8".to_owned())
}

fn read_header() -> Result<String, String> {
    let path = header_path();
    std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (generate it with MCP_UPDATE_HEADER=1)",
            path.display()
        )
    })
}

#[test]
fn committed_header_matches_cbindgen() -> TestResult {
    let fresh = generate()?;
    if std::env::var_os("MCP_UPDATE_HEADER").is_some() {
        return std::fs::write(header_path(), &fresh).map_err(|e| format!("write: {e}"));
    }
    let committed = read_header()?;
    if committed != fresh {
        let first = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
        return Err(format!(
            "include/mcp_client.h differs from cbindgen's output from line {} on:\n  committed: {:?}\n  generated: {:?}\n\
             run `MCP_UPDATE_HEADER=1 cargo test -p mcp-client-capi header` and commit the header",
            first + 1,
            committed.lines().nth(first),
            fresh.lines().nth(first)
        ));
    }
    Ok(())
}

fn macro_value(header: &str, name: &str) -> Result<u32, String> {
    let line = header
        .lines()
        .find(|l| l.starts_with(&format!("#define {name} ")))
        .ok_or_else(|| format!("no #define {name} in the header"))?;
    line.split_whitespace()
        .nth(2)
        .and_then(|v| v.trim_end_matches('u').trim_end_matches('U').parse().ok())
        .ok_or_else(|| format!("cannot read {line:?}"))
}

#[test]
fn version_macros_follow_cargo_toml() -> TestResult {
    let header = read_header()?;
    let found = format!(
        "{}.{}.{}",
        macro_value(&header, "MCP_VERSION_MAJOR")?,
        macro_value(&header, "MCP_VERSION_MINOR")?,
        macro_value(&header, "MCP_VERSION_PATCH")?
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
    let v = unsafe { std::ffi::CStr::from_ptr(crate::mcp_version()) };
    assert_eq!(v.to_str().ok(), Some(env!("CARGO_PKG_VERSION")));
    Ok(())
}

#[test]
fn header_has_its_sections_and_guard() -> TestResult {
    let header = read_header()?;
    for section in ["THREAD SAFETY", "OWNERSHIP", "ERRORS", "CALLBACKS"] {
        assert!(
            header.contains(section),
            "the header lacks its {section} section"
        );
    }
    assert!(header.contains("#ifndef MCP_CLIENT_H") && header.contains("#define MCP_CLIENT_H"));
    assert!(header.contains("extern \"C\""), "no C++ linkage block");
    Ok(())
}

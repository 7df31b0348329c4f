// Reads the rmcp version actually locked in Cargo.lock into RMCP_VERSION for the RESULT line.
fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut version = String::from("unknown");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"rmcp\"" {
            if let Some(v) = lines.next() {
                if let Some(v) = v.trim().strip_prefix("version = \"") {
                    version = v.trim_end_matches('"').to_string();
                }
            }
            break;
        }
    }
    println!("cargo:rustc-env=RMCP_VERSION={version}");
}

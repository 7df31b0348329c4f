//go:build !mcpclient_dynamic

package mcpclient

// Static linking (the default): the Rust staticlib built by
// `cargo build --release -p mcp-client-capi`, plus the system libraries it needs
// (`cargo rustc --crate-type staticlib -- --print native-static-libs` lists them).

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libmcp_client.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
*/
import "C"

// linkMode says how the library was linked into this program.
const linkMode = "static"

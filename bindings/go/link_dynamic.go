//go:build mcpclient_dynamic

package mcpclient

// Dynamic linking (build tag mcpclient_dynamic): libmcp_client.so from
// `cargo build --release -p mcp-client-capi`, found at run time through the rpath set here
// (or LD_LIBRARY_PATH once the library is installed elsewhere).

/*
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lmcp_client -Wl,-rpath,${SRCDIR}/../../target/release
*/
import "C"

// linkMode says how the library was linked into this program.
const linkMode = "dynamic"

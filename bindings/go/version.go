package mcpclient

/*
#include "mcp_client.h"
*/
import "C"

import "fmt"

// Version is the version of this package: the same number as the library's (the Rust
// crates, the C header and the Python wheel); a test checks that they agree. While it is
// 0.x there is no API promise between minor versions.
const Version = "0.1.0"

// LibraryVersion is the version of the linked libmcp_client.
func LibraryVersion() string {
	return C.GoString(C.mcp_version())
}

// headerVersion is the version of the header this package was built with.
func headerVersion() string {
	return fmt.Sprintf("%d.%d.%d", C.MCP_VERSION_MAJOR, C.MCP_VERSION_MINOR, C.MCP_VERSION_PATCH)
}

// cEnums are the C ABI's values of the enums this package writes as Go constants, in the
// order of goEnums (for the test that they agree).
func cEnums() []int {
	return []int{
		C.MCP_GRANT_AUTHORIZATION_CODE, C.MCP_GRANT_CLIENT_CREDENTIALS, C.MCP_GRANT_DEVICE_CODE,
		C.MCP_GRANT_JWT_BEARER, C.MCP_STORE_KIND_AUTO, C.MCP_STORE_KIND_KEYRING,
		C.MCP_STORE_KIND_KERNEL_KEYRING, C.MCP_STORE_KIND_FILE, C.MCP_STORE_KIND_MEMORY,
		C.MCP_RESULT_OK, C.MCP_RESULT_NULL_ARGUMENT, C.MCP_RESULT_INVALID_UTF8,
		C.MCP_RESULT_INVALID_ARGUMENT, C.MCP_RESULT_INVALID_JSON, C.MCP_RESULT_TRANSPORT,
		C.MCP_RESULT_PROTOCOL, C.MCP_RESULT_RPC, C.MCP_RESULT_TIMEOUT, C.MCP_RESULT_CANCELLED,
		C.MCP_RESULT_AUTH, C.MCP_RESULT_CLOSED, C.MCP_RESULT_REENTRANT, C.MCP_RESULT_NOT_CONNECTED,
		C.MCP_RESULT_PANIC, C.MCP_RESULT_INTERNAL,
	}
}

func goEnums() []int {
	return []int{
		int(GrantAuthorizationCode), int(GrantClientCredentials), int(GrantDeviceCode),
		int(GrantJWTBearer), int(StoreAuto), int(StoreKeyring), int(StoreKernelKeyring),
		int(StoreFile), int(StoreMemory), int(CodeOK), int(CodeNullArgument),
		int(CodeInvalidUTF8), int(CodeInvalidArgument), int(CodeInvalidJSON), int(CodeTransport),
		int(CodeProtocol), int(CodeRPC), int(CodeTimeout), int(CodeCancelled), int(CodeAuth),
		int(CodeClosed), int(CodeReentrant), int(CodeNotConnected), int(CodePanic),
		int(CodeInternal),
	}
}

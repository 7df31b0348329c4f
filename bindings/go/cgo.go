package mcpclient

// The C side of the package: the header's directory, and this directory for shims.h. The
// library itself is linked by link_static.go (the default) or link_dynamic.go (build tag
// mcpclient_dynamic).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -I${SRCDIR}
#include "mcp_client.h"
*/
import "C"

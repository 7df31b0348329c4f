#!/usr/bin/env bash
# Runs the Go-ecosystem interop tests: the mcpclient package against MCP servers built with the
# official Go SDK (github.com/modelcontextprotocol/go-sdk) and with github.com/mark3labs/mcp-go,
# behind OAuth, with the project's test server (mcp-test-server --oauth) as the authorization
# server. This is a module of its own (go.mod here), so users of the package never fetch these
# servers' dependencies.
#
#   bindings/go/interop/run-tests.sh [go test flags...]
#
# Builds the C library if it is missing (cargo build --release -p mcp-client-capi, as
# bindings/go/run-tests.sh does) and the test server (cargo build -p mcp-test-server).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

# Always (a no-op when up to date): a stale library would test old code.
echo "==> cargo build --release -p mcp-client-capi"
cargo build --release -p mcp-client-capi --quiet
# Always (a no-op when it is up to date): the tests need its --resource and /introspect.
echo "==> cargo build -p mcp-test-server"
cargo build -p mcp-test-server --quiet
export MCP_TEST_SERVER="$root/target/debug/mcp-test-server"

cd "$here"
echo "==> go vet (interop)"
go vet ./...
echo "==> go test (interop)"
go test -count=1 -timeout 300s "$@" ./...

#!/usr/bin/env bash
# Builds what the Go binding needs and runs its checks:
#   1. the library (cargo build --release -p mcp-client-capi: target/release/libmcp_client.a
#      and .so) and, when missing, the test server (cargo build -p mcp-test-server);
#   2. gofmt (nothing to reformat) and go vet ./..., in both linking modes;
#   3. go test -race -count=1 ./... against the static library (the default);
#   4. the same tests built with -tags mcpclient_dynamic against libmcp_client.so (checking
#      with ldd that the test program loads it), run once.
# The test programs go to target/go/, never into the tree. Go's build cache stays where Go
# puts it. Needs Go 1.24+ (no module is downloaded: the package has no dependencies).
#
#   bindings/go/run-tests.sh
set -euo pipefail
cd "$(dirname "$0")"
GO_DIR=$PWD
ROOT=$(cd ../.. && pwd)
OUT=$ROOT/target/go
mkdir -p "$OUT"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || { echo "go is missing: install Go 1.24 or newer" >&2; exit 1; }

step() { printf '\n--> %s\n' "$*"; }
t0=$(date +%s)

step "Building the library (release) and the test server"
(cd "$ROOT" && cargo build --release -p mcp-client-capi --quiet)
if [ ! -x "$ROOT/target/debug/mcp-test-server" ]; then
  (cd "$ROOT" && cargo build -p mcp-test-server --quiet)
fi
export MCP_TEST_SERVER=$ROOT/target/debug/mcp-test-server
# The tests choose their credential stores, and nothing may open a real browser.
unset MCP_CLIENT_STORE
export BROWSER=true

step "gofmt, go vet (static and dynamic)"
# This module's packages only (interop/ is a module of its own, with its own script).
unformatted=$(for d in $(go list -f '{{.Dir}}' ./...); do gofmt -l "$d"/*.go; done)
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go vet -tags mcpclient_dynamic ./...

step "go test -race -count=1 ./... (static: libmcp_client.a)"
go test -race -count=1 ./...

step "go test -race -count=1 -tags mcpclient_dynamic ./... (libmcp_client.so)"
go test -c -race -tags mcpclient_dynamic -o "$OUT/mcpclient-dynamic.test" .
if ! ldd "$OUT/mcpclient-dynamic.test" | grep -q 'libmcp_client.so => .*/target/release/libmcp_client.so'; then
  echo "the dynamic test program does not load target/release/libmcp_client.so:" >&2
  ldd "$OUT/mcpclient-dynamic.test" >&2
  exit 1
fi
go test -race -count=1 -tags mcpclient_dynamic ./...

printf '\nGo: done in %s s\n' "$(( $(date +%s) - t0 ))"

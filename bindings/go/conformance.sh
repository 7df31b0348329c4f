#!/usr/bin/env bash
# The official MCP conformance suites (client mode) through the Go package: builds
# cmd/mcp-conformance-client (the Go twin of cli/src/bin/mcp-conformance-client.rs) into
# target/go/mcp-conformance-client and runs the stable suite (every client scenario) and the
# alpha suite (every client scenario but the Skills extension, sep-2640-*), as tests/run-all.sh
# does for the Rust and Python clients. Results go to target/conformance/results-go/.
#
#   bindings/go/conformance.sh              both suites
#   bindings/go/conformance.sh stable|alpha one of them
#
# Needs Go, Node.js 20+ with npm (the suites are installed by tests/conformance/run.mjs on
# first use), and builds the C library (cargo build --release -p mcp-client-capi) if missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
which="${1:-both}"

# Always (a no-op when up to date): a stale library would test old code.
echo "==> cargo build --release -p mcp-client-capi"
cargo build --release -p mcp-client-capi --quiet
echo "==> go build -o target/go/mcp-conformance-client"
mkdir -p target/go
(cd bindings/go && go build -o "$root/target/go/mcp-conformance-client" ./cmd/mcp-conformance-client)

CLIENT="$root/target/go/mcp-conformance-client"
OUT="$root/target/conformance/results-go"
status=0
if [ "$which" = both ] || [ "$which" = stable ]; then
  echo "==> Conformance through Go: stable suite (every client scenario)"
  node tests/conformance/run.mjs --flavor stable --client "$CLIENT" -v --all --out "$OUT/stable" || status=1
fi
if [ "$which" = both ] || [ "$which" = alpha ]; then
  echo "==> Conformance through Go: alpha suite (every client scenario but sep-2640-*)"
  node tests/conformance/run.mjs --flavor alpha --client "$CLIENT" -v --all --exclude 'sep-2640-*' \
    --out "$OUT/alpha" || status=1
fi
exit "$status"

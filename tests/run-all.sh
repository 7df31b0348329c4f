#!/usr/bin/env bash
# The one test command: sets up what it needs and runs every test of the project.
#   tests/run-all.sh            everything
#   tests/run-all.sh --quick    skip the formatting and lint checks
# Needs: Rust (cargo), Node.js 20+ with npm (for the official MCP conformance suite, installed
# from the npm registry on first use). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)

if [ "$QUICK" = 0 ]; then
  step "Formatting (cargo fmt --check)"
  cargo fmt --all -- --check
  step "Lints (cargo clippy -D warnings)"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

step "Building (debug)"
cargo build --workspace --bins --quiet

step "Rust tests"
cargo test --workspace --quiet 2>&1 | tee "$ROOT/target/rust-tests.log"

CLIENT="$ROOT/target/debug/mcp-conformance-client"
step "Conformance: stable suite (every client scenario)"
node tests/conformance/run.mjs --flavor stable --client "$CLIENT" -v --all

step "Conformance: alpha suite (every client scenario but the Skills extension, sep-2640-*)"
node tests/conformance/run.mjs --flavor alpha --client "$CLIENT" -v --all --exclude 'sep-2640-*'

step "Done in $(( $(date +%s) - t0 )) s"

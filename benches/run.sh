#!/usr/bin/env bash
# Build release binaries and print the benchmark tables (ratios against a floor measured in the
# same run). Usage: benches/run.sh [transport options, e.g. --rounds 5]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p mcp-test-server --quiet
cargo bench --quiet --bench transport -- "$@"

#!/usr/bin/env bash
# benches/compare.sh: this client against other MCP clients (issue #16; scenarios 1 to 5).
# Builds the benchmark server, the test server with OAuth (scenarios 3 and 4) and our drivers
# (release), the C library, the Go driver, the
# Python wheel in a venv of its own (target/compare/venv, with matplotlib), installs the peer
# clients from the package registries at pinned versions (benches/compare/peers/setup.sh), then
# runs benches/compare/compare.py with this script's arguments: it prints the tables and writes
# docs/benchmarks.md and the charts (docs/bench-*.png, .svg).
#   benches/compare.sh [--quick] [--repeats N] [--calls N] [--calls-inflight N] [--only NAMES]
#                      [--scenarios 1,2,3,4,5] [--storm-calls N] [--hold 1,100]
# Not part of the test command. Works from a clean clone (the first run takes many minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/compare
mkdir -p "$OUT"
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
say() { echo "compare.sh: $*" >&2; }

# The server, our Rust driver and the two floors: packages with workspaces of their own, in one
# target dir of their own.
say "building the server and the Rust drivers (release)"
CARGO_TARGET_DIR_COMPARE=$ROOT/target/compare-cargo
CARGO_TARGET_DIR=$CARGO_TARGET_DIR_COMPARE cargo build --release --quiet \
  --manifest-path benches/compare/server/Cargo.toml
CARGO_TARGET_DIR=$CARGO_TARGET_DIR_COMPARE cargo build --release --quiet \
  --manifest-path benches/compare/ours/rust/Cargo.toml ||
  say "the Rust driver and the floors did not build: no Rust and floor rows (and no ratios)"

# The test server with its OAuth authorization server (scenarios 3 and 4), in the root workspace.
cargo build --release --quiet -p mcp-test-server ||
  say "the test server did not build: no scenarios 3 and 4"

# The C library (libmcp_client.so for the C driver, libmcp_client.a for the Go package).
say "building the C library (release)"
rm -f "$OUT/driver-c" "$OUT/driver-go"
CAPI=1
cargo build --release --quiet -p mcp-client-capi || { CAPI=0; say "the C library did not build: no C and Go rows"; }
if [ $CAPI = 0 ]; then
  :
elif command -v cc >/dev/null; then
  cc -std=c11 -O2 -Iinclude benches/compare/ours/c/driver.c -Ltarget/release -lmcp_client \
    -lpthread -Wl,-rpath,"$ROOT/target/release" -o "$OUT/driver-c" || say "the C driver did not build: no C row"
else
  say "no C compiler: no C row"
fi
# The Go driver: a module of its own using bindings/go from this tree; the binary is removed
# first since Go does not relink for a changed library behind its cgo LDFLAGS (golang/go#24355).
if [ $CAPI = 0 ]; then
  :
elif command -v go >/dev/null; then
  (cd benches/compare/ours/go && go build -o "$OUT/driver-go" .) || say "the Go driver did not build: no Go row"
else
  say "no go: no Go row"
fi

# Python: a venv with matplotlib and a release wheel of python/ (built in target/py, its own
# target dir, as python/run-tests.sh does).
build_python() {
  local venv=$OUT/venv
  if [ ! -x "$venv/bin/maturin" ] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2" "matplotlib>=3.8,<4" ||
      return 1
  fi
  rm -rf "$OUT/wheels"
  CARGO_TARGET_DIR=$ROOT/target/py "$venv/bin/maturin" build -q --release \
    -m python/Cargo.toml --out "$OUT/wheels" || return 1
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
    "$OUT"/wheels/*.whl
}
PY=python3
if command -v python3 >/dev/null && build_python; then
  PY=$OUT/venv/bin/python
else
  say "the Python venv or wheel did not build: no Python rows (and charts only if python3 has matplotlib)"
fi

# The peers: installed by their own script; a failure there skips them.
if [ -x benches/compare/peers/setup.sh ] || [ -f benches/compare/peers/setup.sh ]; then
  say "installing the peer clients (benches/compare/peers/setup.sh)"
  if ! bash benches/compare/peers/setup.sh; then
    say "benches/compare/peers/setup.sh failed: the peer clients are skipped"
    export MCP_COMPARE_NO_PEERS="benches/compare/peers/setup.sh failed"
  fi
else
  say "no benches/compare/peers/setup.sh: no peer clients"
fi

exec "$PY" benches/compare/compare.py "$@"

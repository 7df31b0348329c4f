#!/usr/bin/env bash
# The one test command: sets up what it needs and runs every test of the project.
#   tests/run-all.sh            everything
#   tests/run-all.sh --quick    skip the formatting and lint checks
# Needs: Rust (cargo), Node.js 20+ with npm (for the official MCP conformance suite, installed
# from the npm registry on first use), Python 3.9+ with venv (maturin, pytest and mypy come from
# PyPI), Go 1.24+ (the interop servers' modules come from the Go module proxy), and for the C
# tests gcc, g++, make, pkg-config and valgrind, and Chromium for the browser sign-in tests
# (installed from Debian's packages when missing and running as root, as in CI).
# CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)

# The C toolchain for tests/c, and Redis (redis-server brings redis-cli) for the Redis
# credential store tests (Debian package names).
missing=()
for tool in gcc:gcc g++:g++ make:make pkg-config:pkg-config valgrind:valgrind \
  redis-server:redis-server redis-cli:redis-server; do
  command -v "${tool%%:*}" >/dev/null 2>&1 && continue
  # Each package once (redis-server and redis-cli share one).
  case " ${missing[*]-} " in *" ${tool#*:} "*) ;; *) missing+=("${tool#*:}") ;; esac
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "Installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing for the C and Redis tests: ${missing[*]} (install them, e.g. apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
# The Redis tests (tests/common/redis.rs): run on their own without redis-server they print
# "skipped: ..." and pass; in CI they fail instead.
if [ "${CI:-}" = true ]; then export MCP_REDIS_TESTS="${MCP_REDIS_TESTS:-1}"; fi

if [ "$QUICK" = 0 ]; then
  step "Formatting (cargo fmt --check)"
  cargo fmt --all -- --check
  cargo fmt --manifest-path python/Cargo.toml -- --check
  step "Lints (cargo clippy -D warnings)"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  CARGO_TARGET_DIR="$ROOT/target/py" cargo clippy --manifest-path python/Cargo.toml --quiet -- -D warnings
fi

step "Building (debug)"
cargo build --workspace --quiet

# Browser sign-in tests (cli/tests/browser.rs): Chromium from Debian's packages and
# playwright-core (npm ci into target/browser). In CI a browser that cannot be set up fails
# the run; elsewhere those tests print "skipped: ..." and pass.
if [ "${CI:-}" = true ]; then export MCP_BROWSER_TESTS="${MCP_BROWSER_TESTS:-1}"; fi
step "Browser: Chromium (apt-get) and playwright-core (npm ci into target/browser)"
tests/browser/setup.sh

step "Rust tests"
cargo test --workspace --quiet 2>&1 | tee "$ROOT/target/rust-tests.log"

step "Interop: the reference server (server-everything) over stdio, Streamable HTTP and SSE"
cargo test --quiet --test everything -- --ignored --nocapture

step "Fuzzing: the regression tests of the fuzzing entry points; each fuzz target 20 s from its seeds"
cargo test --quiet --features fuzzing --test fuzz_regressions
# Without a sanitizer: the code under test is safe Rust, and the instrumented build is minutes
# shorter (fuzz/README.md runs them with AddressSanitizer, for hours).
FUZZ_BUILD_ARGS="${FUZZ_BUILD_ARGS:--s none}" fuzz/run.sh 20

step "C ABI: header, C tests (shared, static, ASan+UBSan, valgrind), example"
tests/c/run.sh

step "Python: build the wheel, install it in a fresh venv, pytest"
python/run-tests.sh

step "Go: vet, test -race (static and dynamic linking)"
bindings/go/run-tests.sh

step "Go interop: servers built with the official Go SDK and with mcp-go, behind OAuth"
bindings/go/interop/run-tests.sh

CLIENT="$ROOT/target/debug/mcp-conformance-client"
step "Conformance: stable suite (every client scenario)"
node tests/conformance/run.mjs --flavor stable --client "$CLIENT" -v --all

step "Conformance: alpha suite (every client scenario but the Skills extension, sep-2640-*)"
node tests/conformance/run.mjs --flavor alpha --client "$CLIENT" -v --all --exclude 'sep-2640-*'

# The same suites through the Python package: python/tests/conformance_client.py is the Python
# twin of the Rust client, run by the venv python/run-tests.sh made. The suite splits the
# command at spaces; its results go beside the Rust client's rather than over them.
PYCLIENT="${MCP_PY_DIR:-$ROOT/target/py}/venv/bin/python $ROOT/python/tests/conformance_client.py"
PYOUT="$ROOT/target/conformance/results-python"
step "Conformance through Python: stable suite (every client scenario)"
node tests/conformance/run.mjs --flavor stable --client "$PYCLIENT" -v --all --out "$PYOUT/stable"

step "Conformance through Python: alpha suite (every client scenario but sep-2640-*)"
node tests/conformance/run.mjs --flavor alpha --client "$PYCLIENT" -v --all --exclude 'sep-2640-*' \
  --out "$PYOUT/alpha"

step "Conformance through Go: both suites (bindings/go/cmd/mcp-conformance-client)"
bindings/go/conformance.sh

step "Done in $(( $(date +%s) - t0 )) s"

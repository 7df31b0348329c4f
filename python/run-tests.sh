#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment, and run the pytest suite there
# (under `python -X dev`, warnings as errors) against the project's test server; then the typing
# checks (mypy's stubtest and `mypy --strict`, on Python 3.10+) and the examples.
# Needs: python3 (3.9+) with venv, network access to PyPI for maturin, pytest and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
# MCP_PY_DIR: where the venv and the wheel go (default target/py; one per concurrent run).
PYDIR=$(realpath -m "${MCP_PY_DIR:-$ROOT/target/py}")
VENV=$PYDIR/venv
rm -rf "$VENV" "$PYDIR/wheels"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2" "pytest>=8"
# Its own target dir: the extension never replaces the C library (see docs/architecture.md).
# A debug build: the tests need no optimisation, and it builds in half the time.
CARGO_TARGET_DIR=$ROOT/target/py "$VENV/bin/maturin" build -q --profile dev -m python/Cargo.toml \
  --out "$PYDIR/wheels"
"$VENV/bin/pip" install -q --disable-pip-version-check "$PYDIR"/wheels/*.whl
[ -x "$ROOT/target/debug/mcp-test-server" ] || cargo build -q -p mcp-test-server
# From outside the source tree, so the installed package is the one imported.
cd "$PYDIR"
MCP_TEST_SERVER=$ROOT/target/debug/mcp-test-server \
  "$VENV/bin/python" -X dev -W error -m pytest -q -p no:cacheprovider "$ROOT/python/tests"

# Typing, still from outside the source tree (the installed package is the one checked):
# stubtest holds the hand-written mcp_client/_native.pyi (and the rest of the package) to the
# built module; `mypy --strict` checks the package and the examples. mypy is pinned (a new one
# may find new things: bump it on purpose) and needs Python 3.10+.
if "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  "$VENV/bin/pip" install -q --disable-pip-version-check "mypy==2.4.1"
  "$VENV/bin/python" -m mypy.stubtest mcp_client
  "$VENV/bin/python" -m mypy --strict -p mcp_client
  "$VENV/bin/python" -m mypy --strict "$ROOT/python/examples/sync_example.py" \
    "$ROOT/python/examples/async_example.py"
else
  echo "run-tests.sh: typing checks skipped (mypy needs Python 3.10+)" >&2
fi

# The examples, run as a newcomer would, against a test server of their own.
coproc SERVER { exec "$ROOT/target/debug/mcp-test-server" --no-record 2>/dev/null; }
SERVER_PROC=$SERVER_PID
trap 'kill "$SERVER_PROC" 2>/dev/null || true' EXIT
# The server prints its URL on its first line.
read -r -t 30 URL <&"${SERVER[0]}" || { echo "run-tests.sh: the test server did not start" >&2; exit 1; }
for ex in sync_example async_example; do
  out=$("$VENV/bin/python" -X dev -W error "$ROOT/python/examples/$ex.py" "$URL") ||
    { echo "python/examples/$ex.py failed (exit $?)" >&2; exit 1; }
  grep -qx 'echo: hi' <<<"$out" ||
    { echo "python/examples/$ex.py did not print 'echo: hi':" >&2; echo "$out" >&2; exit 1; }
done
echo "python/examples: sync_example.py and async_example.py ran"
kill "$SERVER_PROC"
wait "$SERVER_PROC" 2>/dev/null || true
trap - EXIT

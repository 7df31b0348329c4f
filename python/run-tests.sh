#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment, and run the pytest suite there
# (under `python -X dev`, warnings as errors) against the project's test server.
# Needs: python3 (3.9+) with venv, network access to PyPI for maturin and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
# MCP_PY_DIR: where the venv and the wheel go (default target/py; one per concurrent run).
PYDIR=${MCP_PY_DIR:-$ROOT/target/py}
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

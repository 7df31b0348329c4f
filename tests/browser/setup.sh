#!/usr/bin/env bash
# Sets up what the browser sign-in tests (cli/tests/browser.rs) need:
#   - Chromium from Debian's packages (`apt-get install chromium`, when missing and running as
#     root, as in CI);
#   - playwright-core, pinned by tests/browser/package-lock.json, installed with `npm ci` into
#     target/browser (or $MCP_BROWSER_DIR), so nothing is installed in the source tree.
# Exits 0 in every case: when something cannot be had, it prints a line starting with SKIP and
# the tests skip with the same reason. With MCP_BROWSER_TESTS=1 (CI) a missing piece is a
# failure instead (exit 1).
# Environment: MCP_BROWSER_DIR (default target/browser), MCP_CHROMIUM (default
# /usr/bin/chromium).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEST="${MCP_BROWSER_DIR:-$ROOT/target/browser}"
CHROMIUM="${MCP_CHROMIUM:-/usr/bin/chromium}"

skip() {
  echo "SKIP browser tests: $*" >&2
  if [ "${MCP_BROWSER_TESTS:-}" = 1 ]; then
    echo "MCP_BROWSER_TESTS=1: the browser tests are required, failing" >&2
    exit 1
  fi
  exit 0
}

# Chromium.
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" != 0 ]; then
    skip "$CHROMIUM is missing and this is not root (install it: apt-get install chromium)"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    skip "$CHROMIUM is missing and there is no apt-get to install it"
  fi
  echo "installing chromium (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq >/dev/null; then
    skip "apt-get update failed, so chromium cannot be installed"
  fi
  if ! apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
    skip "apt-get install chromium failed"
  fi
  if [ ! -x "$CHROMIUM" ]; then
    skip "chromium was installed but $CHROMIUM is not there"
  fi
fi
if ! "$CHROMIUM" --headless --no-sandbox --version >/dev/null 2>&1; then
  skip "$CHROMIUM does not run ($("$CHROMIUM" --version 2>&1 | head -1))"
fi

# Node.js and playwright-core.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  skip "node and npm (Node.js 20+) are needed to drive the browser"
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  skip "Node.js 20+ is needed (found $(node --version))"
fi
SRC="$ROOT/tests/browser"
if [ ! -f "$DEST/node_modules/playwright-core/package.json" ] ||
  ! cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json"; then
  mkdir -p "$DEST"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
  echo "installing playwright-core (npm ci in $DEST)" >&2
  if ! (cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error </dev/null); then
    rm -f "$DEST/package-lock.json"
    skip "npm ci of playwright-core failed in $DEST"
  fi
fi
echo "browser tests ready: $("$CHROMIUM" --version 2>/dev/null | head -1), playwright-core \
$(node -p "require('$DEST/node_modules/playwright-core/package.json').version") in $DEST" >&2

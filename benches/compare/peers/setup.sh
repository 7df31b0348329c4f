#!/usr/bin/env bash
# Installs/builds the peer MCP client drivers of benches/compare into target/compare/peers,
# from the package registries at the versions pinned beside this script, then writes
# benches/compare/peers/drivers.json listing the drivers that built. Idempotent and quiet:
# each peer's output goes to target/compare/peers/logs/NAME.log; a peer that fails is
# reported (with its log's tail) and skipped, the others still build.
# Exit status: 0 if at least one peer built, 1 if none did.
# Usage: benches/compare/peers/setup.sh [--only NAME,...]   (names as in drivers.json; with
# --only, drivers.json then lists only those)
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="$ROOT/target/compare/peers"
LOGS="$OUT/logs"
mkdir -p "$LOGS"
export PATH="$PATH:/usr/local/go/bin:$HOME/.cargo/bin"

ONLY=""
if [ "${1:-}" = "--only" ]; then ONLY=",${2:-},"; fi
want() { [ -z "$ONLY" ] || [[ "$ONLY" == *",$1,"* ]]; }

BUILT=()   # JSON objects of the drivers that built

entry() { # name language version notes cmd...   (notes: no double quotes or backslashes)
  local name=$1 lang=$2 ver=$3 notes=$4; shift 4
  local cmd="" a
  for a in "$@"; do cmd+="${cmd:+, }\"$a\""; done
  BUILT+=("{\"name\": \"$name\", \"language\": \"$lang\", \"version\": \"$ver\", \"cmd\": [$cmd], \"notes\": \"$notes\"}")
}

# One-line caveats shown under the tables (details in benches/compare/peers/README.md).
NOTE_TS="TypeScript SDK Client + StreamableHTTPClientTransport (Node fetch/undici defaults); K = K promises on one Client."
NOTE_PY="Python SDK ClientSession + streamable_http_client; mcp 2.x takes headers via its own httpx2.AsyncClient (http_client=); K = K asyncio tasks."
NOTE_GOSDK="go-sdk StreamableClientTransport over http.DefaultTransport (keeps only 2 idle connections per host, so K>2 opens extra connections); K = K goroutines on one ClientSession."
NOTE_MCPGO="mcp-go NewStreamableHttpClient + WithHTTPHeaders over Go's default http.Client (2 idle connections per host); K = K goroutines on one Client."
NOTE_RMCPD="rmcp defaults: its reqwest client disables idle connection pooling (a new TCP connection per POST) and the transport allows 16 POSTs in flight, so K=64 runs 16 at a time."
NOTE_RMCPT="rmcp with a pooled keep-alive HTTP/1 reqwest client, max_concurrent_requests=max(K,16), multi-thread runtime (see rmcp-tuned.rs)."

run() { # name command... : runs quietly into the peer's log; on failure shows its tail
  local name=$1; shift
  if ! "$@" >>"$LOGS/$name.log" 2>&1; then
    echo "peers/setup.sh: $name FAILED (skipped); last lines of $LOGS/$name.log:" >&2
    tail -n 15 "$LOGS/$name.log" | sed 's/^/    /' >&2
    return 1
  fi
}

# Versions are read from the pin files so this script never disagrees with them.
pin_ts=$(sed -n 's/.*"@modelcontextprotocol\/sdk": *"\([^"]*\)".*/\1/p' "$HERE/ts/package.json" | head -1)
pin_py=$(sed -n 's/^mcp==\(.*\)$/\1/p' "$HERE/python/requirements.txt")
pin_gosdk=$(awk '$1=="github.com/modelcontextprotocol/go-sdk"{print $2; exit} $2=="github.com/modelcontextprotocol/go-sdk"{print $3; exit}' "$HERE/go-sdk/go.mod")
pin_mcpgo=$(awk '$1=="github.com/mark3labs/mcp-go"{print $2; exit} $2=="github.com/mark3labs/mcp-go"{print $3; exit}' "$HERE/mcp-go/go.mod")
pin_rmcp=$(sed -n 's/^rmcp = { version = "=\([^"]*\)".*/\1/p' "$HERE/rmcp/Cargo.toml")

# --- TypeScript SDK: npm ci of the pinned lockfile into target/compare/peers/ts ------------
build_ts() {
  command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not found"; return 1; }
  mkdir -p "$OUT/ts"
  cp "$HERE/ts/package.json" "$HERE/ts/package-lock.json" "$HERE/ts/driver.mjs" "$OUT/ts/"
  if ! cmp -s "$HERE/ts/package-lock.json" "$OUT/ts/.installed-lock.json" || [ ! -d "$OUT/ts/node_modules" ]; then
    (cd "$OUT/ts" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1
    cp "$HERE/ts/package-lock.json" "$OUT/ts/.installed-lock.json"
  fi
}
if want typescript-sdk; then
  : >"$LOGS/typescript-sdk.log"
  run typescript-sdk build_ts && entry typescript-sdk TypeScript "$pin_ts" "$NOTE_TS" node target/compare/peers/ts/driver.mjs
fi

# --- Python SDK: a venv with the exact pins ---------------------------------------------
build_py() {
  local py=${PYTHON:-python3}
  if [ ! -x "$OUT/python/venv/bin/python" ]; then
    "$py" -m venv "$OUT/python/venv" || return 1
  fi
  if ! cmp -s "$HERE/python/requirements.txt" "$OUT/python/.installed-requirements.txt"; then
    "$OUT/python/venv/bin/pip" install --disable-pip-version-check -q -r "$HERE/python/requirements.txt" || return 1
    cp "$HERE/python/requirements.txt" "$OUT/python/.installed-requirements.txt"
  fi
  "$OUT/python/venv/bin/python" -c "import mcp.client.streamable_http, httpx2"
}
if want python-sdk; then
  : >"$LOGS/python-sdk.log"
  run python-sdk build_py && entry python-sdk Python "$pin_py" "$NOTE_PY" \
    target/compare/peers/python/venv/bin/python benches/compare/peers/python/driver_sdk.py
fi

# --- Go: the official go-sdk and mcp-go, each its own module (go.mod/go.sum pinned) --------
build_go() { # dir name
  command -v go >/dev/null || { echo "go not found"; return 1; }
  mkdir -p "$OUT/$2"
  # GOTOOLCHAIN=local: never fetch a Go toolchain; an older local go fails here instead.
  (cd "$HERE/$1" && GOTOOLCHAIN=local go build -trimpath -o "$OUT/$2/driver" .)
}
if want go-sdk; then
  : >"$LOGS/go-sdk.log"
  run go-sdk build_go go-sdk go-sdk && entry go-sdk Go "$pin_gosdk" "$NOTE_GOSDK" target/compare/peers/go-sdk/driver
fi
if want mcp-go; then
  : >"$LOGS/mcp-go.log"
  run mcp-go build_go mcp-go mcp-go && entry mcp-go Go "$pin_mcpgo" "$NOTE_MCPGO" target/compare/peers/mcp-go/driver
fi

# --- rmcp: its own cargo workspace + Cargo.lock, release build ---------------------------
build_rmcp() {
  command -v cargo >/dev/null || { echo "cargo not found"; return 1; }
  CARGO_TARGET_DIR="$ROOT/target/compare-peers-cargo" cargo build --release --locked -q \
    --manifest-path "$HERE/rmcp/Cargo.toml" || return 1
  mkdir -p "$OUT/rmcp"
  cp -f "$ROOT/target/compare-peers-cargo/release/rmcp-default" "$ROOT/target/compare-peers-cargo/release/rmcp-tuned" "$OUT/rmcp/"
}
if want rmcp-default || want rmcp-tuned; then
  : >"$LOGS/rmcp.log"
  if run rmcp build_rmcp; then
    want rmcp-default && entry rmcp-default Rust "$pin_rmcp" "$NOTE_RMCPD" target/compare/peers/rmcp/rmcp-default
    want rmcp-tuned && entry rmcp-tuned Rust "$pin_rmcp" "$NOTE_RMCPT" target/compare/peers/rmcp/rmcp-tuned
  fi
fi

# --- drivers.json ------------------------------------------------------------------------
{
  echo "["
  for i in "${!BUILT[@]}"; do
    sep=","; [ "$i" -eq $((${#BUILT[@]} - 1)) ] && sep=""
    echo "  ${BUILT[$i]}$sep"
  done
  echo "]"
} >"$HERE/drivers.json.tmp" && mv "$HERE/drivers.json.tmp" "$HERE/drivers.json"

echo "peers/setup.sh: ${#BUILT[@]} peer driver(s) ready (benches/compare/peers/drivers.json)" >&2
[ "${#BUILT[@]}" -gt 0 ]

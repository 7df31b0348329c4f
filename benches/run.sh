#!/usr/bin/env bash
# Build release binaries and print the benchmark tables: OAuth request counts (credentials), tool
# call latency while the access token expires every 2 s (churn: p50/p99 against a baseline without
# expiry measured in the same run, calls/s, refreshes per expiry), then transport figures as
# ratios to a floor measured in the same run (a bare keep-alive reqwest loop sending the same
# bytes).
#   benches/run.sh [--rounds N] [--seq N] [--conc N] [--inflight N]
# (the options are the transport table's; the churn table takes its own through
# MCP_BENCH_CHURN_ARGS, e.g. "--secs 20 --rounds 1").
# Table 1: wall-clock throughput and client CPU per call (noisy on shared machines: medians),
# for the Rust client, the C ABI (when cc is installed), the Go package (when go is) and the
# Python package (when python3 is).
# Table 2 (when valgrind is installed): instructions per sequential call, counted by callgrind,
# which repeats exactly from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins -p mcp-test-server -p mcp-client-cli --quiet
# The C client row: the C ABI's release library, called from C threads.
cargo build --release -p mcp-client-capi --quiet
if command -v cc >/dev/null; then
  cc -std=c11 -O2 -Iinclude benches/c/bench_client.c -Ltarget/release -lmcp_client -lpthread \
    -Wl,-rpath,"$PWD/target/release" -o target/release/bench_c_client
  export MCP_BENCH_C_CLIENT="$PWD/target/release/bench_c_client"
else
  echo "(no C compiler: no C row)"
fi
# The Go rows: benches/go (a module of its own, using bindings/go from this tree: nothing is
# downloaded), linked against the release libmcp_client.a built above. The old binary goes
# first: Go does not see a changed library behind its cgo LDFLAGS (golang/go#24355), and
# would not relink.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
if command -v go >/dev/null; then
  export MCP_BENCH_GO="$PWD/target/release/bench_go_client"
  rm -f "$MCP_BENCH_GO"
  (cd benches/go && go build -o "$MCP_BENCH_GO" .)
else
  echo "(no go: no Go rows)"
fi
# The Python rows: a release wheel of python/ in a venv of its own (target/py-bench), run by
# benches/python/bench_client.py. The extension builds in target/py (its own target dir: it
# never replaces the C library).
build_python() {
  local dir=$PWD/target/py-bench
  [ -x "$dir/venv/bin/maturin" ] || {
    rm -rf "$dir/venv"
    python3 -m venv "$dir/venv" &&
      "$dir/venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2"
  } || return 1
  rm -rf "$dir/wheels"
  CARGO_TARGET_DIR=$PWD/target/py "$dir/venv/bin/maturin" build -q --release \
    -m python/Cargo.toml --out "$dir/wheels" || return 1
  "$dir/venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
    "$dir"/wheels/*.whl || return 1
  export MCP_BENCH_PY="$dir/venv/bin/python"
}
if ! command -v python3 >/dev/null; then
  echo "(no python3: no Python rows)"
elif ! build_python; then
  echo "(the Python wheel did not build or install: no Python rows)"
fi
cargo bench --quiet --bench credentials
# shellcheck disable=SC2086 # word splitting of the options is wanted
cargo bench --quiet --bench churn -- ${MCP_BENCH_CHURN_ARGS:-}
cargo bench --quiet --bench transport -- "$@"

command -v valgrind >/dev/null || { echo "(valgrind not installed: no instruction counts)"; exit 0; }
BIN=$(cargo bench --bench transport --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*transport[^"]*\)".*/\1/p' | tail -1)
[ -x "$BIN" ] || { echo "cannot find the bench binary"; exit 1; }
N=2000
count() { # kind calls -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" --only "$1" --seq "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo
echo "Instructions per sequential tools/call (callgrind: a run of $N calls minus a run of none)"
printf '| %-22s | %12s | %8s |\n' client "instr/call" "vs floor"
printf '|%s|%s|%s|\n' "------------------------" "--------------" "----------"
floor_per=0
for kind in floor call_tool request_raw; do
  base=$(count "$kind" 0)
  total=$(count "$kind" "$N")
  per=$(( (total - base) / N ))
  [ "$kind" = floor ] && floor_per=$per
  printf '| %-22s | %12d | %7.2fx |\n' "$kind" "$per" "$(awk -v a="$per" -v b="$floor_per" 'BEGIN{print a/b}')"
done

# The C client through the C ABI (a run of N calls from one C thread minus a run of none),
# against a test server of its own.
[ -n "${MCP_BENCH_C_CLIENT:-}" ] || exit 0
SRV_OUT=$(mktemp)
target/release/mcp-test-server --no-record >"$SRV_OUT" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -f "$SRV_OUT"' EXIT
for _ in $(seq 50); do [ -s "$SRV_OUT" ] && break; sleep 0.1; done
URL=$(head -1 "$SRV_OUT")
count_c() { # calls -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$MCP_BENCH_C_CLIENT" "$URL" "$1" 0 1 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
base=$(count_c 0)
total=$(count_c "$N")
per=$(( (total - base) / N ))
printf '| %-22s | %12d | %7.2fx |\n' "C mcp_call_tool" "$per" "$(awk -v a="$per" -v b="$floor_per" 'BEGIN{print a/b}')"

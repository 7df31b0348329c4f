#!/usr/bin/env bash
# Smoke run of every fuzz target: build them all, run each for SECONDS (default 20) from its
# seed corpus, print a table, and fail if any target crashed, hung, ran out of memory or did
# not run.
#
#   fuzz/run.sh [SECONDS]
#
# Environment:
#   FUZZ_JOBS=N      targets run side by side (default: the number of cores)
#   FUZZ_TARGETS="a b"  only these targets (default: every one in fuzz/Cargo.toml)
#   FUZZ_KEEP_CORPUS=1  keep what the run found in fuzz/corpus/<target>/ (default: a
#                       scratch directory, so the committed seeds stay as they are)
#   FUZZ_TARGET_DIR=DIR build there instead of fuzz/target (e.g. a directory that outlives a
#                       fresh clone: the first build of all the instrumented dependencies
#                       takes minutes, later ones seconds)
#   FUZZ_BUILD_ARGS="…"  more arguments for `cargo fuzz build` (e.g. "--dev" or "-s none")
#
#   FUZZ_NIGHTLY=0      use the default toolchain even where rustup has a nightly one
#
# Uses the nightly toolchain when rustup has one, else the default toolchain with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags). Installs cargo-fuzz when it is missing.
# A crashing input is left in fuzz/artifacts/<target>/; see fuzz/README.md to reproduce it.
set -u

here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-20}
case $secs in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
start_all=$(date +%s)

if [ "${FUZZ_NIGHTLY:-1}" != 0 ] && command -v rustup >/dev/null &&
    rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
    rustc=(rustup run nightly rustc)
    channel=nightly
else
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
    rustc=(rustc)
    channel="$(rustc --version | cut -d' ' -f2) with RUSTC_BOOTSTRAP=1"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || { echo "fuzz/run.sh: cannot install cargo-fuzz" >&2; exit 1; }
fi

triple=$("${rustc[@]}" -vV | sed -n 's/^host: //p')
target_dir=${FUZZ_TARGET_DIR:-$here/target}
profile=release
case " ${FUZZ_BUILD_ARGS:-} " in *" --dev "* | *" -D "*) profile=debug ;; esac
cd "$here"
targets=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^mcp-client-fuzz$')}

echo "fuzz/run.sh: building $(echo $targets | wc -w) targets ($channel, $triple)"
build_start=$(date +%s)
mkdir -p "$target_dir"
# shellcheck disable=SC2086 # FUZZ_BUILD_ARGS is split on purpose
if ! "${cargo[@]}" fuzz build --target-dir "$target_dir" ${FUZZ_BUILD_ARGS:-} \
    >"$target_dir/fuzz-build.log" 2>&1; then
    tail -n 40 "$target_dir/fuzz-build.log" >&2
    echo "fuzz/run.sh: build failed" >&2
    exit 1
fi
build_secs=$(($(date +%s) - build_start))
echo "fuzz/run.sh: built in ${build_secs}s; running each target ${secs}s, $jobs at a time"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# run_one TARGET: one libFuzzer run; its summary goes to $scratch/TARGET.result.
run_one() {
    local t=$1 bin=$target_dir/$triple/$profile/$1 log=$scratch/$1.log corpus
    if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
        corpus=("$here/corpus/$t")
    else
        corpus=("$scratch/corpus-$t" "$here/corpus/$t")
    fi
    mkdir -p "${corpus[@]}" "$here/artifacts/$t"
    local dict=()
    [ -f "$here/dicts/$t.dict" ] && dict=("-dict=$here/dicts/$t.dict")
    local t0 rc
    t0=$(date +%s)
    timeout $((secs + 120)) "$bin" "${corpus[@]}" "${dict[@]}" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -print_final_stats=1 -artifact_prefix="$here/artifacts/$t/" >"$log" 2>&1
    rc=$?
    local took=$(($(date +%s) - t0))
    local runs rate result
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    if [ "$rc" = 0 ] && [ -n "$runs" ]; then
        result=ok
    elif grep -q 'libFuzzer: timeout' "$log"; then
        result=TIMEOUT
    elif grep -q -e 'out-of-memory' -e 'malloc(.*) exceeds limit' "$log"; then
        result=OOM
    elif grep -q -e 'panicked at' -e 'deadly signal' -e 'ERROR: AddressSanitizer' \
        -e 'LeakSanitizer' "$log"; then
        result=CRASH
    elif [ "$rc" = 124 ]; then
        result=HUNG
    else
        result="FAILED(rc=$rc)"
    fi
    printf '%s %s %s %s %s\n' "$t" "${runs:-0}" "$took" "${rate:-0}" "$result" >"$scratch/$t.result"
    if [ "$result" != ok ]; then
        {
            echo "---- $t: $result (log: last 30 lines) ----"
            grep -v '^#[0-9]' "$log" | tail -n 30
            grep -o "Test unit written to .*" "$log" || true
        } >"$scratch/$t.failure"
    fi
}

for t in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$t" &
done
wait

failed=0
printf '\n%-24s %10s %8s %10s  %s\n' target runs seconds runs/s result
for t in $targets; do
    if [ -f "$scratch/$t.result" ]; then
        read -r name runs took rate result <"$scratch/$t.result"
    else
        name=$t runs=0 took=0 rate=0 result=MISSING
    fi
    printf '%-24s %10s %8s %10s  %s\n' "$name" "$runs" "$took" "$rate" "$result"
    [ "$result" = ok ] || failed=$((failed + 1))
done
for f in "$scratch"/*.failure; do [ -f "$f" ] && cat "$f" >&2; done
total=$(($(date +%s) - start_all))
echo "fuzz/run.sh: build ${build_secs}s, total ${total}s"
if [ "$failed" -gt 0 ]; then
    echo "fuzz/run.sh: $failed target(s) failed; inputs in $here/artifacts/ (see fuzz/README.md)" >&2
    exit 1
fi
echo "fuzz/run.sh: every target ran clean"

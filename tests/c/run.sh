#!/usr/bin/env bash
# Builds and runs the C tests of the C ABI (include/mcp_client.h) against the project's test
# server (target/debug/mcp-test-server, started by each test program):
#   1. the header alone: compiles as C11 (-Wpedantic) and as C++17, included twice;
#   2. tests/c/test_client.c, tests/c/test_oauth.c and tests/c/test_hostile.c (hostile
#      servers: the test server's /hostile/{case} routes) against libmcp_client.so;
#   3. test_client again, linked statically against libmcp_client.a;
#   4. all three under AddressSanitizer + UndefinedBehaviorSanitizer;
#   5. all three under valgrind (memcheck; test_hostile runs the subset of `--valgrind`);
#   6. the example in examples/c, built with its Makefile through the pkg-config file made from
#      include/mcp_client.pc.in, run against the test server.
# A redis-server (when installed) runs beside them for test_oauth's Redis store test.
# Ends with `c tests: N passed, M failed` (every test of every program in every mode, plus one
# per build or run check) and exits non-zero on any failure.
#
#   tests/c/run.sh            everything (about a minute on 2 cores once cargo has built)
#   tests/c/run.sh --quick    steps 1-2 only
#
# Needs gcc, g++, make, pkg-config and valgrind (Debian: build-essential pkg-config valgrind).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/c-tests
LIB=$ROOT/target/debug
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
mkdir -p "$OUT"

export MCP_TEST_SERVER=$LIB/mcp-test-server
# MCP_CLIENT_STORE overrides every store choice, the tests' custom stores included.
unset MCP_CLIENT_STORE
# Nothing here may open a real browser.
export BROWSER=true

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }

# check NAME CMD...: one check, passed when CMD succeeds (its output kept in $OUT/NAME.log).
check() {
    local name=$1
    shift
    if "$@" >"$OUT/$name.log" 2>&1; then
        pass "$name"
    else
        fail "$name"
        tail -n 30 "$OUT/$name.log" | sed 's/^/    /'
    fi
}

# tally LOG RC LABEL: add up a test program's `RESULT passed=N failed=M`; a program that
# ended without it (a crash, a sanitizer abort) or exited non-zero with no failed test (a
# valgrind or sanitizer error) counts one failure more.
tally() {
    local log=$1 rc=$2 label=$3 line p f
    line=$(grep -E '^RESULT passed=[0-9]+ failed=[0-9]+$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        fail "$label (no result: exit $rc)"
        tail -n 40 "$log" | sed 's/^/    /'
        return
    fi
    p=$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")
    f=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + p))
    failed=$((failed + f))
    printf '%-5s %s: %s passed, %s failed\n' "$([ "$f" = 0 ] && [ "$rc" = 0 ] && echo ok || echo FAIL)" "$label" "$p" "$f"
    if [ "$f" != 0 ]; then
        grep -E '^FAIL|check failed|returned' "$log" | head -n 40 | sed 's/^/    /'
    elif [ "$rc" != 0 ]; then
        fail "$label: exit $rc with every test passed (sanitizer or valgrind report)"
        grep -E '==[0-9]+==|runtime error|ERROR|definitely' "$log" | head -n 40 | sed 's/^/    /'
    fi
}

# run LABEL CMD...: run a test program in the foreground and tally it.
run() {
    local label=$1 log rc
    shift
    log="$OUT/$(tr ' /+' '___' <<<"$label").log"
    timeout 300 "$@" >"$log" 2>&1
    rc=$?
    tally "$log" "$rc" "$label"
}

echo "==> Building the library and the test server (cargo build)"
if ! { cargo build --quiet -p mcp-client-capi && cargo build --quiet -p mcp-test-server --bin mcp-test-server; }; then
    echo "cargo build failed"
    echo "c tests: 0 passed, 1 failed"
    exit 1
fi

# A Redis for test_oauth's store test: redis-server on a free loopback port of its own, stopped
# on exit. Without it that test says it skipped, unless MCP_REDIS_TESTS=1 (CI) requires it.
REDIS_PID=
if command -v redis-server >/dev/null 2>&1; then
    redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$OUT" --logfile "$OUT/redis.log" --daemonize no &
    REDIS_PID=$!
    trap 'kill "$REDIS_PID" 2>/dev/null' EXIT
    for _ in $(seq 100); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    export MCP_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
elif [ "${MCP_REDIS_TESTS:-}" = 1 ]; then
    fail "redis-server is missing and MCP_REDIS_TESTS=1 requires it"
fi

CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -I"$ROOT/include")
SHARED=(-L"$LIB" -lmcp_client -lpthread -Wl,-rpath,"$LIB")
# What a Rust staticlib needs from the system; `cargo rustc -p mcp-client-capi --crate-type staticlib --
# --print native-static-libs` prints it (that command rebuilds the library, so it is not run
# here).
NATIVE_STATIC_LIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
SAN=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)

echo "==> The header"
printf '#include "mcp_client.h"\n#include "mcp_client.h"\nint main(void) { return mcp_version() == 0; }\n' >"$OUT/twice.c"
check header_c11_twice gcc "${CFLAGS[@]}" -c "$OUT/twice.c" -o "$OUT/twice.o"
check header_cpp17_twice g++ -std=c++17 -Wall -Wextra -Werror -I"$ROOT/include" \
    tests/c/compile_cpp.cpp -o "$OUT/compile_cpp" "${SHARED[@]}"
check header_cpp17_runs "$OUT/compile_cpp"

echo "==> Building the C tests"
build_ok=1
for t in test_client test_oauth test_hostile; do
    check "build_$t" gcc "${CFLAGS[@]}" "tests/c/$t.c" -o "$OUT/$t" "${SHARED[@]}" || build_ok=0
done

echo "==> Shared library (libmcp_client.so)"
run "shared test_client" "$OUT/test_client"
run "shared test_oauth" "$OUT/test_oauth"
run "shared test_hostile" "$OUT/test_hostile"

if [ "$QUICK" = 1 ]; then
    echo "c tests: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
fi

echo "==> Static library (libmcp_client.a) and sanitizer builds"
# The static link reads a large debug archive; the sanitizer builds compile meanwhile.
gcc "${CFLAGS[@]}" tests/c/test_client.c -o "$OUT/test_client_static" \
    "$LIB/libmcp_client.a" "${NATIVE_STATIC_LIBS[@]}" >"$OUT/build_static.log" 2>&1 &
static_pid=$!
for t in test_client test_oauth test_hostile; do
    check "build_${t}_asan_ubsan" gcc "${CFLAGS[@]}" "${SAN[@]}" "tests/c/$t.c" -o "$OUT/${t}_asan" "${SHARED[@]}"
done
if wait "$static_pid"; then pass build_test_client_static; else fail build_test_client_static; tail -n 20 "$OUT/build_static.log"; fi
# The static program must not need the shared library.
check static_has_no_libmcp_client_so bash -c "! ldd '$OUT/test_client_static' | grep -q libmcp_client"
run "static test_client" "$OUT/test_client_static"

echo "==> AddressSanitizer + UndefinedBehaviorSanitizer"
# Only the C programs are instrumented (the Rust library is not: it is memory-safe Rust plus
# the boundary code these tests drive). No LD_PRELOAD is needed because the executable itself
# carries the ASan runtime, which then also serves the library's malloc/free: a string freed
# with the wrong function, a double free or a use after free across the boundary is caught.
# Leak detection is on: handles and strings the library hands out and the tests forget are
# reported (the library's process-wide runtime is reachable from globals, hence not a leak).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run "asan+ubsan test_client" "$OUT/test_client_asan"
run "asan+ubsan test_oauth" "$OUT/test_oauth_asan"
run "asan+ubsan test_hostile" "$OUT/test_hostile_asan"
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "==> valgrind (memcheck)"
# Leaks count as errors only when "definitely lost": the library keeps one process-wide tokio
# runtime whose worker and blocking-pool threads are still alive at exit, and Rust std's
# main-thread TLS (48 bytes): valgrind 3.19 files those as "possibly lost" (interior pointers
# into live thread stacks and TLS), never "definitely". A handle or string the program forgot to
# free is definitely lost, and is caught. Under valgrind each client takes ~2 s (mostly loading
# the system's root certificates); the two programs run side by side, every test of each.
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --error-exitcode=1 --trace-children=no)
# test_hostile runs its `--valgrind` subset (each way a misbehaviour crosses the boundary, and
# the big bodies; the cases that only wait on a timeout are left to the other modes) after
# test_oauth, beside test_client.
timeout 300 "${VG[@]}" "$OUT/test_client" >"$OUT/valgrind_client.log" 2>&1 &
vg_client=$!
timeout 300 "${VG[@]}" "$OUT/test_oauth" >"$OUT/valgrind_oauth.log" 2>&1
tally "$OUT/valgrind_oauth.log" $? "valgrind test_oauth"
timeout 300 "${VG[@]}" "$OUT/test_hostile" --valgrind >"$OUT/valgrind_hostile.log" 2>&1
tally "$OUT/valgrind_hostile.log" $? "valgrind test_hostile"
wait "$vg_client"
tally "$OUT/valgrind_client.log" $? "valgrind test_client"

echo "==> The example (examples/c, pkg-config)"
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
mkdir -p "$OUT/pkgconfig" "$OUT/example"
sed -e "s|@PREFIX@|$ROOT|" -e "s|@LIBDIR@|$LIB|" -e "s|@INCLUDEDIR@|$ROOT/include|" \
    -e "s|@VERSION@|$VERSION|" include/mcp_client.pc.in >"$OUT/pkgconfig/mcp_client.pc"
export PKG_CONFIG_PATH=$OUT/pkgconfig
check pkg_config_version bash -c "[ \"\$(pkg-config --modversion mcp_client)\" = '$VERSION' ]"
check example_builds make -s -B -f "$ROOT/examples/c/Makefile" -C "$OUT/example" PKG_CONFIG=1 \
    "LDFLAGS=-Wl,-rpath,$LIB"
example_run() {
    local url pid
    coproc SERVER { exec "$MCP_TEST_SERVER" --port 0; }
    pid=$SERVER_PID
    read -r url <&"${SERVER[0]}"
    out=$("$OUT/example/mcp_example" "$url" echo '{"text":"from the example"}')
    local rc=$?
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "$out"
    [ "$rc" = 0 ] && grep -q '"name":"echo"' <<<"$out" && grep -q 'from the example' <<<"$out"
}
check example_runs example_run

echo "c tests: $passed passed, $failed failed"
[ "$failed" = 0 ]

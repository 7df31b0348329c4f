"""The Python side of the transport benchmark: tools/call round trips through the Python
package (`mcp_client`), sequential and many at once on one client, with this process's CPU
per call.

    bench_client.py URL SEQ_CALLS CONC_CALLS CONCURRENCY MODE

MODE `sync`: one `Client`; the sequential calls from the main thread, then CONC_CALLS calls
from CONCURRENCY threads sharing it. MODE `async`: one `AsyncClient`; the sequential calls
awaited one by one, then CONC_CALLS calls from CONCURRENCY tasks (asyncio.gather), so that
many are in flight.

Prints two lines, `seq CALLS_PER_S CPU_US_PER_CALL` and `conc CALLS_PER_S CPU_US_PER_CALL`
(the form of benches/c/bench_client.c); benches/transport.rs runs it in the same rounds as the
Rust clients and puts the figures in its table. CPU is time.process_time(): user + system time
of every thread of this process, the C client's getrusage(RUSAGE_SELF). Exits non-zero on any
failed call.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import mcp_client

ARGS = {"text": "hello benchmark"}
WARM_UP = 200


def check(result: dict) -> None:
    if result["content"][0]["text"] != "hello benchmark":
        raise SystemExit(f"unexpected result: {result!r}")


def report(what: str, n: int, wall: float, cpu: float) -> None:
    if n == 0:
        print(f"{what} 0 0", flush=True)
        return
    print(f"{what} {n / wall:.0f} {cpu * 1e6 / n:.2f}", flush=True)


def run_sync(url: str, seq: int, conc: int, threads: int) -> None:
    with mcp_client.Client(url) as c:
        for _ in range(WARM_UP):
            check(c.call_tool("echo", ARGS))

        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(seq):
            check(c.call_tool("echo", ARGS))
        report("seq", seq, time.perf_counter() - t0, time.process_time() - c0)

        per = conc // threads
        failed: list = []

        def worker() -> None:
            try:
                for _ in range(per):
                    check(c.call_tool("echo", ARGS))
            except BaseException as e:  # noqa: BLE001 (reported below)
                failed.append(e)

        ts = [threading.Thread(target=worker) for _ in range(threads)]
        t0, c0 = time.perf_counter(), time.process_time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if failed:
            raise SystemExit(f"{len(failed)} threads failed: {failed[0]!r}")
        report("conc", per * threads, wall, cpu)


async def run_async(url: str, seq: int, conc: int, inflight: int) -> None:
    async with mcp_client.AsyncClient(url) as c:

        async def calls(n: int) -> None:
            for _ in range(n):
                check(await c.call_tool("echo", ARGS))

        await calls(WARM_UP)

        t0, c0 = time.perf_counter(), time.process_time()
        await calls(seq)
        report("seq", seq, time.perf_counter() - t0, time.process_time() - c0)

        per = conc // inflight
        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(calls(per) for _ in range(inflight)))
        report("conc", per * inflight, time.perf_counter() - t0, time.process_time() - c0)


def main() -> None:
    if len(sys.argv) != 6 or sys.argv[5] not in ("sync", "async"):
        sys.exit("usage: bench_client.py URL SEQ_CALLS CONC_CALLS CONCURRENCY sync|async")
    url, mode = sys.argv[1], sys.argv[5]
    seq, conc, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if not 1 <= n <= 1024:
        sys.exit("CONCURRENCY must be 1 to 1024")
    if mode == "sync":
        run_sync(url, seq, conc, n)
    else:
        asyncio.run(run_async(url, seq, conc, n))


if __name__ == "__main__":
    main()

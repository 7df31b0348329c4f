"""benches/compare peer driver: the official MCP Python SDK (PyPI `mcp`) client.

The SDK's `streamable_http_client` transport + `ClientSession`, on asyncio. In mcp 2.x the
transport no longer takes `headers=` (1.x's `streamablehttp_client(url, headers=...)`); its
documented way to set headers is to pass your own `httpx2.AsyncClient` (`http_client=`), so we
pass one built with `headers={"Authorization": "Bearer TOKEN"}` (httpx2's defaults otherwise).
K calls in flight = K asyncio tasks sharing the one ClientSession.
Contract: benches/compare/README.md. Only the RESULT line goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import time
from importlib.metadata import version as dist_version

import httpx2

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--inflight", type=int, default=1)
    p.add_argument("--warmup", type=int, default=0)
    return p.parse_args()


def rusage() -> tuple[int, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return round((ru.ru_utime + ru.ru_stime) * 1e6), ru.ru_maxrss


def pct(s: list[float], q: float) -> float:
    if not s:
        return 0.0
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


first_error: list[BaseException | str] = []


async def echo_call(session: ClientSession) -> bool:
    try:
        r = await session.call_tool("echo", {"text": "hello"})
        c = r.content[0] if r.content else None
        if not r.is_error and c is not None and c.type == "text" and c.text == "hello":
            return True
        raise RuntimeError(f"unexpected result: {r!r}")
    except Exception as e:  # noqa: BLE001 - count any failure, keep going
        if not first_error:
            first_error.append(e)
        return False


async def run_calls(session: ClientSession, n: int, k: int) -> tuple[int, list[float]]:
    state = {"next": 0, "ok": 0}
    lat: list[float] = []

    async def worker() -> None:
        while state["next"] < n:
            state["next"] += 1
            t0 = time.perf_counter_ns()
            good = await echo_call(session)
            lat.append((time.perf_counter_ns() - t0) / 1000)
            if good:
                state["ok"] += 1

    await asyncio.gather(*(worker() for _ in range(min(k, max(n, 1)))))
    return state["ok"], lat


async def main() -> int:
    a = parse_args()
    k = max(1, a.inflight)
    ok, lat, wall_us, cpu_us = 0, [], 0, 0
    try:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {a.token}"})
        async with http, streamable_http_client(a.url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                if a.warmup > 0:
                    wok, _ = await run_calls(session, a.warmup, k)
                    if wok != a.warmup:
                        print(f"warm-up: {wok}/{a.warmup} ok", file=sys.stderr)
                    first_error.clear()
                c0, _ = rusage()
                t0 = time.perf_counter_ns()
                ok, lat = await run_calls(session, a.calls, k)
                wall_us = (time.perf_counter_ns() - t0) // 1000
                c1, _ = rusage()
                cpu_us = c1 - c0
                if first_error:
                    print(f"first error: {first_error[0]!r}", file=sys.stderr)
        # leaving streamable_http_client sends the session DELETE (terminate_on_close=True)
    except BaseException as e:  # noqa: BLE001
        print(f"driver failed: {e!r}", file=sys.stderr)
    lat.sort()
    result = {
        "client": "python-sdk",
        "version": dist_version("mcp"),
        "calls": a.calls,
        "ok": ok,
        "wall_us": int(wall_us),
        "p50_us": round(pct(lat, 0.5), 1),
        "p99_us": round(pct(lat, 0.99), 1),
        "cpu_us": cpu_us,
        "peak_rss_kb": rusage()[1],
    }
    sys.stdout.write("RESULT " + json.dumps(result, separators=(",", ":")) + "\n")
    return 0 if ok == a.calls else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

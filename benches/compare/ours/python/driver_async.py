"""This project's Python package, `mcp_client.AsyncClient` (static bearer token) on asyncio,
under the benches/compare driver contract: K tasks share the one client, each awaiting
`call_tool` until N calls have been started.

`--auth cold|warm|storm`: `AsyncClient(url, oauth=OAuth(presenter="headless",
store="file:DIR"))`; storm: `asyncio.gather` of N calls on the one client.
`--hold N`: N clients, each connected and called once, VmRSS read while all are open."""

from __future__ import annotations

import asyncio
import sys
import time

import mcp_client
from common import check, cpu_us, expire, finish, finish_hold, oauth, parse_args, vmrss_kb

ARGS = {"text": "hello"}
NAME = "mcp-client (Python async)"


def caller(errors: list):
    """A coroutine function making one checked echo call on a client; failures go to `errors`."""

    async def one(c) -> bool:
        try:
            r = await c.call_tool("echo", ARGS)
        except Exception as e:  # noqa: BLE001 (counted and reported)
            errors.append(e)
            return False
        if not check(r):
            errors.append(f"unexpected result: {r!r}")
            return False
        return True

    return one


async def run_auth(a) -> tuple:
    errors: list = []
    one = caller(errors)
    if a.auth != "storm":
        # Timed: the options, the client, connecting (sign-in or the stored credential), the
        # first call.
        c = None
        c0, t0 = cpu_us(), time.perf_counter()
        try:
            c = mcp_client.AsyncClient(a.url, oauth=oauth(a.store))
            await c.connect()
            ok = await one(c)
        except Exception as e:  # noqa: BLE001 (counted and reported)
            errors.append(e)
            ok = False
        wall, cpu = time.perf_counter() - t0, cpu_us() - c0
        if c is not None:
            await c.close()
        return errors, 1, int(ok), wall, cpu, [wall * 1e6]

    n = a.calls
    try:
        c = mcp_client.AsyncClient(a.url, oauth=oauth(a.store))
        await c.connect()
    except Exception as e:  # noqa: BLE001
        errors.append(e)
        return errors, n, 0, 0, 0, []
    async with c:
        if not await one(c):
            return errors, n, 0, 0, 0, []
        await asyncio.to_thread(expire, a.expire_url)
        lat: list = [0.0] * n
        perf = time.perf_counter

        async def timed(i: int) -> bool:
            t = perf()
            good = await one(c)
            lat[i] = (perf() - t) * 1e6
            return good

        c0, t0 = cpu_us(), perf()
        oks = await asyncio.gather(*(timed(i) for i in range(n)))
        wall, cpu = perf() - t0, cpu_us() - c0
    return errors, n, sum(oks), wall, cpu, lat


async def run_hold(a) -> tuple:
    errors: list = []
    one = caller(errors)
    clients = []
    for _ in range(a.hold):
        c = mcp_client.AsyncClient(a.url, bearer=a.token)
        try:
            await c.connect()
            clients.append(c)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    ok = 0
    for c in clients:
        ok += await one(c)
    rss = vmrss_kb()
    for c in clients:
        await c.close()
    return errors, ok, rss


async def run(a) -> tuple:
    errors: list = []
    async with mcp_client.AsyncClient(a.url, bearer=a.token) as c:
        call = caller(errors)

        async def one() -> bool:
            return await call(c)

        for _ in range(a.warmup):
            await one()
        errors.clear()

        lat: list = []
        started = [0]
        n = a.calls

        async def worker() -> int:
            ok = 0
            perf = time.perf_counter
            while started[0] < n:
                started[0] += 1
                t = perf()
                good = await one()
                lat.append((perf() - t) * 1e6)
                ok += good
            return ok

        c0, t0 = cpu_us(), time.perf_counter()
        oks = await asyncio.gather(*(worker() for _ in range(a.inflight)))
        wall, cpu = time.perf_counter() - t0, cpu_us() - c0
    if errors:
        print(f"{len(errors)} failed calls; first: {errors[0]!r}", file=sys.stderr)
    return n, sum(oks), wall, cpu, lat


def report(errors: list) -> None:
    if errors:
        print(f"{len(errors)} failures; first: {errors[0]!r}", file=sys.stderr)


def main() -> None:
    a = parse_args()
    if a.auth:
        errors, n, ok, wall, cpu, lat = asyncio.run(run_auth(a))
        report(errors)
        finish(NAME, mcp_client.__version__, n, ok, wall, cpu, lat)
    if a.hold is not None:
        errors, ok, rss = asyncio.run(run_hold(a))
        report(errors)
        finish_hold(NAME, mcp_client.__version__, a.hold, ok, rss)
    n, ok, wall, cpu, lat = asyncio.run(run(a))
    finish(NAME, mcp_client.__version__, n, ok, wall, cpu, lat)


if __name__ == "__main__":
    main()

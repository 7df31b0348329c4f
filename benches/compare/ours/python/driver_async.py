"""This project's Python package, `mcp_client.AsyncClient` (static bearer token) on asyncio,
under the benches/compare driver contract: K tasks share the one client, each awaiting
`call_tool` until N calls have been started."""

from __future__ import annotations

import asyncio
import sys
import time

import mcp_client
from common import check, cpu_us, finish, parse_args

ARGS = {"text": "hello"}


async def run(a) -> tuple:
    errors: list = []
    async with mcp_client.AsyncClient(a.url, bearer=a.token) as c:

        async def one() -> bool:
            try:
                r = await c.call_tool("echo", ARGS)
            except Exception as e:  # noqa: BLE001 (counted and reported)
                errors.append(e)
                return False
            if not check(r):
                errors.append(f"unexpected result: {r!r}")
                return False
            return True

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


def main() -> None:
    a = parse_args()
    n, ok, wall, cpu, lat = asyncio.run(run(a))
    finish("mcp-client (Python async)", mcp_client.__version__, n, ok, wall, cpu, lat)


if __name__ == "__main__":
    main()

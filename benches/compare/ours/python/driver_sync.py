"""This project's Python package, synchronous `mcp_client.Client` (static bearer token), under
the benches/compare driver contract: K threads share the one client (calls release the GIL),
each calling `call_tool` until N calls have been started."""

from __future__ import annotations

import itertools
import sys
import threading
import time

import mcp_client
from common import check, cpu_us, finish, parse_args

ARGS = {"text": "hello"}


def main() -> None:
    a = parse_args()
    errors: list = []

    with mcp_client.Client(a.url, bearer=a.token) as c:

        def one() -> bool:
            try:
                r = c.call_tool("echo", ARGS)
            except Exception as e:  # noqa: BLE001 (counted and reported)
                errors.append(e)
                return False
            if not check(r):
                errors.append(f"unexpected result: {r!r}")
                return False
            return True

        for _ in range(a.warmup):
            one()
        errors.clear()

        lat: list = []
        oks = [0]
        counter = itertools.count()  # next() on it is atomic under the GIL
        n = a.calls

        def worker() -> None:
            mine, ok = [], 0
            perf = time.perf_counter
            while next(counter) < n:
                t = perf()
                good = one()
                mine.append((perf() - t) * 1e6)
                ok += good
            lat.extend(mine)
            oks.append(ok)

        c0, t0 = cpu_us(), time.perf_counter()
        if a.inflight == 1:
            worker()
        else:
            ts = [threading.Thread(target=worker) for _ in range(a.inflight)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        wall, cpu = time.perf_counter() - t0, cpu_us() - c0
    if errors:
        print(f"{len(errors)} failed calls; first: {errors[0]!r}", file=sys.stderr)
    finish("mcp-client (Python sync)", mcp_client.__version__, n, sum(oks), wall, cpu, lat)


if __name__ == "__main__":
    main()

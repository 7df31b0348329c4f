"""This project's Python package, synchronous `mcp_client.Client` (static bearer token), under
the benches/compare driver contract: K threads share the one client (calls release the GIL),
each calling `call_tool` until N calls have been started.

`--auth cold|warm|storm`: `Client(url, oauth=OAuth(presenter="headless", store="file:DIR"))`;
storm: N threads, released together by a barrier, one call each on the one client.
`--hold N`: N clients, each connected and called once, VmRSS read while all are open."""

from __future__ import annotations

import itertools
import sys
import threading
import time

import mcp_client
from common import check, cpu_us, expire, finish, finish_hold, oauth, parse_args, vmrss_kb

ARGS = {"text": "hello"}
NAME = "mcp-client (Python sync)"


def caller(errors: list):
    """A function making one checked echo call on a client; failures go to `errors`."""

    def one(c) -> bool:
        try:
            r = c.call_tool("echo", ARGS)
        except Exception as e:  # noqa: BLE001 (counted and reported)
            errors.append(e)
            return False
        if not check(r):
            errors.append(f"unexpected result: {r!r}")
            return False
        return True

    return one


def report(errors: list) -> None:
    if errors:
        print(f"{len(errors)} failures; first: {errors[0]!r}", file=sys.stderr)


def run_auth(a) -> None:
    errors: list = []
    one = caller(errors)
    if a.auth != "storm":
        # Timed: the options, the client (connecting: sign-in or the stored credential), the
        # first call.
        c = None
        c0, t0 = cpu_us(), time.perf_counter()
        try:
            c = mcp_client.Client(a.url, oauth=oauth(a.store))
            ok = one(c)
        except Exception as e:  # noqa: BLE001 (counted and reported)
            errors.append(e)
            ok = False
        wall, cpu = time.perf_counter() - t0, cpu_us() - c0
        if c is not None:
            c.close()
        report(errors)
        finish(NAME, mcp_client.__version__, 1, int(ok), wall, cpu, [wall * 1e6])

    n = a.calls
    try:
        c = mcp_client.Client(a.url, oauth=oauth(a.store))
    except Exception as e:  # noqa: BLE001
        print(f"connect: {e!r}", file=sys.stderr)
        finish(NAME, mcp_client.__version__, n, 0, 0, 0, [])
    with c:
        if not one(c):
            report(errors)
            finish(NAME, mcp_client.__version__, n, 0, 0, 0, [])
        expire(a.expire_url)
        lat: list = [0.0] * n
        oks = [0] * n
        go = threading.Barrier(n + 1)

        def worker(i: int) -> None:
            go.wait()
            t = time.perf_counter()
            oks[i] = one(c)
            lat[i] = (time.perf_counter() - t) * 1e6

        ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        c0, t0 = cpu_us(), time.perf_counter()
        go.wait()
        for t in ts:
            t.join()
        wall, cpu = time.perf_counter() - t0, cpu_us() - c0
    report(errors)
    finish(NAME, mcp_client.__version__, n, sum(oks), wall, cpu, lat)


def run_hold(a) -> None:
    errors: list = []
    one = caller(errors)
    clients = []
    for _ in range(a.hold):
        try:
            clients.append(mcp_client.Client(a.url, bearer=a.token))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    ok = sum(one(c) for c in clients)
    rss = vmrss_kb()
    for c in clients:
        c.close()
    report(errors)
    finish_hold(NAME, mcp_client.__version__, a.hold, ok, rss)


def main() -> None:
    a = parse_args()
    if a.auth:
        run_auth(a)
    if a.hold is not None:
        run_hold(a)
    errors: list = []

    with mcp_client.Client(a.url, bearer=a.token) as c:

        call = caller(errors)

        def one() -> bool:
            return call(c)

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
    finish(NAME, mcp_client.__version__, n, sum(oks), wall, cpu, lat)


if __name__ == "__main__":
    main()

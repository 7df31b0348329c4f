"""What the Python drivers of benches/compare share: the contract's arguments, the check of a
result, the percentiles and the RESULT line (benches/compare/README.md)."""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=100)
    a = ap.parse_args()
    if a.inflight < 1 or a.calls < 0:
        ap.error("--inflight must be >= 1, --calls >= 0")
    return a


def check(result: dict) -> bool:
    try:
        c = result["content"][0]
        return c["type"] == "text" and c["text"] == "hello" and not result.get("isError")
    except (KeyError, IndexError, TypeError):
        return False


def cpu_us() -> int:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e6)


def finish(client: str, version: str, calls: int, ok: int, wall_s: float, cpu: int, lat_us: list) -> None:
    lat_us.sort()

    def pct(q: float) -> float:
        if not lat_us:
            return 0
        r = max(1, min(len(lat_us), math.ceil(q * len(lat_us))))
        return round(lat_us[r - 1], 1)

    print("RESULT " + json.dumps({
        "client": client, "version": version, "calls": calls, "ok": ok,
        "wall_us": int(wall_s * 1e6), "p50_us": pct(0.50), "p99_us": pct(0.99), "cpu_us": cpu,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, separators=(",", ":")), flush=True)
    sys.exit(0 if ok == calls else 1)

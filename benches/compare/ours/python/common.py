"""What the Python drivers of benches/compare share: the contract's arguments, the check of a
result, the percentiles and the RESULT lines (benches/compare/README.md), the OAuth settings of
the authorized scenarios, VmRSS and the plain POST that expires the tokens."""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import urllib.request


def parse_args() -> argparse.Namespace:
    """Scenarios 1-2 (`--url --token --calls --inflight --warmup`), 3-4 (`--auth cold|warm|storm
    --url --store [--calls --expire-url]`) and 5 (`--hold N --url --token`)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token")
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--auth", choices=("cold", "warm", "storm"))
    ap.add_argument("--store")
    ap.add_argument("--expire-url")
    ap.add_argument("--hold", type=int)
    a = ap.parse_args()
    if a.auth:
        if not a.store:
            ap.error("--auth needs --store DIR")
        if a.auth == "storm" and (not a.expire_url or a.calls < 1):
            ap.error("--auth storm needs --expire-url E and --calls N >= 1")
    elif a.hold is not None:
        if a.hold < 1 or a.token is None:
            ap.error("--hold needs N >= 1 and --token")
    else:
        if a.token is None:
            ap.error("--token is required")
        if a.inflight < 1 or a.calls < 0:
            ap.error("--inflight must be >= 1, --calls >= 0")
    return a


def oauth(store_dir: str):
    """The OAuth engine with the headless presenter and the file store in `store_dir`."""
    import mcp_client

    return mcp_client.OAuth(presenter="headless", store=f"file:{store_dir}")


def check(result: dict) -> bool:
    try:
        c = result["content"][0]
        return c["type"] == "text" and c["text"] == "hello" and not result.get("isError")
    except (KeyError, IndexError, TypeError):
        return False


def cpu_us() -> int:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e6)


def vmrss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def expire(url: str) -> None:
    """One plain POST without a body (the test server answers 204)."""
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status // 100 != 2:
            raise RuntimeError(f"POST {url}: HTTP {r.status}")


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


def finish_hold(client: str, version: str, clients: int, ok: int, rss_kb: int) -> None:
    print("RESULT " + json.dumps({
        "client": client, "version": version, "clients": clients, "ok": ok, "rss_kb": rss_kb,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, separators=(",", ":")), flush=True)
    sys.exit(0 if ok == clients else 1)

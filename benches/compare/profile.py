#!/usr/bin/env python3
"""benches/compare/profile.py: where a driver's CPU goes: context switches and system calls per
call (exact counts: `perf stat`, `strace -c`), and the CPU samples in groups (kernel
scheduling, kernel networking, allocator, async runtime, HTTP, JSON, ...) from `perf record`.

    target/compare/venv/bin/python benches/compare/profile.py [--calls N] [--inflight K] NAME...

NAME: a driver name or a part of one (as in `compare.py --only`). For each driver it starts the
scenario-1 server, runs the driver under `perf record -e cpu-clock -F 4000` (user and kernel,
the driver's process only, the whole run: connect and warm-up included, so a few percent are
not the calls), then prints the driver's CPU per call and each group's share of the samples
and its µs per call (share × CPU per call); before that, the context switches and CPU
migrations per call (`perf stat`, whole run divided by calls + warm-up) and the system calls
per call (`strace -f -c` on a fifth of the calls). In a VM, `cpu-clock` samples pile up where
interrupts are re-enabled (`_raw_spin_unlock_irqrestore`), which inflates the kernel
scheduling share: read the counts first. Needs `perf`, `strace` and the builds of
benches/compare.sh.
The analysis in benches/compare/analysis.md was written from its output.
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, Server, our_drivers, peer_drivers

# (group, test on (dso, symbol)); the first that matches wins.
KERNEL_SCHED = re.compile(r"switch|schedule|futex|wake|ttwu|enqueue|dequeue|pick_next|update_curr|"
                          r"_raw_spin_unlock_irq|select_task|idle|hrtimer|tick|irqentry_exit|"
                          r"exit_to_user|sched|__cond_resched|task_")
KERNEL_NET = re.compile(r"tcp|ip_|ipv|inet|sock|skb|net_|napi|__dev|loopback|copy_(to|from)_(user|iter)|"
                        r"_copy_|csum|nf_|sk_|__netif|dst_|neigh|release_sock|lock_sock|__x64_sys_(send|recv|read|write)")
KERNEL_POLL = re.compile(r"epoll|ep_|poll|eventfd")
GROUPS = [
    ("kernel: scheduling and wake-ups (thread hand-offs, futex, sleep)",
     lambda d, s: d.startswith("[kernel") and KERNEL_SCHED.search(s)),
    ("kernel: TCP on loopback (send, receive, copies)",
     lambda d, s: d.startswith("[kernel") and KERNEL_NET.search(s)),
    ("kernel: epoll / eventfd", lambda d, s: d.startswith("[kernel") and KERNEL_POLL.search(s)),
    ("kernel: other (syscall entry, page faults, timers)", lambda d, s: d.startswith("[kernel")),
    ("allocator and memcpy (libc malloc/free/memmove)",
     lambda d, s: re.search(r"malloc|free|realloc|memmove|memcpy|memset|memcmp|_int_|alloc_shim|__rdl_|__rust_(alloc|dealloc|realloc)|tcache|consolidate", s)),
    ("async runtime (tokio; Go runtime scheduler)",
     lambda d, s: s.startswith(("tokio::", "<tokio::", "runtime.", "mio::", "<mio::")) and "cgocall" not in s),
    ("cgo / FFI crossing", lambda d, s: re.search(r"cgocall|asmcgocall|_cgo_|cgo|crosscall|mcp_call|mcp_client_", s) and "mcp_client::" not in s),
    ("HTTP (reqwest, hyper, http; Go net/http)",
     lambda d, s: re.search(r"reqwest|hyper|\bhttp::|h2::|net/http|^net\.|bufio|textproto|want::|httparse", s)),
    ("JSON (serde_json; encoding/json; json module)", lambda d, s: re.search(r"serde|json|ryu|itoa", s)),
    ("URL / IDNA parsing", lambda d, s: re.search(r"\burl::|idna|percent_encoding", s)),
    ("mcp-client (this project)", lambda d, s: "mcp_client" in s or "compare_ours" in s or "driver_rust" in s),
    ("libc other (syscall wrappers, clock, locks)", lambda d, s: d.startswith("libc")),
    ("Python interpreter", lambda d, s: "python" in d.lower() or s.startswith(("_Py", "Py"))),
    ("other", lambda d, s: True),
]


def drivers_named(names: list[str]) -> list[dict]:
    every = our_drivers() + peer_drivers([])
    out = []
    for n in names:
        hit = [d for d in every if n.lower() in d["name"].lower()]
        if not hit:
            raise SystemExit(f"no driver matches {n!r}")
        out += [d for d in hit if d not in out]
    return out


WARMUP = 200


def counts(argv: list[str], calls: int, tmp: Path) -> str:
    """Context switches and migrations per call (perf stat), system calls per call (strace)."""
    out = []
    st = subprocess.run(["perf", "stat", "-x", ",", "-e", "context-switches,cpu-migrations", "--", *argv],
                        cwd=ROOT, capture_output=True, text=True)
    for line in st.stderr.splitlines():
        f = line.split(",")
        if len(f) > 2 and f[2] in ("context-switches", "cpu-migrations") and f[0].replace(".", "").isdigit():
            out.append(f"{float(f[0]) / (calls + WARMUP):.2f} {f[2]}")
    if shutil.which("strace"):
        n = max(calls // 5, 1)
        short = [a if prev != "--calls" else str(n) for prev, a in zip([""] + argv, argv)]
        trace = tmp / "strace.txt"
        subprocess.run(["strace", "-f", "-c", "-o", str(trace), "--", *short], cwd=ROOT,
                       capture_output=True, text=True)
        rows = []
        for line in trace.read_text().splitlines() if trace.exists() else []:
            f = line.split()
            if len(f) >= 5 and f[0].replace(".", "").isdigit() and f[-1] != "total":
                rows.append((int(f[3]), f[-1]))
        total = sum(c for c, _ in rows)
        top = ", ".join(f"{name} {c / (n + WARMUP):.1f}" for c, name in sorted(rows, reverse=True)[:5])
        out.append(f"{total / (n + WARMUP):.1f} system calls ({top})")
    return "; ".join(out) + " per call"


def profile(d: dict, url: str, token: str, calls: int, inflight: int, tmp: Path) -> None:
    data = tmp / "perf.data"
    argv = d["cmd"] + ["--url", url, "--token", token, "--calls", str(calls),
                       "--inflight", str(inflight), "--warmup", str(WARMUP)]
    per_call = counts(argv, calls, tmp)
    p = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-o", str(data), "--", *argv],
                       cwd=ROOT, capture_output=True, text=True)
    res = next((l for l in p.stdout.splitlines() if l.startswith("RESULT ")), None)
    if p.returncode != 0 or res is None:
        print(f"## {d['name']}: failed (exit {p.returncode})\n{p.stderr[-2000:]}")
        return
    import json
    r = json.loads(res[7:])
    cpu_per_call = r["cpu_us"] / r["calls"]
    rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,sym", "-g", "none",
                          "--stdio", "--percent-limit", "0"], capture_output=True, text=True).stdout
    shares: dict[str, float] = {g: 0.0 for g, _ in GROUPS}
    top: dict[str, list[tuple[float, str]]] = {g: [] for g, _ in GROUPS}
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)$", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3).strip()
        g = next(name for name, test in GROUPS if test(dso, sym))
        shares[g] += pct
        top[g].append((pct, sym))
    print(f"## {d['name']}: K={inflight}, {calls} calls, {cpu_per_call:.1f} µs CPU per call "
          f"(timed section), {r['calls'] / (r['wall_us'] / 1e6):,.0f} calls/s under perf\n")
    print(f"Counts: {per_call}.\n")
    print("| where | share of samples | ≈ µs per call | top symbols |")
    print("|---|--:|--:|---|")
    for g, _ in GROUPS:
        if shares[g] < 0.5:
            continue
        syms = ", ".join(f"`{s[:60]}` {p:.1f}%" for p, s in sorted(top[g], reverse=True)[:3])
        print(f"| {g} | {shares[g]:.1f}% | {shares[g] / 100 * cpu_per_call:.1f} | {syms} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="+")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--inflight", type=int, default=1)
    a = ap.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed")
    token = "t" + secrets.token_hex(16)
    server = Server(token)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for d in drivers_named(a.names):
                profile(d, server.url, token, a.calls, a.inflight, Path(tmp))
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""benches/compare: this client against its peers (issue #16, scenarios 1 and 2).

Run by benches/compare.sh, which builds everything first; this script builds nothing. For each
scenario (1: one call in flight, 2: 64 in flight) it starts the server
(benches/compare/server) once, runs every driver (ours, the two floors, and each entry of
benches/compare/peers/drivers.json when that file exists) REPEATS times in alternating order
(forward, backward, ...), takes the median of each figure, prints Markdown tables, and writes
docs/benchmarks.md and the charts (docs/bench-*.png and .svg). The driver contract is in
benches/compare/README.md. A driver that fails or times out is reported as failed, with its
stderr's tail, and the run goes on.

    compare.py [--quick] [--repeats N] [--calls N] [--calls-inflight N] [--warmup N]
               [--only NAME,...] [--timeout SECS] [--docs DIR] [--no-docs]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CMP = ROOT / "target" / "compare"
CARGO_REL = ROOT / "target" / "compare-cargo" / "release"
SERVER = CARGO_REL / "compare-server"
VENV_PY = CMP / "venv" / "bin" / "python"
PEERS_JSON = ROOT / "benches" / "compare" / "peers" / "drivers.json"

RUST = "mcp-client (Rust)"
FLOOR_SOCKET = "floor: blocking socket"
FLOOR_REQWEST = "floor: reqwest loop"
OURS_LANGS = ("Rust", "C", "Go")


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def our_drivers() -> list[dict]:
    d = "benches/compare/ours"
    py = rel(VENV_PY)
    return [
        {"name": RUST, "language": "Rust", "ours": True, "cmd": [rel(CARGO_REL / "driver-rust")]},
        {"name": "mcp-client (C)", "language": "C", "ours": True, "cmd": [rel(CMP / "driver-c")]},
        {"name": "mcp-client (Go)", "language": "Go", "ours": True, "cmd": [rel(CMP / "driver-go")]},
        {"name": "mcp-client (Python sync)", "language": "Python", "ours": True,
         "cmd": [py, f"{d}/python/driver_sync.py"]},
        {"name": "mcp-client (Python async)", "language": "Python", "ours": True,
         "cmd": [py, f"{d}/python/driver_async.py"]},
        {"name": FLOOR_REQWEST, "language": "floor", "floor": True,
         "cmd": [rel(CARGO_REL / "floor-reqwest")]},
        {"name": FLOOR_SOCKET, "language": "floor", "floor": True,
         "cmd": [rel(CARGO_REL / "floor-socket")]},
    ]


def peer_drivers(notes: list[str]) -> list[dict]:
    if os.environ.get("MCP_COMPARE_NO_PEERS"):
        notes.append("Peers skipped: " + os.environ["MCP_COMPARE_NO_PEERS"])
        return []
    if not PEERS_JSON.exists():
        notes.append(f"No {rel(PEERS_JSON)}: no peer clients.")
        return []
    try:
        peers = json.loads(PEERS_JSON.read_text())
        out = []
        for p in peers:
            out.append({"name": str(p["name"]), "language": str(p.get("language", "?")),
                        "version": str(p.get("version", "")), "cmd": list(p["cmd"]),
                        "notes": p.get("notes")})
        return out
    except (ValueError, KeyError, TypeError) as e:
        notes.append(f"{rel(PEERS_JSON)} is unreadable ({e}): no peer clients.")
        return []


class Server:
    def __init__(self, token: str):
        self.proc = subprocess.Popen([str(SERVER), "--token", token, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise SystemExit(f"the server did not start (said {line!r})")
        self.url = line

    def cpu_s(self) -> float:
        try:
            f = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def become_subreaper() -> None:
    """Drivers orphaned by a timeout (the shell between us dies first) are reparented to this
    process, which reaps them (PR_SET_CHILD_SUBREAPER; Linux only, else nothing)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans() -> None:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)  # children left, none dead yet (the server lives on)
            continue


def run_driver(d: dict, url: str, token: str, calls: int, inflight: int, warmup: int,
               timeout: float) -> dict:
    """One run: the parsed RESULT (plus derived figures) or {"error": ..., "stderr": ...}."""
    exe = d["cmd"][0]
    if "/" in exe and not (ROOT / exe).exists() and not Path(exe).exists():
        return {"error": f"not built ({exe} is missing)", "stderr": ""}
    if "/" not in exe and shutil.which(exe) is None:
        return {"error": f"{exe} not found on PATH", "stderr": ""}
    argv = d["cmd"] + ["--url", url, "--token", token, "--calls", str(calls),
                       "--inflight", str(inflight), "--warmup", str(warmup)]
    # Through a small shell that forks the driver: on Linux ru_maxrss survives execve (it would
    # start at this Python process's RSS); a child forked by sh starts from sh's few hundred KiB.
    # Its own process group, so a timeout kills the driver and everything it started.
    try:
        p = subprocess.Popen(["/bin/sh", "-c", '"$@"; r=$?; exit $r', "sh", *argv], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    except OSError as e:
        return {"error": f"cannot run: {e}", "stderr": ""}
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, 9)
        except OSError:
            pass
        out, err = p.communicate()
        reap_orphans()
        return {"error": f"timed out after {timeout:g} s", "stderr": err}
    p = subprocess.CompletedProcess(argv, p.returncode, out, err)
    res = None
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            try:
                res = json.loads(line[7:])
            except ValueError:
                res = None
    if p.returncode != 0 or res is None:
        why = f"exit status {p.returncode}" if p.returncode != 0 else "no RESULT line"
        if res is not None:
            why += f", {res.get('ok')}/{res.get('calls')} calls succeeded"
        return {"error": why, "stderr": p.stderr}
    try:
        n = int(res["calls"])
        res["cps"] = n / (float(res["wall_us"]) / 1e6)
        res["cpu_per_call"] = float(res["cpu_us"]) / n
        res["rss_mib"] = float(res["peak_rss_kb"]) / 1024
        res["p50_us"] = float(res["p50_us"])
        res["p99_us"] = float(res["p99_us"])
    except (KeyError, ValueError, ZeroDivisionError) as e:
        return {"error": f"bad RESULT line ({e})", "stderr": p.stderr}
    return res


METRICS = ("cps", "p50_us", "p99_us", "cpu_per_call", "rss_mib")


def tail(text: str, n: int = 12) -> str:
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return "\n".join(lines[-n:])


def run_scenario(drivers: list[dict], inflight: int, calls: int, warmup: int, repeats: int,
                 timeout: float) -> dict:
    token = "t" + secrets.token_hex(16)  # no leading "-": argparse-based drivers take it as an option
    server = Server(token)
    runs: dict[str, list[dict]] = {d["name"]: [] for d in drivers}
    srv_cpu: dict[str, list[float]] = {d["name"]: [] for d in drivers}
    try:
        for r in range(repeats):
            order = drivers if r % 2 == 0 else list(reversed(drivers))
            for d in order:
                if runs[d["name"]] and "error" in runs[d["name"]][-1] and \
                        runs[d["name"]][-1]["error"].startswith(("not built", "cannot run", "timed out")):
                    continue  # no point repeating those
                c0 = server.cpu_s()
                t0 = time.monotonic()
                res = run_driver(d, server.url, token, calls, inflight, warmup, timeout)
                el = time.monotonic() - t0
                if "error" not in res:
                    srv_cpu[d["name"]].append((server.cpu_s() - c0) * 1e6 / (calls + warmup))
                    print(f"  K={inflight} run {r + 1}/{repeats} {d['name']:<34} "
                          f"{res['cps']:>9.0f} calls/s  p50 {res['p50_us']:>7.0f} µs  "
                          f"cpu {res['cpu_per_call']:>7.1f} µs/call  ({el:.1f} s)",
                          file=sys.stderr, flush=True)
                else:
                    print(f"  K={inflight} run {r + 1}/{repeats} {d['name']:<34} FAILED: {res['error']}",
                          file=sys.stderr, flush=True)
                runs[d["name"]].append(res)
    finally:
        server.stop()
    out = {}
    for d in drivers:
        ok = [x for x in runs[d["name"]] if "error" not in x]
        bad = [x for x in runs[d["name"]] if "error" in x]
        if ok:
            m = {k: statistics.median(x[k] for x in ok) for k in METRICS}
            m["version"] = ok[0].get("version", "")
            cps = [x["cps"] for x in ok]
            m["spread"] = (max(cps) - min(cps)) / m["cps"] if len(cps) > 1 else None
            m["runs"] = len(ok)
            m["failed_runs"] = len(bad)
            m["server_cpu_per_call"] = statistics.median(srv_cpu[d["name"]]) if srv_cpu[d["name"]] else None
            if bad:
                m["error"] = bad[-1]["error"]
                m["stderr"] = tail(bad[-1]["stderr"])
            out[d["name"]] = m
        else:
            out[d["name"]] = {"failed": True, "error": bad[-1]["error"] if bad else "not run",
                              "stderr": tail(bad[-1]["stderr"]) if bad else ""}
    return out


def fmt(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "–"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


def tables(scn: dict, drivers: list[dict], title: str) -> str:
    rust = scn.get(RUST, {})
    floor = scn.get(FLOOR_SOCKET, {})
    lines = [f"### {title}", "",
             "| client | language | version | calls/s | spread | p50 µs | p99 µs | CPU µs/call | peak RSS MiB | server CPU µs/call |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for d in drivers:
        m = scn[d["name"]]
        if m.get("failed"):
            lines.append(f"| {d['name']} | {d['language']} | {d.get('version', '')} | failed | | | | | | |")
            continue
        ver = m["version"]
        if d.get("version") and d["version"] != ver:
            ver = f"{ver} (pinned {d['version']})"
        spread = "–" if m.get("spread") is None else f"±{m['spread'] * 50:.0f}%"
        lines.append(f"| {d['name']} | {d['language']} | {ver} | {fmt(m['cps'])} | "
                     f"{spread} | "
                     f"{fmt(m['p50_us'])} | {fmt(m['p99_us'])} | {fmt(m['cpu_per_call'], 1)} | "
                     f"{fmt(m['rss_mib'], 1)} | {fmt(m.get('server_cpu_per_call'), 1)} |")
    lines += ["", "spread: half the range of calls/s over the runs, as a share of the median.",
              "", "Ratios: to `mcp-client (Rust)` / to the syscall floor (`floor: blocking socket`). "
              "Calls/s: higher is better; the others: lower is better.", "",
              "| client | calls/s | p50 | p99 | CPU/call | peak RSS |", "|---|--:|--:|--:|--:|--:|"]
    for d in drivers:
        m = scn[d["name"]]
        if m.get("failed"):
            continue
        cells = [f"{ratio(m[k], rust.get(k))} / {ratio(m[k], floor.get(k))}" for k in METRICS]
        lines.append(f"| {d['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def goals(results: dict, drivers: list[dict]) -> list[tuple[str, bool | None, str]]:
    out = []
    peers = [d for d in drivers if not d.get("ours") and not d.get("floor")]
    for lang in OURS_LANGS:
        name = f"mcp-client ({lang})"
        for k, scn in results.items():
            m = scn.get(name, {})
            if m.get("failed") or not m:
                out.append((f"{name} ahead of every peer client (K={k})", None, "no figures"))
                out.append((f"{name} within 10% of the syscall floor's CPU per call (K={k})", None, "no figures"))
                continue
            ok_peers = [(d["name"], scn[d["name"]]) for d in peers if not scn[d["name"]].get("failed")]
            if ok_peers:
                best = max(ok_peers, key=lambda x: x[1]["cps"])
                out.append((f"{name} ahead of every peer client (K={k})", m["cps"] > best[1]["cps"],
                            f"{m['cps']:,.0f} calls/s vs best peer {best[0]} {best[1]['cps']:,.0f}"))
            else:
                out.append((f"{name} ahead of every peer client (K={k})", None, "no peer figures"))
            fl = scn.get(FLOOR_SOCKET, {})
            if fl and not fl.get("failed"):
                r = m["cpu_per_call"] / fl["cpu_per_call"]
                out.append((f"{name} within 10% of the syscall floor's CPU per call (K={k})", r <= 1.10,
                            f"{m['cpu_per_call']:.1f} vs {fl['cpu_per_call']:.1f} µs/call ({r:.2f}×)"))
            else:
                out.append((f"{name} within 10% of the syscall floor's CPU per call (K={k})", None, "no floor"))
    for mode in ("sync", "async"):
        name = f"mcp-client (Python {mode})"
        for k, scn in results.items():
            m, r = scn.get(name, {}), scn.get(RUST, {})
            if not m or m.get("failed") or not r or r.get("failed"):
                out.append((f"{name} within 25% of Rust (K={k})", None, "no figures"))
                continue
            cps = m["cps"] / r["cps"]
            cpu = m["cpu_per_call"] / r["cpu_per_call"]
            out.append((f"{name} within 25% of Rust (K={k}): calls/s and CPU/call",
                        cps >= 1 / 1.25 and cpu <= 1.25,
                        f"calls/s {cps:.2f}× Rust's (goal ≥ 0.80×); CPU/call {cpu:.2f}× Rust's (goal ≤ 1.25×)"))
    return out


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())

    def ver(argv: list[str]) -> str:
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not found"

    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else "go")
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": nproc, "cpu": model, "memory": mem, "kernel": platform.release(),
            "os": platform.platform(), "rustc": ver(["rustc", "-V"]), "go": ver([go, "version"]),
            "node": ver(["node", "--version"]),
            "python": ver([str(VENV_PY) if VENV_PY.exists() else sys.executable, "--version"]),
            "cc": ver(["cc", "--version"])}


def charts(results: dict, drivers: list[dict], docs: Path) -> list[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no charts)", file=sys.stderr)
        return []
    pref = ["Rust", "C", "Go", "Python", "TypeScript"]
    langs = [l for l in pref if any(d["language"] == l for d in drivers)]
    for d in drivers:
        if d["language"] not in langs and d["language"] != "floor":
            langs.append(d["language"])
    if any(d["language"] == "floor" for d in drivers):
        langs.append("floor")
    ordered = sorted(drivers, key=lambda d: (langs.index(d["language"]), not d.get("ours")))
    names = [d["name"] for d in ordered]
    palette = plt.get_cmap("tab10")
    lcolor = {l: palette(i % 10) for i, l in enumerate(langs)}
    ks = list(results)
    written = []

    def save(fig, stem: str) -> None:
        for ext in ("png", "svg"):
            p = docs / f"{stem}.{ext}"
            fig.savefig(p, dpi=130, bbox_inches="tight")
            written.append(rel(p))
        plt.close(fig)

    def val(k, n, key):
        m = results[k].get(n, {})
        return None if not m or m.get("failed") else m[key]

    # Throughput: one panel per scenario, bars per client, coloured and grouped by language.
    fig, axes = plt.subplots(1, len(ks), figsize=(6.5 * len(ks), 0.42 * len(names) + 1.8), squeeze=False)
    for ax, k in zip(axes[0], ks):
        ys = list(range(len(names)))
        vals = [val(k, n, "cps") or 0 for n in names]
        ax.barh(ys, vals, color=[lcolor[d["language"]] for d in ordered],
                hatch=None, edgecolor=["black" if d.get("ours") else "none" for d in ordered])
        for y, v in zip(ys, vals):
            ax.text(v if v else 1, y, f" {v:,.0f}" if v else " failed", va="center", fontsize=8)
        ax.set_xscale("log")
        ax.set_yticks(ys, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("calls/s (log scale; higher is better)")
        ax.set_title(f"tools/call throughput, {k} in flight")
    handles = [plt.Rectangle((0, 0), 1, 1, color=lcolor[l]) for l in langs]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black"))
    fig.legend(handles, langs + ["outlined: mcp-client (this project)"], loc="lower center",
               ncol=len(langs) + 1, fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save(fig, "bench-throughput")

    # Latency: p50 and p99 per client, per scenario.
    fig, axes = plt.subplots(1, len(ks), figsize=(6.5 * len(ks), 0.42 * len(names) + 1.8), squeeze=False)
    for ax, k in zip(axes[0], ks):
        ys = list(range(len(names)))
        p50 = [val(k, n, "p50_us") or 0 for n in names]
        p99 = [val(k, n, "p99_us") or 0 for n in names]
        ax.barh([y - 0.2 for y in ys], p50, height=0.4, label="p50",
                color=[lcolor[d["language"]] for d in ordered])
        ax.barh([y + 0.2 for y in ys], p99, height=0.4, label="p99", alpha=0.45,
                color=[lcolor[d["language"]] for d in ordered])
        ax.set_xscale("log")
        ax.set_yticks(ys, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("latency µs (log scale; solid p50, light p99; lower is better)")
        ax.set_title(f"tools/call latency, {k} in flight")
    fig.tight_layout()
    save(fig, "bench-latency")

    # CPU per call.
    fig, axes = plt.subplots(1, len(ks), figsize=(6.5 * len(ks), 0.42 * len(names) + 1.8), squeeze=False)
    for ax, k in zip(axes[0], ks):
        ys = list(range(len(names)))
        vals = [val(k, n, "cpu_per_call") or 0 for n in names]
        ax.barh(ys, vals, color=[lcolor[d["language"]] for d in ordered],
                edgecolor=["black" if d.get("ours") else "none" for d in ordered])
        for y, v in zip(ys, vals):
            ax.text(v if v else 0.1, y, f" {v:.1f}" if v else " failed", va="center", fontsize=8)
        ax.set_xscale("log")
        ax.set_yticks(ys, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("client CPU µs per call (user+sys; log scale; lower is better)")
        ax.set_title(f"client CPU per tools/call, {k} in flight")
    fig.tight_layout()
    save(fig, "bench-cpu")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 repeat, fewer calls")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--calls", type=int, help="timed calls with 1 in flight")
    ap.add_argument("--calls-inflight", type=int, help="timed calls with 64 in flight")
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--only", help="comma-separated driver names (substrings) to run")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per driver run")
    ap.add_argument("--docs", default=str(ROOT / "docs"), help="where benchmarks.md and the charts go")
    ap.add_argument("--no-docs", action="store_true", help="print the tables only")
    a = ap.parse_args()
    repeats = a.repeats or (1 if a.quick else 3)
    calls1 = a.calls or (1000 if a.quick else 5000)
    callsk = a.calls_inflight or (3000 if a.quick else 20000)
    warmup = a.warmup if a.warmup is not None else (50 if a.quick else 200)
    if not SERVER.exists():
        raise SystemExit(f"{rel(SERVER)} is missing: run benches/compare.sh (it builds everything)")

    notes: list[str] = []
    drivers = our_drivers() + peer_drivers(notes)
    if a.only:
        want = [w.strip().lower() for w in a.only.split(",") if w.strip()]
        drivers = [d for d in drivers if any(w in d["name"].lower() for w in want)
                   or d["name"] in (RUST, FLOOR_SOCKET)]
    become_subreaper()
    mach = machine()
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"machine: {mach['nproc']} cores ({mach['cpu']}), {mach['memory']}, {mach['os']}", file=sys.stderr)
    load0 = os.getloadavg()
    results = {}
    for k, n in ((1, calls1), (a.inflight, callsk)):
        print(f"scenario K={k}: {n} calls, {warmup} warm-up, {repeats} repeats", file=sys.stderr)
        results[k] = run_scenario(drivers, k, n, warmup, repeats, a.timeout)

    md = []
    md.append(f"Machine: {mach['nproc']} cores (`nproc`), {mach['cpu']}, {mach['memory']} RAM, {mach['os']}.  ")
    md.append(f"Toolchains: {mach['rustc']}; {mach['go']}; Node {mach['node']}; {mach['python']}; "
              f"{mach['cc']}.  ")
    md.append(f"Run: {started:%Y-%m-%d %H:%M} UTC, {repeats} repeat(s) per driver in alternating order, "
              f"medians; {calls1} timed calls with 1 in flight, {callsk} with {a.inflight} in flight, "
              f"{warmup} warm-up calls{' (--quick)' if a.quick else ''}.")
    load1 = os.getloadavg()
    md.append(f"Load average (1 min) when the measurements began {load0[0]:.2f}, when they ended "
              f"{load1[0]:.2f} (it counts the builds just before and the measurements themselves, "
              f"about 1 to 2; more means other work shared the machine).")
    md.append("")
    md.append(tables(results[1], drivers, "Scenario 1: sequential `tools/call` (1 in flight)"))
    md.append(tables(results[a.inflight], drivers,
                     f"Scenario 2: `tools/call` with {a.inflight} in flight on one client"))
    md.append("### Versions\n")
    md.append("| client | language | version | command |")
    md.append("|---|---|---|---|")
    for d in drivers:
        got = next((results[k][d["name"]].get("version") for k in results
                    if not results[k][d["name"]].get("failed")), None)
        md.append(f"| {d['name']} | {d['language']} | {got or d.get('version') or '?'} | "
                  f"`{' '.join(d['cmd'])}` |")
    md.append("")
    g = goals(results, drivers)
    md.append("### Goals\n")
    md.append("Judged on this run's medians: on a busy machine (see the load average, and the spread "
              "column) a goal can flip from run to run.\n")
    md.append("| goal | | figures |")
    md.append("|---|---|---|")
    for what, met, fig in g:
        md.append(f"| {what} | {'met' if met else ('missed' if met is False else 'n/a')} | {fig} |")
    md.append("")
    fails = [(k, d["name"], results[k][d["name"]]) for k in results for d in drivers
             if results[k][d["name"]].get("error")]
    if fails:
        md.append("### Failures\n")
        for k, n, m in fails:
            what = "failed" if m.get("failed") else f"{m.get('failed_runs')} run(s) failed"
            md.append(f"- **{n}** (K={k}): {what}: {m['error']}")
            if m.get("stderr"):
                md.append("\n  ```\n" + "\n".join("  " + l for l in m["stderr"].splitlines()) + "\n  ```")
        md.append("")
    extra = [f"- {d['name']}: {d['notes']}" for d in drivers if d.get("notes")] + [f"- {n}" for n in notes]
    if extra:
        md.append("### Notes\n")
        md += extra
        md.append("")
    body = "\n".join(md)
    print(body)

    if a.no_docs:
        return
    docs = Path(a.docs)
    docs.mkdir(parents=True, exist_ok=True)
    written = charts(results, drivers, docs)
    doc = [
        "# Benchmarks: mcp-client against other MCP clients",
        "",
        "Written by `benches/compare.sh` (issue #16); do not edit by hand. Re-run with "
        "`benches/compare.sh` (about 10 to 20 minutes; `--quick` for a smoke run).",
        "",
        "## Method",
        "",
        "Every client is a *driver* program (contract: `benches/compare/README.md`): it connects to "
        "a minimal MCP server (`benches/compare/server`: hyper 1, HTTP/1.1 keep-alive, JSON replies, "
        "a multi-threaded tokio runtime) on 127.0.0.1 over Streamable HTTP with a static "
        "`Authorization: Bearer` token, initializes, makes warm-up calls, then makes the timed "
        "`tools/call` of `echo` with `{\"text\":\"hello\"}` on one session, K at a time, checking "
        "each result. It reports the timed section's wall time (calls/s), per-call latency "
        "percentiles (nearest rank), its own CPU time (`getrusage(RUSAGE_SELF)` user+sys over the "
        "timed section, divided by the calls) and its peak RSS (`ru_maxrss`). The server runs in its "
        "own process, started once per scenario; the drivers run one at a time, each several times, "
        "in alternating order (forward, then backward), and each figure is the median of the runs. "
        "The machine is shared by driver and server (both on the same cores), so calls/s measure "
        "the pair; CPU per call is the client's alone.",
        "",
        "The floors: `floor: reqwest loop` POSTs the same JSON-RPC bytes with a bare keep-alive "
        "reqwest client (K tokio tasks), checking replies by a byte search; `floor: blocking socket` "
        "is one blocking thread writing pre-built HTTP/1.1 requests (one `write` each) on one TCP "
        "connection per in-flight slot and reading replies by `Content-Length` (the syscall floor).",
        "",
        "## Results",
        "",
        body,
    ]
    if written:
        doc += ["## Charts", ""]
        for stem, alt in (("bench-throughput", "throughput"), ("bench-latency", "latency p50/p99"),
                          ("bench-cpu", "CPU per call")):
            if any(w.endswith(f"{stem}.png") for w in written):
                doc.append(f"![{alt}]({stem}.svg)")
                doc.append("")
    (docs / "benchmarks.md").write_text("\n".join(doc) + "\n")
    print(f"wrote {rel(docs / 'benchmarks.md')} and {', '.join(written) or 'no charts'}", file=sys.stderr)


if __name__ == "__main__":
    main()

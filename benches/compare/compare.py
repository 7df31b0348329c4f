#!/usr/bin/env python3
"""benches/compare: this client against its peers (issue #16).

Run by benches/compare.sh, which builds everything first; this script builds nothing. It runs
the scenarios (1 and 2: `tools/call` with 1 and K in flight, `throughput.py`; 3 and 4: cold and
warm start, the refresh storm, `auth_scenarios.py`; 5: memory and sizes, `memory.py`), each
driver (ours, the two floors, and each entry of benches/compare/peers/drivers.json when that
file exists) REPEATS times in alternating order (forward, backward, ...), takes the median of
each figure, prints Markdown tables, and writes docs/benchmarks.md (with
benches/compare/analysis.md, the hand-written profiles of missed goals) and the charts
(docs/bench-*.png and .svg). The driver contract is in benches/compare/README.md. A driver that
fails or times out is reported as failed, with its stderr's tail, and the run goes on.

    compare.py [--quick] [--repeats N] [--calls N] [--calls-inflight N] [--warmup N]
               [--scenarios 1,2,3,4,5] [--storm-calls N] [--hold 1,100]
               [--only NAME,...] [--timeout SECS] [--docs DIR] [--no-docs]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import auth_memory_chart
import auth_scenarios
import memory
import throughput
from harness import (FLOOR_SOCKET, ROOT, RUST, SERVER, TEST_SERVER, VENV_PY, become_subreaper,
                     our_drivers, peer_drivers, rel)

ANALYSIS = ROOT / "benches" / "compare" / "analysis.md"


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


def options() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 repeat, fewer calls")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--calls", type=int, help="timed calls with 1 in flight")
    ap.add_argument("--calls-inflight", type=int, help="timed calls with 64 in flight")
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--scenarios", default="1,2,3,4,5",
                    help="which to run (3 and 4 run together); docs are written only for all five")
    ap.add_argument("--storm-calls", type=int, default=1000, help="calls at once in the storm")
    ap.add_argument("--hold", default="1,100", help="client counts of scenario 5")
    ap.add_argument("--only", help="comma-separated driver names (substrings) to run")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per driver run")
    ap.add_argument("--docs", default=str(ROOT / "docs"), help="where benchmarks.md and the charts go")
    ap.add_argument("--no-docs", action="store_true", help="print the tables only")
    a = ap.parse_args()
    a.repeats = a.repeats or (1 if a.quick else 3)
    a.calls1 = a.calls or (1000 if a.quick else 5000)
    a.callsk = a.calls_inflight or (3000 if a.quick else 20000)
    a.warmup = a.warmup if a.warmup is not None else (50 if a.quick else 200)
    a.scn = {int(x) for x in a.scenarios.split(",") if x.strip()}
    a.hold_counts = sorted(int(x) for x in a.hold.split(",") if x.strip())
    if a.scn - {1, 2, 3, 4, 5} or not a.scn:
        ap.error("--scenarios takes numbers from 1 to 5")
    if a.scn != {1, 2, 3, 4, 5} and Path(a.docs).resolve() == (ROOT / "docs").resolve():
        a.no_docs = True  # docs/benchmarks.md only from a whole run (another --docs DIR is fine)
    return a


def pick_drivers(a: argparse.Namespace, notes: list[str]) -> list[dict]:
    drivers = our_drivers() + peer_drivers(notes)
    if a.only:
        want = [w.strip().lower() for w in a.only.split(",") if w.strip()]
        drivers = [d for d in drivers if any(w in d["name"].lower() for w in want)
                   or d["name"] in (RUST, FLOOR_SOCKET)]
    return drivers


def goal_lines(g: list[tuple[str, bool | None, str]]) -> list[str]:
    md = ["| goal | | figures |", "|---|---|---|"]
    for what, met, fig in g:
        md.append(f"| {what} | {'met' if met else ('missed' if met is False else 'n/a')} | {fig} |")
    return md


def main() -> None:
    a = options()
    for need, scns in ((SERVER, {1, 2, 5}), (TEST_SERVER, {3, 4})):
        if a.scn & scns and not need.exists():
            raise SystemExit(f"{rel(need)} is missing: run benches/compare.sh (it builds everything)")
    notes: list[str] = []
    drivers = pick_drivers(a, notes)
    clients = [d for d in drivers if not d.get("floor")]  # the floors only do scenarios 1 and 2
    become_subreaper()
    mach = machine()
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"machine: {mach['nproc']} cores ({mach['cpu']}), {mach['memory']}, {mach['os']}", file=sys.stderr)
    load0 = os.getloadavg()
    results = {}
    for k, n, scn in ((1, a.calls1, 1), (a.inflight, a.callsk, 2)):
        if scn in a.scn:
            print(f"scenario {scn}, K={k}: {n} calls, {a.warmup} warm-up, {a.repeats} repeats", file=sys.stderr)
            results[k] = throughput.run_scenario(drivers, k, n, a.warmup, a.repeats, a.timeout)
    auth = None
    if a.scn & {3, 4}:
        print(f"scenarios 3 and 4: cold, warm, storm of {a.storm_calls}, {a.repeats} repeats", file=sys.stderr)
        auth = auth_scenarios.summarize(auth_scenarios.run_auth(clients, a.repeats, a.storm_calls, a.timeout))
    mem = None
    if 5 in a.scn:
        print(f"scenario 5: holding {a.hold_counts} clients, {a.repeats} repeats", file=sys.stderr)
        mem = memory.summarize(memory.run_memory(clients, a.hold_counts, a.repeats, a.timeout))
    load1 = os.getloadavg()

    md = []
    md.append(f"Machine: {mach['nproc']} cores (`nproc`), {mach['cpu']}, {mach['memory']} RAM, {mach['os']}.  ")
    md.append(f"Toolchains: {mach['rustc']}; {mach['go']}; Node {mach['node']}; {mach['python']}; "
              f"{mach['cc']}.  ")
    md.append(f"Run: {started:%Y-%m-%d %H:%M} UTC, {a.repeats} repeat(s) per driver in alternating order, "
              f"medians; {a.calls1} timed calls with 1 in flight, {a.callsk} with {a.inflight} in flight, "
              f"{a.warmup} warm-up calls; a storm of {a.storm_calls} calls; "
              f"{' and '.join(map(str, a.hold_counts))} clients held{' (--quick)' if a.quick else ''}.")
    md.append(f"Load average (1 min) when the measurements began {load0[0]:.2f}, when they ended "
              f"{load1[0]:.2f} (it counts the builds just before and the measurements themselves, "
              f"about 1 to 2; more means other work shared the machine).")
    md.append("")
    if 1 in results:
        md.append(throughput.tables(results[1], drivers, "Scenario 1: sequential `tools/call` (1 in flight)"))
    if a.inflight in results:
        md.append(throughput.tables(results[a.inflight], drivers,
                                    f"Scenario 2: `tools/call` with {a.inflight} in flight on one client"))
    if auth is not None:
        md.append(auth_scenarios.start_tables(auth, clients))
        md.append(auth_scenarios.storm_table(auth, clients, a.storm_calls))
    if mem is not None:
        md.append(memory.memory_table(mem, clients, a.hold_counts))
        md.append(memory.sizes_table(memory.sizes()))
    md.append("### Versions\n")
    md.append("| client | language | version | command |")
    md.append("|---|---|---|---|")
    for d in drivers:
        seen = [results[k][d["name"]].get("version") for k in results]
        seen += [s.get("version") for s in (auth or {}).get(d["name"], {}).values()]
        seen += [x.get("version") for x in (mem or {}).get(d["name"], {}).values()]
        got = next((v for v in seen if v), None)
        md.append(f"| {d['name']} | {d['language']} | {got or d.get('version') or '?'} | "
                  f"`{' '.join(d['cmd'])}` |")
    md.append("")
    md.append("### Goals\n")
    md.append("Judged on this run's medians: on a busy machine (see the load average, and the spread "
              "column) a goal can flip from run to run.\n")
    g = throughput.goals(results, drivers) if results else []
    if auth is not None:
        g += auth_scenarios.goals(auth, clients)
    md += goal_lines(g)
    md.append("")
    fails = []
    for k in results:
        for d in drivers:
            m = results[k][d["name"]]
            if m.get("error"):
                what = "failed" if m.get("failed") else f"{m.get('failed_runs')} run(s) failed"
                fails.append(f"- **{d['name']}** (K={k}): {what}: {m['error']}")
                if m.get("stderr"):
                    fails.append("\n  ```\n" + "\n".join("  " + l for l in m["stderr"].splitlines()) + "\n  ```")
    if auth is not None:
        fails += auth_scenarios.failures(auth)
    if mem is not None:
        fails += [f"- **{name}** (holding {n}): {x['error']}" for name, by_n in mem.items()
                  for n, x in by_n.items() if x.get("failed")]
    if fails:
        md.append("### Failures and unsupported modes\n")
        md += fails
        md.append("")
    extra = [f"- {d['name']}: {d['notes']}" for d in drivers if d.get("notes")] + [f"- {n}" for n in notes]
    if extra:
        md.append("### Notes\n")
        md += extra
        md.append("")
    body = "\n".join(md)
    print(body)
    if a.no_docs:
        if a.scn != {1, 2, 3, 4, 5}:
            print("(not every scenario ran: docs/benchmarks.md left as it was; --docs DIR to write "
                  "them elsewhere)", file=sys.stderr)
        return
    docs = Path(a.docs)
    docs.mkdir(parents=True, exist_ok=True)
    written = throughput.charts(results, drivers, docs) if results else []
    written += auth_memory_chart.chart(auth, mem, clients, max(a.hold_counts), docs)
    write_docs(docs, body, written)


def write_docs(docs: Path, body: str, written: list[str]) -> None:
    doc = [
        "# Benchmarks: mcp-client against other MCP clients",
        "",
        "Written by `benches/compare.sh` (issue #16) from its measurements and "
        "`benches/compare/analysis.md`; do not edit by hand. Re-run with `benches/compare.sh` "
        "(about 20 to 30 minutes; `--quick` for a smoke run).",
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
        "Scenarios 3 and 4 run against the project's test server (`tests/server`, `--oauth`): an "
        "MCP server whose authorization server (metadata, dynamic registration, an `/authorize` "
        "that approves at once, PKCE, rotating refresh tokens) is on the same origin, and which "
        "counts every request it receives by method and path. Each driver uses its library's own "
        "OAuth support and storage interface (`benches/compare/peers/README.md` says how, per peer).",
        "",
        "## Results",
        "",
        body,
    ]
    if written:
        doc += ["## Charts", ""]
        for stem, alt in (("bench-throughput", "throughput"), ("bench-latency", "latency p50/p99"),
                          ("bench-cpu", "CPU per call"),
                          ("bench-auth-memory", "cold and warm start, refresh storm, memory")):
            if any(w.endswith(f"{stem}.png") for w in written):
                doc.append(f"![{alt}]({stem}.svg)")
                doc.append("")
    if ANALYSIS.exists():
        doc += ["## Missed goals: profiles, and what would close them", "",
                f"(From `{rel(ANALYSIS)}`, written by hand from profiles of an earlier run; the "
                "figures above are this run's.)", "", ANALYSIS.read_text().strip(), ""]
    (docs / "benchmarks.md").write_text("\n".join(doc) + "\n")
    print(f"wrote {rel(docs / 'benchmarks.md')} and {', '.join(written) or 'no charts'}", file=sys.stderr)


if __name__ == "__main__":
    main()

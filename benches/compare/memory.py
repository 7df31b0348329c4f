"""benches/compare, scenario 5: the resident set of a process holding 1 and 100 connected
clients (each its own session on the scenario-1 server), and the sizes of what this project
ships: the shared library stripped, the static library, the wheel."""

from __future__ import annotations

import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import CMP, ROOT, RUST, Server, fmt, launch, ratio, rel, tail


def run_memory(drivers: list[dict], counts: list[int], repeats: int, timeout: float) -> dict:
    """{driver name: {N: [runs]}} with `--hold N` for each N, `repeats` times, alternating order."""
    token = "t" + secrets.token_hex(16)
    server = Server(token)
    runs = {d["name"]: {n: [] for n in counts} for d in drivers}
    try:
        for r in range(repeats):
            for d in (drivers if r % 2 == 0 else list(reversed(drivers))):
                for n in counts:
                    prev = runs[d["name"]][n]
                    if prev and (prev[-1]["unsupported"] or (prev[-1]["error"] or "").startswith(
                            ("not built", "cannot run", "timed out"))):
                        continue
                    out = launch(d, ["--hold", str(n), "--url", server.url, "--token", token], timeout)
                    prev.append(out)
                    res = out["result"] or {}
                    what = (f"unsupported: {out['unsupported']}" if out["unsupported"] else
                            f"RSS {res.get('rss_kb', 0) / 1024:7.1f} MiB  ok {res.get('ok')}/{n}"
                            + (f"  FAILED: {out['error']}" if out["error"] else ""))
                    print(f"  hold {n:>3} run {r + 1}/{repeats} {d['name']:<34} {what}",
                          file=sys.stderr, flush=True)
    finally:
        server.stop()
    return runs


def summarize(runs: dict) -> dict:
    out = {}
    for name, by_n in runs.items():
        m = {}
        for n, rs in by_n.items():
            ok = [x["result"] for x in rs if x["result"] is not None and not x["error"]]
            bad = [x for x in rs if x["error"] or x["unsupported"]]
            if ok:
                m[n] = {"rss_mib": statistics.median(x["rss_kb"] for x in ok) / 1024,
                        "version": ok[0].get("version", "")}
            elif bad:
                x = bad[-1]
                m[n] = {"failed": True, "stderr": tail(x["stderr"]),
                        "error": f"unsupported: {x['unsupported']}" if x["unsupported"] else x["error"]}
        out[name] = m
    return out


def memory_table(sm: dict, drivers: list[dict], counts: list[int]) -> str:
    lo, hi = min(counts), max(counts)
    lines = ["### Scenario 5: memory of connected clients", "",
             f"Resident set (`VmRSS`) of one process holding N clients, each its own session, "
             f"connected, after one call on each (no forced garbage collection); per client: "
             f"(RSS at {hi} − RSS at {lo}) / {hi - lo}. Ratios to `{RUST}`.", "",
             "| client | " + " | ".join(f"RSS, {n} client{'s' if n > 1 else ''} MiB" for n in counts)
             + " | per extra client KiB | ratio (" + " / ".join(str(n) for n in counts) + ") |",
             "|---|" + "--:|" * (len(counts) + 2)]
    rust = sm.get(RUST, {})
    for d in drivers:
        m = sm.get(d["name"], {})
        if not m:
            continue
        cells = []
        for n in counts:
            x = m.get(n, {})
            cells.append(x["error"] if x.get("failed") else fmt(x.get("rss_mib"), 1))
        a, b = m.get(lo, {}), m.get(hi, {})
        per = None
        if a and b and not a.get("failed") and not b.get("failed") and hi > lo:
            per = (b["rss_mib"] - a["rss_mib"]) * 1024 / (hi - lo)
        rs = " / ".join(ratio(m.get(n, {}).get("rss_mib"), rust.get(n, {}).get("rss_mib")) for n in counts)
        lines.append(f"| {d['name']} | " + " | ".join(cells) + f" | {fmt(per)} | {rs} |")
    return "\n".join(lines) + "\n"


def stripped_size(path: Path, flag: str) -> int | None:
    """The size of a copy of `path` after `strip flag`, or None without `strip`."""
    if shutil.which("strip") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        if subprocess.run(["strip", flag, str(copy)], capture_output=True).returncode != 0:
            return None
        return copy.stat().st_size


def sizes() -> list[tuple[str, str, int | None, str]]:
    """(what, file, bytes or None when missing, how measured)."""
    rel_dir = ROOT / "target" / "release"
    so, a = rel_dir / "libmcp_client.so", rel_dir / "libmcp_client.a"
    wheels = sorted((CMP / "wheels").glob("*.whl"))
    out = []
    if so.exists():
        out.append(("shared library, stripped", rel(so), stripped_size(so, "--strip-all"),
                    "`strip --strip-all` of a copy (dynamic symbols stay)"))
        out.append(("shared library, as built", rel(so), so.stat().st_size,
                    "release profile: line tables for backtraces"))
    else:
        out.append(("shared library", rel(so), None, "not built"))
    if a.exists():
        out.append(("static library, stripped of debug info", rel(a), stripped_size(a, "--strip-debug"),
                    "`strip --strip-debug` of a copy; a program linking it keeps only what it uses"))
        out.append(("static library, as built", rel(a), a.stat().st_size, "every dependency's objects"))
    else:
        out.append(("static library", rel(a), None, "not built"))
    if wheels:
        w = wheels[-1]
        out.append(("Python wheel (abi3, one for every CPython >= 3.9)", rel(w), w.stat().st_size,
                    "as built by `maturin build --release`"))
    else:
        out.append(("Python wheel", "target/compare/wheels/*.whl", None, "not built"))
    return out


def sizes_table(rows: list[tuple[str, str, int | None, str]]) -> str:
    lines = ["### What this project ships: sizes", "",
             "| artifact | file | size MiB | how |", "|---|---|--:|---|"]
    for what, path, n, how in rows:
        lines.append(f"| {what} | `{path}` | {fmt(n / 2**20, 1) if n is not None else '–'} | {how} |")
    return "\n".join(lines) + "\n"

"""benches/compare, scenarios 1 and 2: `tools/call` throughput with 1 and K in flight on one
client (calls/s, latency, CPU per call, peak RSS), the goals judged on them, and the charts."""

from __future__ import annotations

import secrets
import statistics
import sys
import time
from pathlib import Path

from harness import (FLOOR_SOCKET, OURS_LANGS, RUST, Server, fmt, launch, ratio, rel, tail)


def run_driver(d: dict, url: str, token: str, calls: int, inflight: int, warmup: int,
               timeout: float) -> dict:
    """One run: the parsed RESULT (plus derived figures) or {"error": ..., "stderr": ...}."""
    out = launch(d, ["--url", url, "--token", token, "--calls", str(calls),
                     "--inflight", str(inflight), "--warmup", str(warmup)], timeout)
    res = out["result"]
    if out["error"] or out["unsupported"] or res is None:
        return {"error": out["error"] or f"unsupported: {out['unsupported']}", "stderr": out["stderr"]}
    try:
        n = int(res["calls"])
        res["cps"] = n / (float(res["wall_us"]) / 1e6)
        res["cpu_per_call"] = float(res["cpu_us"]) / n
        res["rss_mib"] = float(res["peak_rss_kb"]) / 1024
        res["p50_us"] = float(res["p50_us"])
        res["p99_us"] = float(res["p99_us"])
    except (KeyError, ValueError, ZeroDivisionError) as e:
        return {"error": f"bad RESULT line ({e})", "stderr": out["stderr"]}
    return res


METRICS = ("cps", "p50_us", "p99_us", "cpu_per_call", "rss_mib")


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

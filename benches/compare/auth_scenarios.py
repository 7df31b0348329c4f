"""benches/compare, scenarios 3 and 4: from nothing to the first authorized call (cold start),
from a stored credential (warm start), and a refresh storm (N calls at once meeting an access
token the server expired), against the project's test server with OAuth on. Counts the HTTP
requests each run made from the server's own counters (`/debug/request-counts`,
`/debug/rpc-counts`, `/debug/auth-stats`)."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile

from harness import TestServer, fmt, launch, tail

MODES = ("cold", "warm", "storm")
# The request categories of the tables, in order: (label, test on "METHOD /path").
CATEGORIES = (
    ("discovery", lambda k: k.startswith("GET /.well-known/")),
    ("registration", lambda k: k == "POST /register"),
    ("authorization", lambda k: k.split(" ", 1)[1].startswith("/authorize")),
    ("token", lambda k: k == "POST /token"),
    ("MCP", lambda k: k.split(" ", 1)[1] == "/mcp" and not k.startswith("DELETE")),
)


def diff(after: dict, before: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def categorize(counts: dict) -> dict:
    """Requests by category; the closing `DELETE /mcp` (after the timed section) is left out."""
    out = {label: 0 for label, _ in CATEGORIES}
    out["other"] = 0
    for key, n in counts.items():
        if key == "DELETE /mcp":
            continue
        label = next((lbl for lbl, test in CATEGORIES if test(key)), "other")
        out[label] += n
    return out


def one_run(server: TestServer, d: dict, mode: str, store: str, storm_calls: int,
            timeout: float) -> dict:
    args = ["--auth", mode, "--url", server.url, "--store", store]
    if mode == "storm":
        args += ["--calls", str(storm_calls), "--expire-url", server.expire_url]
    c0, r0, s0 = server.get("request-counts"), server.get("rpc-counts"), server.get("auth-stats")
    out = launch(d, args, timeout)
    c1, r1, s1 = server.get("request-counts"), server.get("rpc-counts"), server.get("auth-stats")
    run = dict(out)
    run["requests"] = diff(c1, c0)
    run["categories"] = categorize(run["requests"])
    run["total"] = sum(run["categories"].values())
    run["rpc"] = diff(r1, r0)
    run["grants"] = diff(s1["token_requests"], s0["token_requests"])
    run["replays"] = s1["refresh_replays_detected"] - s0["refresh_replays_detected"]
    run["invalid_grants"] = s1["invalid_grants"] - s0["invalid_grants"]
    return run


def progress(d: dict, mode: str, r: int, repeats: int, run: dict) -> None:
    res = run["result"] or {}
    if run["unsupported"]:
        what = f"unsupported: {run['unsupported']}"
    else:
        what = (f"{res.get('wall_us', 0) / 1000:8.1f} ms  {run['total']:>5} requests  "
                f"tokens {run['grants'] or {}}  ok {res.get('ok')}/{res.get('calls')}")
        if run["error"]:
            what += f"  FAILED: {run['error']}"
    print(f"  {mode:<5} run {r + 1}/{repeats} {d['name']:<34} {what}", file=sys.stderr, flush=True)


def run_auth(drivers: list[dict], repeats: int, storm_calls: int, timeout: float) -> dict:
    """{driver name: {mode: [runs]}}; each repeat runs cold, warm, storm on one new store."""
    server = TestServer()
    runs = {d["name"]: {m: [] for m in MODES} for d in drivers}
    try:
        for r in range(repeats):
            for d in (drivers if r % 2 == 0 else list(reversed(drivers))):
                cold = runs[d["name"]]["cold"]
                if cold and (cold[-1]["unsupported"] or (cold[-1]["error"] or "").startswith(
                        ("not built", "cannot run", "timed out"))):
                    continue  # no point repeating those
                store = tempfile.mkdtemp(prefix="mcp-compare-store-")
                try:
                    for mode in MODES:
                        run = one_run(server, d, mode, store, storm_calls, timeout)
                        runs[d["name"]][mode].append(run)
                        progress(d, mode, r, repeats, run)
                        if mode == "cold" and (run["error"] or run["unsupported"]):
                            break  # warm and storm start from what cold saved
                finally:
                    shutil.rmtree(store, ignore_errors=True)
    finally:
        server.stop()
    return runs


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summary(runs: list[dict]) -> dict:
    """Medians over the runs that produced a RESULT (failed ones included: their requests and
    token counts matter), plus the worst case of the counts."""
    done = [x for x in runs if x["result"] is not None]
    if not done:
        why = next((x["unsupported"] and f"unsupported: {x['unsupported']}" or x["error"]
                    for x in reversed(runs)), "not run")
        return {"failed": True, "error": why, "unsupported": any(x["unsupported"] for x in runs),
                "stderr": tail(runs[-1]["stderr"]) if runs else ""}
    res = [x["result"] for x in done]
    s = {
        "runs": len(done),
        "failed_runs": sum(1 for x in runs if x["error"]),
        "ok": [x.get("ok", 0) for x in res],
        "calls": res[0].get("calls"),
        "wall_ms": med([x["wall_us"] / 1000 for x in res]),
        "p50_ms": med([float(x["p50_us"]) / 1000 for x in res]),
        "p99_ms": med([float(x["p99_us"]) / 1000 for x in res]),
        "cpu_ms": med([float(x["cpu_us"]) / 1000 for x in res]),
        "total": med([x["total"] for x in done]),
        "categories": {k: med([x["categories"][k] for x in done]) for k in done[0]["categories"]},
        "refresh": [x["grants"].get("refresh_token", 0) for x in done],
        "code": [x["grants"].get("authorization_code", 0) for x in done],
        "replays": [x["replays"] for x in done],
        "invalid_grants": [x["invalid_grants"] for x in done],
        "rpc": done[len(done) // 2]["rpc"],
        "version": res[0].get("version", ""),
    }
    bad = [x for x in runs if x["error"]]
    if bad:
        s["error"] = bad[-1]["error"]
        s["stderr"] = tail(bad[-1]["stderr"])
    return s


def summarize(runs: dict) -> dict:
    return {name: {m: summary(r) for m, r in modes.items() if r} for name, modes in runs.items()}


def span(xs: list[int]) -> str:
    lo, hi = min(xs), max(xs)
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def start_tables(sm: dict, drivers: list[dict]) -> str:
    cats = [c for c, _ in CATEGORIES] + ["other"]
    lines = ["### Scenario 3: cold and warm start to the first authorized call", "",
             "Cold: an empty store, so discovery, registration, a headless sign-in (one GET of "
             "the authorization URL, the code from its redirect) and the token request; warm: a "
             "new process with what the cold run stored. Wall time from creating the client to "
             "the first `tools/call` result; HTTP requests the server received (the closing "
             "`DELETE` left out).", "",
             "| client | cold ms | cold requests | warm ms | warm requests | warm discovery requests |",
             "|---|--:|--:|--:|--:|--:|"]
    detail = ["", "Requests by kind (median run; " + ", ".join(cats) + "), and the MCP methods:", "",
              "| client | start | " + " | ".join(cats) + " | MCP methods |",
              "|---|---|" + "--:|" * len(cats) + "---|"]
    for d in drivers:
        m = sm.get(d["name"], {})
        cold, warm = m.get("cold"), m.get("warm")
        if not cold or cold.get("failed"):
            why = (cold or {}).get("error", "not run")
            lines.append(f"| {d['name']} | {why} | | | | |")
            continue
        cells = [fmt(cold["wall_ms"], 1), fmt(cold["total"])]
        if warm and not warm.get("failed"):
            cells += [fmt(warm["wall_ms"], 1), fmt(warm["total"]), fmt(warm["categories"]["discovery"])]
        else:
            cells += [(warm or {}).get("error", "not run"), "", ""]
        lines.append(f"| {d['name']} | " + " | ".join(cells) + " |")
        for label, s in (("cold", cold), ("warm", warm)):
            if not s or s.get("failed"):
                continue
            rpc = ", ".join(f"{k.split(' ', 2)[2]} {v}" for k, v in sorted(s["rpc"].items())
                            if k.startswith("POST /mcp") and not k.endswith(" -"))
            detail.append(f"| {d['name']} | {label} | " + " | ".join(fmt(s["categories"][c]) for c in cats)
                          + f" | {rpc} |")
    return "\n".join(lines + detail) + "\n"


def storm_table(sm: dict, drivers: list[dict], calls: int) -> str:
    lines = [f"### Scenario 4: refresh storm ({calls} calls at once meeting an expired access token)", "",
             "After one call, the server expires every access token it issued (`POST "
             "/debug/expire-tokens`; the client is not told), then the driver starts the calls "
             "at once on its one client. Refresh tokens rotate and a replayed one revokes the "
             "grant (OAuth 2.1 for public clients). Token requests: the `refresh_token` grants "
             "the server received (range over the runs); sign-ins: `authorization_code` grants.", "",
             "| client | calls ok | token requests (refresh) | sign-ins | replays detected | "
             "p50 ms | p99 ms | wall ms |",
             "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for d in drivers:
        s = sm.get(d["name"], {}).get("storm")
        if not s:
            continue
        if s.get("failed"):
            lines.append(f"| {d['name']} | {s['error']} | | | | | | |")
            continue
        lines.append(f"| {d['name']} | {span(s['ok'])}/{s['calls']} | {span(s['refresh'])} | "
                     f"{span(s['code'])} | {span(s['replays'])} | {fmt(s['p50_ms'], 1)} | "
                     f"{fmt(s['p99_ms'], 1)} | {fmt(s['wall_ms'], 1)} |")
    return "\n".join(lines) + "\n"


def goals(sm: dict, drivers: list[dict]) -> list[tuple[str, bool | None, str]]:
    out = []
    for d in drivers:
        if not d.get("ours"):
            continue
        m = sm.get(d["name"], {})
        s = m.get("storm")
        if not s or s.get("failed"):
            out.append((f"{d['name']}: exactly one token request in the storm", None, "no figures"))
        else:
            met = all(n == 1 for n in s["refresh"]) and not any(s["code"]) and \
                all(ok == s["calls"] for ok in s["ok"])
            out.append((f"{d['name']}: exactly one token request in the storm", met,
                        f"refresh requests per run {s['refresh']}, sign-ins {s['code']}, "
                        f"calls ok {s['ok']} of {s['calls']}"))
        w = m.get("warm")
        if not w or w.get("failed"):
            out.append((f"{d['name']}: zero discovery requests on a warm start", None, "no figures"))
        else:
            c = w["categories"]
            out.append((f"{d['name']}: zero discovery requests on a warm start",
                        c["discovery"] == 0 and c["registration"] == 0 and c["token"] == 0,
                        f"discovery {fmt(c['discovery'])}, registration {fmt(c['registration'])}, "
                        f"token {fmt(c['token'])}; {fmt(w['total'])} requests in all"))
    return out


def failures(sm: dict) -> list[str]:
    out = []
    for name, modes in sm.items():
        for mode, s in modes.items():
            if s.get("error") and not s.get("unsupported"):
                what = "failed" if s.get("failed") else f"{s.get('failed_runs')} run(s) failed"
                out.append(f"- **{name}** ({mode}): {what}: {s['error']}")
                if s.get("stderr"):
                    out.append("\n  ```\n" + "\n".join("  " + l for l in s["stderr"].splitlines())
                               + "\n  ```")
            elif s.get("unsupported"):
                out.append(f"- **{name}** ({mode}): {s['error']}")
    return out

"""benches/compare: the chart of scenarios 3 to 5 (docs/bench-auth-memory.png and .svg): cold
and warm start, the storm's token requests, and the memory of 100 clients, one panel each."""

from __future__ import annotations

import sys
from pathlib import Path

from harness import rel


def chart(auth: dict | None, mem: dict | None, clients: list[dict], hold_max: int,
          docs: Path) -> list[str]:
    if auth is None or mem is None:
        return []
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no charts)", file=sys.stderr)
        return []
    names = [d["name"] for d in clients]
    langs = list(dict.fromkeys(d["language"] for d in clients))
    palette = plt.get_cmap("tab10")
    color = [palette(langs.index(d["language"]) % 10) for d in clients]
    edge = ["black" if d.get("ours") else "none" for d in clients]

    def auth_val(name: str, mode: str, key: str):
        s = auth.get(name, {}).get(mode)
        if not s or s.get("failed"):
            return None
        v = s[key]
        return max(v) if isinstance(v, list) else v

    def storm_label(name: str) -> str:
        s = auth.get(name, {}).get("storm")
        if not s or s.get("failed"):
            return " failed"
        ok = min(s["ok"])
        return f" {max(s['refresh'])} refresh, {max(s['code'])} sign-ins, {ok}/{s['calls']} ok"

    panels = [
        ("cold start to the first call, ms", [auth_val(n, "cold", "wall_ms") for n in names], "{:.1f}"),
        ("warm start to the first call, ms", [auth_val(n, "warm", "wall_ms") for n in names], "{:.1f}"),
        ("storm of 1000 calls: token requests (refresh + sign-ins; goal 1)",
         [None if auth_val(n, "storm", "refresh") is None else
          auth_val(n, "storm", "refresh") + auth_val(n, "storm", "code") for n in names], None),
        (f"RSS with {hold_max} clients connected, MiB",
         [None if mem.get(n, {}).get(hold_max, {}).get("failed") else mem.get(n, {}).get(hold_max, {}).get("rss_mib")
          for n in names], "{:.1f}"),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(13, 2 * (0.36 * len(names) + 1.2)), squeeze=False)
    for i, (ax, (title, vals, form)) in enumerate(zip(axes.flat, panels)):
        ys = list(range(len(names)))
        plotted = [v if v else 0 for v in vals]
        ax.barh(ys, [max(v, 0.5) if v is not None else 0 for v in plotted] if form is None else plotted,
                color=color, edgecolor=edge)
        for y, v, n in zip(ys, vals, names):
            text = storm_label(n) if form is None else (" failed" if v is None else " " + form.format(v))
            ax.text(max(v or 0, 0.5 if form is None else 0), y, text, va="center", fontsize=7)
        if form is None:
            ax.set_xscale("log")
            ax.set_xlim(0.3, 1e5)  # a bar of 0 requests is drawn at 0.5; room for the labels
        ax.set_yticks(ys, names if i % 2 == 0 else [""] * len(names), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("lower is better" + (" (log scale)" if form is None else ""), fontsize=8)
        ax.margins(x=0.45 if form is None else 0.25)
    fig.tight_layout()
    written = []
    for ext in ("png", "svg"):
        p = docs / f"bench-auth-memory.{ext}"
        fig.savefig(p, dpi=130, bbox_inches="tight")
        written.append(rel(p))
    plt.close(fig)
    return written

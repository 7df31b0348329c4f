"""benches/compare: what every scenario shares: paths, the driver lists, the servers, and one
driver run under the contract of benches/compare/README.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CMP = ROOT / "target" / "compare"
CARGO_REL = ROOT / "target" / "compare-cargo" / "release"
SERVER = CARGO_REL / "compare-server"
VENV_PY = CMP / "venv" / "bin" / "python"
TEST_SERVER = ROOT / "target" / "release" / "mcp-test-server"
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



class TestServer:
    """The project's test server with its OAuth authorization server on (scenarios 3 and 4)."""

    def __init__(self):
        self.proc = subprocess.Popen([str(TEST_SERVER), "--oauth", "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise SystemExit(f"the test server did not start (said {line!r})")
        self.url = line
        self.base = line.rsplit("/mcp", 1)[0]
        self.expire_url = self.base + "/debug/expire-tokens"

    def get(self, what: str) -> dict:
        """`GET /debug/<what>` as JSON (request-counts, rpc-counts, auth-stats)."""
        with urllib.request.urlopen(f"{self.base}/debug/{what}", timeout=10) as r:
            return json.loads(r.read())

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


def launch(d: dict, args: list[str], timeout: float) -> dict:
    """Runs driver `d` with `args` once: {"result": the RESULT object or None, "error": why it
    failed or None, "stderr": its stderr, "unsupported": the reason a driver gave, or None}."""
    exe = d["cmd"][0]
    if "/" in exe and not (ROOT / exe).exists() and not Path(exe).exists():
        return {"result": None, "error": f"not built ({exe} is missing)", "stderr": "", "unsupported": None}
    if "/" not in exe and shutil.which(exe) is None:
        return {"result": None, "error": f"{exe} not found on PATH", "stderr": "", "unsupported": None}
    argv = d["cmd"] + args
    # Through a small shell that forks the driver: on Linux ru_maxrss survives execve (it would
    # start at this Python process's RSS); a child forked by sh starts from sh's few hundred KiB.
    # Its own process group, so a timeout kills the driver and everything it started.
    try:
        p = subprocess.Popen(["/bin/sh", "-c", '"$@"; r=$?; exit $r', "sh", *argv], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    except OSError as e:
        return {"result": None, "error": f"cannot run: {e}", "stderr": "", "unsupported": None}
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, 9)
        except OSError:
            pass
        out, err = p.communicate()
        reap_orphans()
        return {"result": None, "error": f"timed out after {timeout:g} s", "stderr": err, "unsupported": None}
    res, unsupported = None, None
    for line in out.splitlines():
        if line.startswith("RESULT "):
            try:
                res = json.loads(line[7:])
            except ValueError:
                res = None
        elif line.startswith("UNSUPPORTED"):
            unsupported = line[len("UNSUPPORTED"):].strip() or "unsupported"
    if unsupported is not None and p.returncode == 3:
        return {"result": None, "error": None, "stderr": err, "unsupported": unsupported}
    error = None
    if p.returncode != 0 or res is None:
        error = f"exit status {p.returncode}" if p.returncode != 0 else "no RESULT line"
        if res is not None:
            n = res.get("calls", res.get("clients"))
            error += f", {res.get('ok')}/{n} succeeded"
    return {"result": res, "error": error, "stderr": err, "unsupported": None}


def tail(text: str, n: int = 12) -> str:
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return "\n".join(lines[-n:])


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



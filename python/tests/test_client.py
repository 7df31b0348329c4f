"""The blocking Client against the project's test server (HTTP and stdio)."""

from __future__ import annotations

import threading

import pytest

import mcp_client
from mcp_client import Client


def test_tools_over_http(server_url: str) -> None:
    with Client(server_url) as c:
        assert c.protocol_version
        names = {t["name"] for t in c.list_tools()}
        assert {"echo", "add", "slow"} <= names
        r = c.call_tool("add", {"a": 2, "b": 3})
        assert r["content"][0]["text"] == "5"
        assert c.call_tool("echo", {"text": "héllo"})["content"][0]["text"] == "héllo"
        c.ping()


def test_resources_prompts_and_generic_call(server_url: str) -> None:
    with Client(server_url) as c:
        uris = {r["uri"] for r in c.list_resources()}
        assert "test://hello" in uris
        assert c.read_resource("test://hello")["contents"][0]["text"]
        assert any(p["name"] == "greet" for p in c.list_prompts())
        msg = c.get_prompt("greet", {"name": "Ada"})["messages"][0]
        assert "Ada" in msg["content"]["text"]
        assert "tools" in c.call("tools/list")


def test_stdio_server(stdio_command: str) -> None:
    with Client(command=stdio_command) as c:
        assert c.call_tool("add", {"a": 1, "b": 1})["content"][0]["text"] == "2"


def test_rpc_error_carries_the_servers_fields(server_url: str) -> None:
    with Client(server_url) as c:
        with pytest.raises(mcp_client.RpcError) as info:
            c.call("no/such/method")
        assert info.value.code == -32601
        assert isinstance(info.value, mcp_client.McpError)


def test_timeout_is_also_the_builtin_timeout(server_url: str) -> None:
    with Client(server_url) as c:
        with pytest.raises(TimeoutError):
            c.call_tool("slow", {"ms": 3000}, timeout=0.2)
        with pytest.raises(mcp_client.TimeoutError):
            c.call_tool("slow", {"ms": 3000}, timeout=0.2)
        # The client is still usable.
        c.ping()


def test_closed_client(server_url: str) -> None:
    c = Client(server_url)
    c.close()
    c.close()  # idempotent
    with pytest.raises(mcp_client.ClosedError):
        c.ping()


def test_bad_arguments(server_url: str) -> None:
    with pytest.raises(ValueError):
        Client()
    with pytest.raises(mcp_client.InvalidArgumentError):
        Client("ftp://example.com/mcp")
    with pytest.raises(mcp_client.TransportError):
        Client("http://127.0.0.1:9/mcp", timeout=2)
    with Client(server_url) as c:
        with pytest.raises(TypeError):
            c.call_tool("add", [1, 2])  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            c.call_tool("add", {"a": 1}, timeout=-1)
        with pytest.raises(TypeError):
            c.call_tool("echo", {"text": object()})
        with pytest.raises(TypeError):
            c.call("ping", ["not", "a", "mapping"])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            c.call_tool("echo", {"text": float("nan")})
        with pytest.raises(TypeError):
            c.call_tool("echo", {"text": "x", 1: "non-str key"})  # type: ignore[dict-item]
        loop: list = []
        loop.append(loop)
        with pytest.raises(TypeError):
            c.call_tool("echo", {"text": "x", "cycle": loop})
        # Still usable, and values of every JSON type survive the round trip in order.
        args = {"text": "ünï", "z": 1, "a": [1.5, True, None, {"k": "v"}], "big": 2**70}
        r = c.call("tools/call", {"name": "echo", "arguments": args})
        assert r["content"][0]["text"] == "ünï"


def test_threads_share_one_client(server_url: str) -> None:
    errors: list = []
    with Client(server_url) as c:

        def work(n: int) -> None:
            try:
                for i in range(20):
                    r = c.call_tool("add", {"a": n, "b": i})
                    assert r["content"][0]["text"] == str(n + i)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[:3]


def test_a_forgotten_client_is_dropped_cleanly(stdio_command: str, server_url: str) -> None:
    import gc

    c = Client(command=stdio_command)
    assert c.call_tool("echo", {"text": "x"})["content"][0]["text"] == "x"
    del c
    gc.collect()
    h = Client(server_url)
    del h
    gc.collect()


def test_ctrl_c_interrupts_a_call_and_tells_the_server(start_server) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    import time

    srv = start_server()
    script = f"""
import os, signal, threading, time
from mcp_client import Client
c = Client({srv.url!r})
# Python's own Ctrl-C handler, also when started from a background job (which inherits
# SIGINT ignored, and Python then installs no handler).
signal.signal(signal.SIGINT, signal.default_int_handler)
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t0 = time.monotonic()
try:
    c.call_tool("slow", {{"ms": 10000}})
except KeyboardInterrupt:
    print("interrupted after", round(time.monotonic() - t0, 1))
c.call_tool("echo", {{"text": "still usable"}})
c.close()
"""
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "interrupted after" in out.stdout
    assert time.monotonic() - t0 < 8
    for _ in range(50):
        if srv.debug("cancelled"):
            break
        time.sleep(0.05)
    assert len(srv.debug("cancelled")) == 1


def test_a_tool_that_must_run_as_a_task(start_server) -> None:  # type: ignore[no-untyped-def]
    srv = start_server("--tasks")
    statuses: list = []
    with Client(srv.url, on_notification=lambda m, p: statuses.append(m)) as c:
        c.list_tools()
        r = c.call_tool("report", {"ms": 100})
        assert r["content"][0]["text"] == "report ready after 100 ms"
        # Notifications reach Python on the client's dispatch thread, in order, soon after.
        for _ in range(100):
            if "notifications/tasks/status" in statuses:
                break
            threading.Event().wait(0.02)
    assert "notifications/tasks/status" in statuses

"""The explicit tasks API (protocol 2025-11-25) against the test server started with `--tasks`:
`report` (required; works `ms` milliseconds), `convert` (optional), `quick` (forbidden),
`confirm` (required; asks through elicitation) and `crash` (required; fails)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Dict, List

import pytest

import mcp_client
from mcp_client import AsyncClient, Client, Task, TaskStatus

from conftest import Server

RELATED = "io.modelcontextprotocol/related-task"


@pytest.fixture
def tasks_server(start_server: Callable[..., Server]) -> Server:
    return start_server("--tasks")


def wait_for_status(c: Client, task_id: str, status: TaskStatus) -> Task:
    task = c.task_status(task_id)
    for _ in range(250):
        if task.status == status:
            break
        time.sleep(0.02)
        task = c.task_status(task_id)
    return task


def test_start_status_result(tasks_server: Server) -> None:
    with Client(tasks_server.url) as c:
        task = c.start_tool_task("report", {"ms": 300}, ttl=60)
        assert isinstance(task, Task)
        assert task.status == "working"
        assert not task.is_terminal
        assert task.task_id
        assert task.ttl == 60.0 and task.raw["ttl"] == 60_000
        assert task.poll_interval == 0.05 and task.raw["pollInterval"] == 50
        assert task.created_at.endswith("Z") and task.last_updated_at.endswith("Z")
        assert task.raw["taskId"] == task.task_id

        now = c.task_status(task.task_id)
        assert now.task_id == task.task_id
        assert now.status in ("working", "completed")

        r = c.task_result(task.task_id)
        assert r["content"][0]["text"] == "report ready after 300 ms"
        assert r["_meta"][RELATED]["taskId"] == task.task_id
        done = c.task_status(task.task_id)
        assert done.status == "completed" and done.is_terminal
        # The result stays available until the task expires.
        assert c.task_result(task.task_id)["content"][0]["text"] == "report ready after 300 ms"


def test_list_includes_every_task(tasks_server: Server) -> None:
    with Client(tasks_server.url) as c:
        # The server pages tasks/list by three: five tasks take two pages.
        ids = [c.start_tool_task("report", {"ms": 5000}).task_id for _ in range(5)]
        tasks = c.list_tasks()
        assert all(isinstance(t, Task) for t in tasks)
        assert {t.task_id for t in tasks} == set(ids)
        assert all(t.status == "working" for t in tasks)
        for i in ids:
            c.cancel_task(i)


def test_cancel(tasks_server: Server) -> None:
    with Client(tasks_server.url) as c:
        task = c.start_tool_task("report", {"ms": 10_000})
        cancelled = c.cancel_task(task.task_id)
        assert cancelled.task_id == task.task_id
        assert cancelled.status == "cancelled" and cancelled.is_terminal
        assert cancelled.status_message
        assert c.task_status(task.task_id).status == "cancelled"
        t0 = time.monotonic()
        with pytest.raises(mcp_client.RpcError) as info:
            c.task_result(task.task_id)
        assert info.value.code == -32800
        assert time.monotonic() - t0 < 2
        # A task that ended cannot be cancelled.
        with pytest.raises(mcp_client.RpcError) as info:
            c.cancel_task(task.task_id)
        assert info.value.code == -32602
        assert [t.status for t in c.list_tasks()] == ["cancelled"]


def test_failing_tasks(tasks_server: Server) -> None:
    with Client(tasks_server.url) as c:
        # A tool error: the result says so, as call_tool's would.
        task = c.start_tool_task("crash")
        r = c.task_result(task.task_id)
        assert r.get("isError") is True
        assert r["content"][0]["text"] == "the job failed"
        failed = c.task_status(task.task_id)
        assert failed.status == "failed"
        assert failed.status_message and "failed" in failed.status_message

        # A JSON-RPC error: raised, with the server's fields.
        task = c.start_tool_task("crash", {"rpc": True})
        with pytest.raises(mcp_client.RpcError) as info:
            c.task_result(task.task_id)
        assert info.value.code == -32603
        assert "the job crashed" in str(info.value)
        assert c.task_status(task.task_id).status == "failed"


def test_an_input_required_task_asks_the_elicitation_handler(tasks_server: Server) -> None:
    asked: List[Dict[str, Any]] = []

    def elicit(params: Dict[str, Any]) -> Dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {"ok": True}}

    with Client(tasks_server.url, on_elicitation=elicit) as c:
        task = c.start_tool_task("confirm", {"message": "Go ahead?"})
        assert wait_for_status(c, task.task_id, "input_required").status == "input_required"
        r = c.task_result(task.task_id)
        assert not r.get("isError"), r
        text = r["content"][0]["text"]
        assert text.startswith("confirmed: ") and '"ok":true' in text, text
        # The answer carried the task's related-task metadata back (the server checks it).
        assert f'"taskId":"{task.task_id}"' in text
        assert c.task_status(task.task_id).status == "completed"
    assert len(asked) == 1
    assert asked[0]["message"] == "Go ahead?"
    assert asked[0]["_meta"][RELATED]["taskId"] == task.task_id


def test_status_notifications_read_as_tasks(tasks_server: Server) -> None:
    seen: List[Task] = []
    got = threading.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tasks/status":
            seen.append(Task.from_dict(params))
            if seen[-1].is_terminal:
                got.set()

    with Client(tasks_server.url, on_notification=on_notification) as c:
        task = c.start_tool_task("report", {"ms": 50})
        c.task_result(task.task_id)
        assert got.wait(5)
    assert seen[-1].task_id == task.task_id
    assert seen[-1].status == "completed"


def test_timeouts_leave_the_task_running(tasks_server: Server) -> None:
    with Client(tasks_server.url) as c:
        task = c.start_tool_task("report", {"ms": 10_000})
        t0 = time.monotonic()
        with pytest.raises(mcp_client.TimeoutError):
            c.task_result(task.task_id, timeout=0.3)
        assert time.monotonic() - t0 < 1.5
        assert c.task_status(task.task_id).status == "working"
        assert c.cancel_task(task.task_id).status == "cancelled"


def test_ttl(tasks_server: Server) -> None:
    with Client(tasks_server.url) as c:
        task = c.start_tool_task("report", {"ms": 5000}, ttl=0.15)
        assert task.ttl == 0.15 and task.raw["ttl"] == 150
        time.sleep(0.3)
        with pytest.raises(mcp_client.RpcError) as info:
            c.task_status(task.task_id)
        assert info.value.code == -32602 and "expired" in str(info.value)
        assert all(t.task_id != task.task_id for t in c.list_tasks())


def test_bad_arguments(tasks_server: Server, server_url: str) -> None:
    with Client(tasks_server.url) as c:
        for call in (c.task_status, c.task_result, c.cancel_task):
            with pytest.raises(mcp_client.RpcError) as info:
                call("no-such-task")
            assert info.value.code == -32602
            with pytest.raises(mcp_client.InvalidArgumentError):
                call("")
        with pytest.raises(ValueError):
            c.start_tool_task("report", ttl=-1)
        with pytest.raises(ValueError):
            c.task_status("x", timeout=0)
        with pytest.raises(TypeError):
            c.start_tool_task("report", [1])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            c.start_tool_task("report", {"ms": float("nan")})
        # A tool listed as `forbidden` never runs as a task.
        c.list_tools()
        with pytest.raises(mcp_client.InvalidArgumentError):
            c.start_tool_task("quick")
        # Arguments the tool refuses fail the call, not a task.
        with pytest.raises(mcp_client.RpcError):
            c.start_tool_task("convert", {"text": 1})
        assert c.list_tasks() == []
    # A server without tasks.
    with Client(server_url) as c:
        with pytest.raises(mcp_client.InvalidArgumentError):
            c.start_tool_task("echo", {"text": "x"})
    c = Client(tasks_server.url, connect=False)
    with pytest.raises(mcp_client.ClosedError):
        c.list_tasks()
    c.close()


def test_from_dict() -> None:
    t = Task.from_dict({"taskId": "a", "status": "paused", "ttl": None, "extra": 1})
    assert t.status == "unknown" and not t.is_terminal
    assert t.ttl is None and t.poll_interval is None and t.status_message is None
    assert t.created_at == "" and t.raw["extra"] == 1
    assert Task.from_dict({"taskId": "a", "status": "failed"}).is_terminal
    assert "raw" not in repr(t)


def test_ctrl_c_interrupts_the_wait_and_leaves_the_task(tasks_server: Server) -> None:
    import subprocess
    import sys

    script = f"""
import os, signal, threading, time
from mcp_client import Client
c = Client({tasks_server.url!r})
task = c.start_tool_task("report", {{"ms": 10000}})
# Python's own Ctrl-C handler, also when started from a background job (which inherits
# SIGINT ignored, and Python then installs no handler).
signal.signal(signal.SIGINT, signal.default_int_handler)
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t0 = time.monotonic()
try:
    c.task_result(task.task_id)
except KeyboardInterrupt:
    print("interrupted after", round(time.monotonic() - t0, 1))
print("status", c.task_status(task.task_id).status)
c.cancel_task(task.task_id)
c.close()
"""
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "interrupted after" in out.stdout
    assert "status working" in out.stdout
    assert time.monotonic() - t0 < 8


# ---- AsyncClient ---------------------------------------------------------------------------


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_async_tasks(tasks_server: Server) -> None:
    async def main() -> None:
        async with AsyncClient(tasks_server.url) as c:
            task = await c.start_tool_task("report", {"ms": 200}, ttl=30)
            assert task.status == "working" and task.ttl == 30.0
            assert (await c.task_status(task.task_id)).task_id == task.task_id
            assert task.task_id in {t.task_id for t in await c.list_tasks()}
            r = await c.task_result(task.task_id)
            assert r["content"][0]["text"] == "report ready after 200 ms"
            assert (await c.task_status(task.task_id)).status == "completed"

            # Many waits at once.
            started = await asyncio.gather(*(c.start_tool_task("report", {"ms": i * 10}) for i in range(8)))
            results = await asyncio.gather(*(c.task_result(t.task_id) for t in started))
            assert [x["content"][0]["text"] for x in results] == [
                f"report ready after {i * 10} ms" for i in range(8)
            ]

            long = await c.start_tool_task("report", {"ms": 10_000})
            cancelled = await c.cancel_task(long.task_id)
            assert cancelled.status == "cancelled"
            with pytest.raises(mcp_client.RpcError) as info:
                await c.task_result(long.task_id)
            assert info.value.code == -32800

            failing = await c.start_tool_task("crash", {"rpc": True})
            with pytest.raises(mcp_client.RpcError) as info:
                await c.task_result(failing.task_id)
            assert info.value.code == -32603

            with pytest.raises(mcp_client.RpcError) as info:
                await c.task_status("no-such-task")
            assert info.value.code == -32602
            with pytest.raises(mcp_client.InvalidArgumentError):
                await c.task_result("")
            with pytest.raises(mcp_client.TimeoutError):
                await c.task_result((await c.start_tool_task("report", {"ms": 5000})).task_id, timeout=0.2)

    run(main())


def test_async_input_required_with_a_coroutine_handler(tasks_server: Server) -> None:
    loops: List[Any] = []

    async def elicit(params: Dict[str, Any]) -> Dict[str, Any]:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return {"action": "accept", "content": {"ok": False}}

    async def main() -> None:
        async with AsyncClient(tasks_server.url, on_elicitation=elicit) as c:
            task = await c.start_tool_task("confirm", {"message": "Sure?"})
            r = await c.task_result(task.task_id)
            assert '"ok":false' in r["content"][0]["text"]
            assert loops and all(lp is asyncio.get_running_loop() for lp in loops)

    run(main())


def test_cancelling_the_awaiting_task_stops_the_wait_not_the_task(tasks_server: Server) -> None:
    async def main() -> None:
        async with AsyncClient(tasks_server.url) as c:
            task = await c.start_tool_task("report", {"ms": 10_000})
            waiting = asyncio.ensure_future(c.task_result(task.task_id))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert time.monotonic() - t0 < 1
            # The task goes on, and the client too.
            assert (await c.task_status(task.task_id)).status == "working"
            assert (await c.cancel_task(task.task_id)).status == "cancelled"
            await c.ping()

    run(main())

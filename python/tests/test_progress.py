"""Progress tokens: `progress_token=` on `call`, `call_tool` and `start_tool_task` (both clients)
is sent as the request's `_meta.progressToken`, and the server's `notifications/progress`
carrying it arrive at the `on_notification` handler.

The test server's task tool `report` (with `--tasks`) sends four progress notifications for a
token (progress 1..4, total 4, "step N of 4"), until the task ends; the plain tool `notify`
sends one (1 of 1). The server's request log is not exposed to these tests (`conftest.Server`
runs it with `--no-record`, and `/debug` has no route for it), so what the server received is
read from what it sent back: the notifications carry the token it got."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Dict, List

import pytest

import mcp_client
from mcp_client import AsyncClient, Client

from conftest import Server

PROGRESS = "notifications/progress"


@pytest.fixture
def tasks_server(start_server: Callable[..., Server]) -> Server:
    return start_server("--tasks")


class Progress:
    """An `on_notification` handler keeping the progress notifications (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: List[Dict[str, Any]] = []
        self.others: List[str] = []

    def __call__(self, method: str, params: Any) -> None:
        with self._lock:
            if method == PROGRESS:
                self._seen.append(params)
            else:
                self.others.append(method)

    def seen(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._seen)

    def wait(self, n: int, timeout: float = 10.0) -> List[Dict[str, Any]]:
        """At least `n` notifications (fewer if they did not come in time)."""
        deadline = time.monotonic() + timeout
        while len(self.seen()) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.seen()

    async def wait_async(self, n: int, timeout: float = 10.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.seen()) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return self.seen()


def assert_report_steps(seen: List[Dict[str, Any]], token: Any) -> None:
    """The four notifications of `report`, in order, all carrying `token` (same type too)."""
    assert [p["progressToken"] for p in seen] == [token] * 4
    assert all(type(p["progressToken"]) is type(token) for p in seen)
    assert [p["progress"] for p in seen] == [1, 2, 3, 4]
    assert [p["total"] for p in seen] == [4] * 4
    assert [p["message"] for p in seen] == [f"step {n} of 4" for n in range(1, 5)]


def test_a_task_reports_progress_with_its_token(tasks_server: Server) -> None:
    progress = Progress()
    with Client(tasks_server.url, on_notification=progress) as c:
        task = c.start_tool_task("report", {"ms": 200}, progress_token="report-1")
        r = c.task_result(task.task_id)
        assert r["content"][0]["text"] == "report ready after 200 ms"
        assert_report_steps(progress.wait(4), "report-1")


def test_call_tool_of_a_task_tool_reports_progress(tasks_server: Server) -> None:
    # `report` requires a task: call_tool runs it as one, the token on the creating request.
    progress = Progress()
    with Client(tasks_server.url, on_notification=progress) as c:
        r = c.call_tool("report", {"ms": 100}, progress_token=2**63 - 1)
        assert r["content"][0]["text"] == "report ready after 100 ms"
        assert_report_steps(progress.wait(4), 2**63 - 1)
        # The same call without a token: no progress.
        c.call_tool("report", {"ms": 40})
        time.sleep(0.2)
        assert len(progress.seen()) == 4


def test_an_int_token_on_a_plain_tool(server_url: str) -> None:
    progress = Progress()
    with Client(server_url, on_notification=progress) as c:
        assert c.call_tool("notify", {"text": "n"}, progress_token=7)["content"][0]["text"] == "notified"
        seen = progress.wait(1)
        assert seen == [{"progressToken": 7, "progress": 1, "total": 1}]
        # A negative int, an empty str, and the raw `call` with other `_meta` kept beside it.
        c.call_tool("notify", {"text": "n"}, progress_token=-(2**63))
        c.call_tool("notify", {"text": "n"}, progress_token="")
        c.call(
            "tools/call",
            {"name": "notify", "arguments": {"text": "n"}, "_meta": {"example.com/k": "v"}},
            progress_token="raw",
        )
        tokens = [p["progressToken"] for p in progress.wait(4)]
        assert tokens == [7, -(2**63), "", "raw"]
        # Without a token, the tool sends no progress.
        c.call_tool("notify", {"text": "n"})
        c.ping()
        time.sleep(0.1)
        assert len(progress.seen()) == 4
        # `_meta` that is not an object cannot take the token.
        with pytest.raises(mcp_client.InvalidArgumentError):
            c.call("tools/call", {"name": "notify", "arguments": {"text": "n"}, "_meta": 1}, progress_token=1)


def test_async_client_progress(tasks_server: Server) -> None:
    async def main() -> None:
        progress = Progress()
        async with AsyncClient(tasks_server.url, on_notification=progress) as c:
            task = await c.start_tool_task("report", {"ms": 100}, progress_token="async-task")
            await c.task_result(task.task_id)
            assert_report_steps(await progress.wait_async(4), "async-task")

        progress = Progress()
        async with AsyncClient(tasks_server.url, on_notification=progress) as c:
            await c.call_tool("report", {"ms": 100}, progress_token=41)
            assert_report_steps(await progress.wait_async(4), 41)

        progress = Progress()
        async with AsyncClient(tasks_server.url, on_notification=progress) as c:
            params = {"name": "report", "arguments": {"ms": 100}, "task": {}}
            created = await c.call("tools/call", params, progress_token="raw-task")
            await c.task_result(created["task"]["taskId"])
            assert_report_steps(await progress.wait_async(4), "raw-task")

    asyncio.run(main())


def test_async_handler_coroutine_gets_progress(server_url: str) -> None:
    async def main() -> None:
        seen: List[Dict[str, Any]] = []
        got = asyncio.Event()

        async def on_notification(method: str, params: Any) -> None:
            if method == PROGRESS:
                seen.append(params)
                got.set()

        async with AsyncClient(server_url, on_notification=on_notification) as c:
            await c.call_tool("notify", {"text": "n"}, progress_token="co")
            await asyncio.wait_for(got.wait(), 10)
        assert seen == [{"progressToken": "co", "progress": 1, "total": 1}]

    asyncio.run(main())


BAD_TYPES: List[Any] = [True, False, 1.5, b"x", ["t"], {"t": 1}, object()]
OUT_OF_RANGE: List[int] = [2**63, -(2**63) - 1, 2**100]


def test_bad_tokens(tasks_server: Server) -> None:
    progress = Progress()
    with Client(tasks_server.url, on_notification=progress) as c:
        calls: List[Callable[[Any], Any]] = [
            lambda t: c.call("ping", None, progress_token=t),
            lambda t: c.call_tool("notify", {"text": "n"}, progress_token=t),
            lambda t: c.start_tool_task("report", {"ms": 10}, progress_token=t),
        ]
        for call in calls:
            for bad in BAD_TYPES:
                with pytest.raises(TypeError, match="progress_token"):
                    call(bad)
            for big in OUT_OF_RANGE:
                with pytest.raises(mcp_client.InvalidArgumentError, match="64 bits"):
                    call(big)
        # Refused before anything was sent: no task, no progress; the client still works.
        assert c.list_tasks() == []
        assert progress.seen() == []
        assert c.call_tool("notify", {"text": "n"}, progress_token=None)["content"][0]["text"] == "notified"


def test_bad_tokens_async(tasks_server: Server) -> None:
    async def main() -> None:
        async with AsyncClient(tasks_server.url) as c:
            calls: List[Callable[[Any], Any]] = [
                lambda t: c.call("ping", None, progress_token=t),
                lambda t: c.call_tool("notify", {"text": "n"}, progress_token=t),
                lambda t: c.start_tool_task("report", {"ms": 10}, progress_token=t),
            ]
            for call in calls:
                for bad in BAD_TYPES:
                    with pytest.raises(TypeError, match="progress_token"):
                        await call(bad)
                for big in OUT_OF_RANGE:
                    with pytest.raises(mcp_client.InvalidArgumentError, match="64 bits"):
                        await call(big)
            assert await c.list_tasks() == []
            await c.ping()

    asyncio.run(main())

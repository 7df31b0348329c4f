"""The asyncio client: awaitables, many in flight, cancellation that reaches the server."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

import mcp_client
from mcp_client import AsyncClient, OAuth

from conftest import Server, visit


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_calls_and_context_manager(server_url: str) -> None:
    async def main() -> None:
        async with AsyncClient(server_url) as c:
            assert c.protocol_version
            assert {"echo", "add"} <= {t["name"] for t in await c.list_tools()}
            r = await c.call_tool("add", {"a": 2, "b": 40})
            assert r["content"][0]["text"] == "42"
            assert (await c.read_resource("test://hello"))["contents"][0]["text"]
            assert any(p["name"] == "greet" for p in await c.list_prompts())
            assert (await c.get_prompt("greet", {"name": "Bo"}))["messages"]
            assert await c.list_resources()
            await c.ping()

    run(main())


def test_256_tasks_on_one_client(server_url: str) -> None:
    async def main() -> None:
        async with AsyncClient(server_url) as c:
            results = await asyncio.gather(
                *(c.call_tool("add", {"a": i, "b": 1}) for i in range(256))
            )
            assert [r["content"][0]["text"] for r in results] == [str(i + 1) for i in range(256)]

    run(main())


def test_cancelling_the_task_cancels_the_call_and_tells_the_server(
    start_server: Callable[..., Server],
) -> None:
    srv = start_server()

    async def main() -> None:
        async with AsyncClient(srv.url) as c:
            task = asyncio.ensure_future(c.call_tool("slow", {"ms": 5000}))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - t0 < 1
            # The client goes on.
            assert (await c.call_tool("echo", {"text": "on"}))["content"][0]["text"] == "on"
            for _ in range(50):
                if srv.debug("cancelled"):
                    break
                await asyncio.sleep(0.05)

    run(main())
    assert len(srv.debug("cancelled")) == 1


def test_timeouts_and_rpc_errors(server_url: str) -> None:
    async def main() -> None:
        async with AsyncClient(server_url) as c:
            with pytest.raises(TimeoutError):
                await c.call_tool("slow", {"ms": 3000}, timeout=0.2)
            with pytest.raises(mcp_client.RpcError) as info:
                await c.call("no/such/method")
            assert info.value.code == -32601

    run(main())


def test_closed_and_unconnected_clients(server_url: str) -> None:
    async def main() -> None:
        c = AsyncClient(server_url)
        with pytest.raises(mcp_client.ClosedError):
            await c.ping()
        await c.connect()
        await c.ping()
        await c.close()
        await c.close()
        with pytest.raises(mcp_client.ClosedError):
            await c.ping()
        with pytest.raises(mcp_client.ClosedError):
            await c.connect()

    run(main())


def test_unreachable_server_and_bad_arguments() -> None:
    async def main() -> None:
        with pytest.raises(mcp_client.TransportError):
            async with AsyncClient("http://127.0.0.1:9/mcp", timeout=2):
                pass
        with pytest.raises(TypeError):
            AsyncClient(42)  # type: ignore[arg-type]

    run(main())


def test_async_presenter_handlers_and_events(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    presented: List[str] = []
    events: List[Dict[str, Any]] = []
    loops: List[Any] = []

    async def presenter(url: str, redirect_uri: str) -> Optional[str]:
        loops.append(asyncio.get_running_loop())
        presented.append(url)
        visit(url)
        return None

    async def on_event(e: Dict[str, Any]) -> None:
        events.append(e)

    async def elicit(params: Dict[str, Any]) -> Dict[str, Any]:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return {"action": "accept", "content": {"name": "Grace"}}

    async def main() -> None:
        oauth = OAuth(presenter=presenter, store="memory", on_event=on_event)
        async with AsyncClient(srv.url, oauth=oauth, on_elicitation=elicit) as c:
            r = await c.call_tool("ask", {"message": "who?"})
            text = r["content"][0]["text"]
            assert "Grace" in text and "36" in text, text  # the schema's defaults filled in
            assert c.auth_status()["has_token"]
            assert all(lp is asyncio.get_running_loop() for lp in loops)

    run(main())
    assert len(presented) == 1
    assert "signed_in" in [e["event"] for e in events]


def test_two_step_and_logout_async(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a: Any, **k: Any) -> None:
            return None

    async def main() -> None:
        c = AsyncClient(srv.url, oauth=OAuth(store="memory", interactive=False))
        url = await c.begin_authorization("http://127.0.0.1:9/cb")
        try:
            urllib.request.build_opener(NoRedirect).open(url, timeout=10)
        except urllib.error.HTTPError as e:
            location = e.headers["Location"]
            e.close()
        await c.complete_authorization(location)
        async with c:
            await c.ping()
            await c.logout()
            assert not c.auth_status()["has_token"]

    run(main())
    assert srv.debug("auth-stats")["revocations"] >= 1


def test_one_event_loop_after_another_leaves_no_descriptor_open(server_url: str) -> None:
    import gc
    import os

    async def once() -> None:
        async with AsyncClient(server_url) as c:
            await c.ping()

    run(once())
    gc.collect()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        run(once())
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before

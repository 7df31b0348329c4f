"""Server requests and notifications answered by Python callables, plain or async."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

import pytest

import mcp_client
from mcp_client import Client


def test_sync_handlers(server_url: str) -> None:
    notes: List[Any] = []
    got = threading.Event()

    def on_notification(method: str, params: Dict[str, Any]) -> None:
        notes.append((method, params))
        got.set()

    with Client(
        server_url,
        on_elicitation=lambda p: {"action": "accept", "content": {"name": "Lin", "age": 7}},
        on_sampling=lambda p: {
            "role": "assistant",
            "content": {"type": "text", "text": "sampled:" + p["messages"][0]["content"]["text"]},
            "model": "py",
        },
        on_roots=lambda p: [{"uri": "file:///work", "name": "work"}],
        on_notification=on_notification,
    ) as c:
        assert "Lin" in c.call_tool("ask", {"message": "who?"})["content"][0]["text"]
        assert "sampled:hi" in c.call_tool("sample", {"prompt": "hi"})["content"][0]["text"]
        assert "file:///work" in c.call_tool("list_roots")["content"][0]["text"]
        c.call_tool("notify", {"text": "note"})
        assert got.wait(5)
    assert any(m == "notifications/message" and p["data"] == "note" for m, p in notes)


def test_async_handlers_with_the_blocking_client(server_url: str) -> None:
    async def elicit(p: Dict[str, Any]) -> Dict[str, Any]:
        await asyncio.sleep(0.01)
        return {"action": "decline"}

    with Client(server_url, on_elicitation=elicit) as c:
        assert "decline" in c.call_tool("ask", {"message": "?"})["content"][0]["text"]


def test_a_handler_that_raises(server_url: str, caplog: pytest.LogCaptureFixture) -> None:
    def boom(p: Dict[str, Any]) -> Dict[str, Any]:
        raise KeyError("secret detail")

    def refuse(p: Dict[str, Any]) -> Dict[str, Any]:
        raise mcp_client.RpcError("no roots here", code=-32602)

    with caplog.at_level("ERROR", logger="mcp_client"):
        with Client(server_url, on_elicitation=boom, on_roots=refuse) as c:
            r = c.call_tool("ask", {"message": "?"})
            text = str(r)
            assert "secret detail" not in text  # the server never sees the exception's text
            r2 = c.call_tool("list_roots")
            assert "no roots here" in str(r2)
    assert any(r.exc_info and isinstance(r.exc_info[1], KeyError) for r in caplog.records)


def test_a_notification_handler_that_raises_is_logged(
    server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    done = threading.Event()

    def bad(method: str, params: Any) -> None:
        done.set()
        raise RuntimeError("handler bug")

    with caplog.at_level("ERROR", logger="mcp_client"):
        with Client(server_url, on_notification=bad) as c:
            c.call_tool("notify", {"text": "x"})
            assert done.wait(5)
            c.ping()
    for _ in range(50):
        if any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records):
            break
        threading.Event().wait(0.05)
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records)


def test_handlers_must_be_callable(server_url: str) -> None:
    with pytest.raises(TypeError):
        Client(server_url, on_elicitation="yes")  # type: ignore[arg-type]

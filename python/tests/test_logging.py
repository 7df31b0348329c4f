"""The core's log records reach Python's logging, with no secret in them."""

from __future__ import annotations

import logging
from typing import Callable, List

import pytest

from mcp_client import Client, OAuth

from conftest import Browser, DictStore, Server


def test_records_at_every_level_hold_no_token(
    start_server: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    srv = start_server("--oauth")
    store = DictStore()
    with caplog.at_level(1, logger="mcp_client"):
        with Client(srv.url, oauth=OAuth(presenter=Browser(), store=store)) as c:
            c.call_tool("echo", {"text": "x"})
            srv.debug("expire-tokens", "POST")
            c.call_tool("echo", {"text": "y"})
    records: List[logging.LogRecord] = [r for r in caplog.records if r.name.startswith("mcp_client")]
    assert len(records) > 5, "the core's debug records arrive"
    import json

    entry = json.loads(next(iter(store.entries.values())))
    secrets = [
        v
        for k, v in _flatten(entry)
        if k.endswith(("access_token", "refresh_token")) and isinstance(v, str) and len(v) > 8
    ]
    assert secrets, entry.keys()
    text = "\n".join(r.getMessage() for r in records)
    for s in secrets:
        assert s not in text


def _flatten(d: object, prefix: str = "") -> List[tuple]:
    out: List[tuple] = []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _flatten(v, f"{prefix}.{k}")
    elif isinstance(d, list):
        for v in d:
            out += _flatten(v, prefix)
    else:
        out.append((prefix, d))
    return out

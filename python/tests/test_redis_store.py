"""The Redis credential store through the Python package: hosts sharing one real redis-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Callable, Iterator, Optional

import pytest

import mcp_client
from mcp_client import Client, OAuth

from conftest import Server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server on a free loopback port for this test (skipped without one, unless
    MCP_REDIS_TESTS=1 requires it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("MCP_REDIS_TESTS") == "1":
            pytest.fail("MCP_REDIS_TESTS=1: redis-server is required")
        pytest.skip("redis-server not found (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = tempfile.mkdtemp(prefix="mcp-client-py-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", d, "--logfile", os.path.join(d, "redis.log")],
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def refuse(url: str, redirect_uri: str) -> Optional[str]:
    raise AssertionError("no sign-in expected")


def test_hosts_share_one_credential_in_redis(
    start_server: Callable[..., Server], redis_url: str
) -> None:
    srv = start_server("--oauth")
    store = f"{redis_url}?prefix=py-test"
    with Client(srv.url, oauth=OAuth(presenter="headless", store=store)) as c:
        assert c.call_tool("echo", {"text": "first"})["content"][0]["text"] == "first"
    # Another host starts warm from Redis: its presenter would fail the test.
    with Client(srv.url, oauth=OAuth(presenter=refuse, store=store)) as c:
        assert c.call_tool("echo", {"text": "warm"})["content"][0]["text"] == "warm"
        assert c.auth_status()["has_token"]
    assert srv.debug("auth-stats")["authorize_requests"] == 1


def test_a_bad_redis_url_is_refused_without_its_password(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    with pytest.raises(mcp_client.InvalidArgumentError) as info:
        Client(srv.url, oauth=OAuth(presenter="headless", store="redis://u:hunter2@h:1/0?lease_ms=often"))
    assert "lease_ms" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_redis_down_is_an_auth_error_naming_the_store(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    with pytest.raises(mcp_client.AuthError) as info:
        Client(srv.url, oauth=OAuth(presenter=refuse, store="redis://127.0.0.1:1/0?timeout_ms=500"))
    assert "redis://127.0.0.1:1/0" in str(info.value)
    assert "unavailable" in str(info.value)
    assert srv.debug("auth-stats")["authorize_requests"] == 0

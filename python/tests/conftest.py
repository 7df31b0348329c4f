"""Fixtures: the project's test server as a real process on 127.0.0.1 (an ephemeral port)."""

from __future__ import annotations

import os
import subprocess
from typing import Iterator

import pytest


def server_binary() -> str:
    path = os.environ.get("MCP_TEST_SERVER")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "target", "debug", "mcp-test-server")
    if not os.path.exists(path):
        pytest.fail(f"the test server is missing at {path}: run `cargo build -p mcp-test-server`")
    return path


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen([server_binary(), "--no-record"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    try:
        yield url
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.fixture
def stdio_command() -> str:
    return f"{server_binary()} --stdio"

"""Fixtures: the project's test server as a real process on 127.0.0.1 (an ephemeral port)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest


def server_binary() -> str:
    path = os.environ.get("MCP_TEST_SERVER")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "target", "debug", "mcp-test-server")
    if not os.path.exists(path):
        pytest.fail(f"the test server is missing at {path}: run `cargo build -p mcp-test-server`")
    return path


class Server:
    """A running test server: its MCP URL and its `/debug` routes."""

    def __init__(self, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [server_binary(), "--no-record", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url
        self.origin = self.url.rsplit("/", 1)[0]

    def debug(self, what: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"{self.origin}/debug/{what}", method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    s = Server()
    try:
        yield s.url
    finally:
        s.stop()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Start servers with the given flags; all stopped after the test."""
    started: List[Server] = []

    def start(*flags: str) -> Server:
        s = Server(*flags)
        started.append(s)
        return s

    try:
        yield start
    finally:
        for s in started:
            s.stop()


@pytest.fixture
def stdio_command() -> str:
    return f"{server_binary()} --stdio"


def visit(url: str) -> None:
    """What a browser does with an authorization URL the server approves at once: follow the
    redirects, to the loopback listener in the end (off the calling thread, since the
    listener answers only once the presenter has returned)."""

    def go() -> None:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()

    threading.Thread(target=go, daemon=True).start()


class Browser:
    """A presenter that plays the user's browser, counting sign-ins."""

    def __init__(self) -> None:
        self.urls: List[str] = []

    def __call__(self, url: str, redirect_uri: str) -> Optional[str]:
        assert redirect_uri.startswith("http://127.0.0.1:")
        self.urls.append(url)
        visit(url)
        return None


class DictStore:
    """A credential store in a dict, as a host would write one."""

    def __init__(self) -> None:
        self.entries: Dict[str, str] = {}
        self.calls: List[str] = []

    def load(self, key: str) -> Optional[str]:
        self.calls.append("load")
        return self.entries.get(key)

    def save(self, key: str, value: str) -> None:
        self.calls.append("save")
        self.entries[key] = value

    def delete(self, key: str) -> None:
        self.calls.append("delete")
        self.entries.pop(key, None)

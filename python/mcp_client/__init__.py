"""mcp_client: a Model Context Protocol client with complete OAuth 2.1 sign-in, on a Rust core.

    from mcp_client import Client

    with Client("http://127.0.0.1:8000/mcp") as c:
        print(c.call_tool("add", {"a": 1, "b": 2}))
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from . import errors
from ._native import NativeClient
from .errors import (
    AuthError,
    CancelledError,
    ClosedError,
    InvalidArgumentError,
    McpError,
    ProtocolError,
    RpcError,
    TimeoutError,
    TransportError,
)

__all__ = ["Client", "errors", *errors.__all__]


class Client:
    """A blocking client. Calls release the GIL, so many threads can share one client.

    Give `url` (Streamable HTTP, else the legacy HTTP+SSE transport) or `command` (a stdio
    server's command line). `timeout` is the default per-call timeout in seconds.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        command: Optional[str] = None,
        bearer: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> None:
        pairs = list((headers or {}).items())
        self._native = NativeClient(
            url, command=command, bearer=bearer, headers=pairs, timeout=timeout
        )

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def protocol_version(self) -> str:
        """The protocol version negotiated with the server."""
        return self._native.protocol_version()

    def call(
        self, method: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None
    ) -> Any:
        """Send any request; the result as dicts and lists."""
        text = None if params is None else json.dumps(params)
        return json.loads(self._native.call(method, text, timeout))

    def call_tool(
        self, name: str, arguments: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Call a tool; the CallToolResult as a dict."""
        if arguments is not None and not isinstance(arguments, Mapping):
            raise TypeError(f"arguments must be a mapping, not {type(arguments).__name__}")
        return json.loads(self._native.call_tool(name, json.dumps(dict(arguments or {})), timeout))

    def list_tools(self, *, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """Every tool, following pagination."""
        return json.loads(self._native.list("tools", timeout))

    def list_resources(self, *, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """Every resource, following pagination."""
        return json.loads(self._native.list("resources", timeout))

    def list_prompts(self, *, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """Every prompt, following pagination."""
        return json.loads(self._native.list("prompts", timeout))

    def read_resource(self, uri: str, *, timeout: Optional[float] = None) -> Dict[str, Any]:
        """`resources/read`."""
        return self.call("resources/read", {"uri": uri}, timeout=timeout)

    def get_prompt(
        self, name: str, arguments: Optional[Mapping[str, str]] = None, *, timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """`prompts/get`."""
        params: Dict[str, Any] = {"name": name}
        if arguments:
            params["arguments"] = dict(arguments)
        return self.call("prompts/get", params, timeout=timeout)

    def ping(self, *, timeout: Optional[float] = None) -> None:
        """`ping`."""
        self.call("ping", None, timeout=timeout)

    def close(self) -> None:
        """End the session; later calls raise ClosedError. Idempotent."""
        self._native.close()

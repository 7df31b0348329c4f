"""The exceptions of mcp_client: one tree, rooted at McpError, carrying the server's fields."""

from __future__ import annotations

import builtins
import json
from typing import Any, Optional


class McpError(Exception):
    """Anything that went wrong in a call."""

    code: Optional[int] = None
    rpc_message: Optional[str] = None
    data_json: Optional[str] = None
    http_status: Optional[int] = None
    oauth_error: Optional[str] = None
    oauth_error_description: Optional[str] = None

    @property
    def data(self) -> Any:
        """The JSON-RPC error's `data` member, if any."""
        return None if self.data_json is None else json.loads(self.data_json)


class InvalidArgumentError(McpError, ValueError):
    """A configuration or an argument the library cannot use."""


class TransportError(McpError):
    """The server could not be reached, or the connection failed."""


class ProtocolError(McpError):
    """The server broke the HTTP, SSE or JSON-RPC contract."""


class RpcError(McpError):
    """The server answered with a JSON-RPC error: `code`, `rpc_message`, `data`.

    A request handler may raise one (`RpcError("no such root", code=-32602)`) to answer the
    server with that error; any other exception is answered with a generic internal error.
    """

    def __init__(self, message: str, code: Optional[int] = None, data: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
            self.rpc_message = message
        if data is not None:
            self.data_json = json.dumps(data)


class AuthError(McpError):
    """Authorization is needed or failed (`http_status`, `oauth_error`, ...)."""


class TimeoutError(McpError, builtins.TimeoutError):  # noqa: A001 (shadows on purpose)
    """The call timed out (also a built-in TimeoutError)."""


class CancelledError(McpError):
    """The call was cancelled."""


class ClosedError(McpError):
    """The client was closed."""


__all__ = [
    "McpError",
    "InvalidArgumentError",
    "TransportError",
    "ProtocolError",
    "RpcError",
    "AuthError",
    "TimeoutError",
    "CancelledError",
    "ClosedError",
]

"""mcp_client: a Model Context Protocol client with complete OAuth 2.1 sign-in, on a Rust core.

    from mcp_client import Client

    with Client("http://127.0.0.1:8000/mcp") as c:
        print(c.call_tool("add", {"a": 1, "b": 2}))

`AsyncClient` offers the same calls as awaitables; `OAuth(...)` signs in when the server asks.
Errors are the `McpError` tree of `mcp_client.errors`; results are dicts and lists shaped as
the TypedDicts of `mcp_client.types` (the tasks API's `Task` is a class of its own). The
core's log records go to the `mcp_client` logger.
"""

from __future__ import annotations

from . import errors, types
from ._aio import AsyncClient
from ._client import Client
from ._native import VERSION as __version__
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
from .oauth import CredentialStore, EnterpriseManaged, JwtBearer, OAuth
from .types import Task, TaskStatus

# Spelled out (not `+= errors.__all__`): mypy's stubtest reads this list literally.
__all__ = [
    "Client",
    "AsyncClient",
    "OAuth",
    "JwtBearer",
    "EnterpriseManaged",
    "CredentialStore",
    "Task",
    "TaskStatus",
    "errors",
    "types",
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

# Hand-written stub of the native module (python/src/*.rs, PyO3). Keep it exact to the
# `#[pyo3(signature = ...)]` attributes and argument types there: `mypy.stubtest` checks the
# names, parameter names, kinds and defaults against the built module (python/run-tests.sh).
# JSON crosses as text (`*_json` parameters, `str` results). Where Rust takes any object
# (`Py<PyAny>`), the type here is what the object must be used as. `builtins.list`: the classes
# have a method called `list`.

import asyncio
import builtins
import os
from typing import Any, Callable, Final, Mapping, Sequence, final

__all__ = ["NativeConfig", "NativeClient", "AsyncBridge", "Pending", "set_log_level", "flush_logs", "VERSION"]

#: The core's version (`mcp::VERSION`).
VERSION: Final[str]

def set_log_level(level: int) -> None:
    """Forward events at `level` (a `logging` level number, 0..=255) and above."""

def flush_logs(timeout: float = 1.0) -> None:
    """Wait (GIL released, at most `timeout` seconds) until every record emitted so far has
    reached `logging`."""

@final
class NativeConfig:
    """The configuration of one client; used up by the `NativeClient` made of it."""

    def __new__(
        cls,
        url: str | None = None,
        *,
        command: str | None = None,
        bearer: str | None = None,
        headers: Sequence[tuple[str, str]] | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        protocol_version: str | None = None,
        client_name: str | None = None,
        client_version: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        # `elicitation`, `sampling`, `roots`, `request`: (method, params_json) -> result_json.
        handlers: dict[str, Callable[[str, str], str]] | None = None,
        # (method, params_json) -> None, on the library's dispatch thread.
        on_notification: Callable[[str, str], object] | None = None,
        # The dict of `OAuth._native()`.
        oauth: dict[str, Any] | None = None,
    ) -> NativeConfig: ...

@final
class NativeClient:
    """A client (blocking calls, GIL released); not connected until `connect`."""

    def __new__(cls, config: NativeConfig) -> NativeClient: ...
    def connect(self, /, timeout: float | None = None) -> None: ...
    # Params, arguments and results cross as Python objects (converted to and from JSON in Rust).
    # `progress_token`: sent as `_meta.progressToken` (a bool, another type: TypeError; an int
    # beyond 64 bits: InvalidArgumentError).
    def call(
        self,
        /,
        method: str,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        progress_token: str | int | None = None,
    ) -> Any: ...
    def call_tool(
        self,
        /,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        progress_token: str | int | None = None,
    ) -> Any: ...
    def list(self, /, kind: str, timeout: float | None = None) -> builtins.list[Any]: ...
    # Tasks: `ttl` in seconds; a task crosses as its protocol dict (camelCase keys, milliseconds).
    def start_tool_task(
        self,
        /,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        timeout: float | None = None,
        progress_token: str | int | None = None,
    ) -> dict[str, Any]: ...
    def task_status(self, /, task_id: str, timeout: float | None = None) -> dict[str, Any]: ...
    def task_result(self, /, task_id: str, timeout: float | None = None) -> Any: ...
    def cancel_task(self, /, task_id: str, timeout: float | None = None) -> dict[str, Any]: ...
    def list_tasks(self, /, timeout: float | None = None) -> builtins.list[dict[str, Any]]: ...
    def protocol_version(self, /) -> str: ...
    def server_info(self, /) -> dict[str, Any]: ...
    def authorize(self, /, timeout: float | None = None) -> None: ...
    def begin_authorization(self, /, redirect_uri: str, timeout: float | None = None) -> str: ...
    def complete_authorization(self, /, redirect_url: str, timeout: float | None = None) -> None: ...
    def logout(self, /, timeout: float | None = None) -> None: ...
    def auth_status(self, /) -> dict[str, Any]: ...
    def close(self, /) -> None: ...

@final
class Pending:
    """A call in flight (made by `AsyncBridge` only; not constructible)."""

    def cancel(self, /) -> None: ...

@final
class AsyncBridge:
    """The bridge of one event loop: each call settles `fut` (an asyncio future of that loop)
    through `drain`, after a byte written to `write_fd` wakes the loop (which watches
    `read_fd`). The bridge owns both descriptors and closes them."""

    def __new__(cls, read_fd: int, write_fd: int) -> AsyncBridge: ...
    # `(fut, ok, value)`: `value` is the result (Python objects, a str or None) when `ok`, else
    # the exception.
    def drain(self, /) -> builtins.list[tuple[asyncio.Future[Any], bool, Any]]: ...
    def connect(self, /, client: NativeClient, fut: asyncio.Future[Any], timeout: float | None = None) -> Pending: ...
    def call(
        self,
        /,
        client: NativeClient,
        fut: asyncio.Future[Any],
        method: str,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        progress_token: str | int | None = None,
    ) -> Pending: ...
    def call_tool(
        self,
        /,
        client: NativeClient,
        fut: asyncio.Future[Any],
        name: str,
        arguments: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        progress_token: str | int | None = None,
    ) -> Pending: ...
    def list(self, /, client: NativeClient, fut: asyncio.Future[Any], kind: str, timeout: float | None = None) -> Pending: ...
    def start_tool_task(
        self,
        /,
        client: NativeClient,
        fut: asyncio.Future[Any],
        name: str,
        arguments: Mapping[str, Any] | None = None,
        ttl: float | None = None,
        timeout: float | None = None,
        progress_token: str | int | None = None,
    ) -> Pending: ...
    def task_status(
        self, /, client: NativeClient, fut: asyncio.Future[Any], task_id: str, timeout: float | None = None
    ) -> Pending: ...
    def task_result(
        self, /, client: NativeClient, fut: asyncio.Future[Any], task_id: str, timeout: float | None = None
    ) -> Pending: ...
    def cancel_task(
        self, /, client: NativeClient, fut: asyncio.Future[Any], task_id: str, timeout: float | None = None
    ) -> Pending: ...
    def list_tasks(self, /, client: NativeClient, fut: asyncio.Future[Any], timeout: float | None = None) -> Pending: ...
    def authorize(self, /, client: NativeClient, fut: asyncio.Future[Any], timeout: float | None = None) -> Pending: ...
    def begin_authorization(
        self, /, client: NativeClient, fut: asyncio.Future[Any], redirect_uri: str, timeout: float | None = None
    ) -> Pending: ...
    def complete_authorization(
        self, /, client: NativeClient, fut: asyncio.Future[Any], redirect_url: str, timeout: float | None = None
    ) -> Pending: ...
    def logout(self, /, client: NativeClient, fut: asyncio.Future[Any], timeout: float | None = None) -> Pending: ...
    def close(self, /, client: NativeClient, fut: asyncio.Future[Any]) -> Pending: ...

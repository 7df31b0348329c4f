"""The asyncio client: the same calls as `Client`, as awaitables.

Each call runs on the library's runtime; its outcome comes back to the event loop through one
pipe per loop (`_Bridge`): the loop is woken once for any number of finished calls. Cancelling
the awaiting task cancels the call, and the server is told.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union, cast

from . import _native
from ._config import MaybeAwaitable, make_config
from .oauth import OAuth
from .types import (
    AuthStatus,
    CallToolResult,
    GetPromptResult,
    Prompt,
    ReadResourceResult,
    Resource,
    Task,
    Tool,
)

_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bridge]" = weakref.WeakKeyDictionary()


class _Bridge:
    """Settles the futures of one event loop (see the module docs)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        # The native bridge owns both descriptors from here on: it closes them when the last
        # call in flight is done with them, never before.
        self.native = _native.AsyncBridge(read, write)
        self._read = read
        # No reference to the loop: this bridge is the value of a weak-keyed map on the loop.
        loop.add_reader(read, self._drain)

    def _drain(self) -> None:
        try:
            os.read(self._read, 4096)
        except BlockingIOError:
            pass
        for fut, ok, value in self.native.drain():
            if fut.done():
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)



async def _wait(fut: "asyncio.Future[Any]", pending: _native.Pending) -> Any:
    """The call's outcome; cancelling the awaiting task cancels the call (the server is told)."""
    try:
        return await fut
    except asyncio.CancelledError:
        pending.cancel()
        raise


def _loop_or_none() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _bridge() -> _Bridge:
    loop = asyncio.get_running_loop()
    b = _bridges.get(loop)
    if b is None:
        b = _Bridge(loop)
        _bridges[loop] = b
    return b


class AsyncClient:
    """An asyncio MCP client: `async with AsyncClient(url) as c:`, or `await c.connect()`
    and `await c.close()`. The arguments are those of `Client`. Make it inside the event loop
    it is used on: handlers and presenters may be coroutine functions, and they run there."""

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        command: Optional[str] = None,
        bearer: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        oauth: Optional[OAuth] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        protocol_version: Optional[str] = None,
        client_name: Optional[str] = None,
        client_version: Optional[str] = None,
        ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
        on_notification: Optional[Callable[[str, Any], MaybeAwaitable]] = None,
        on_elicitation: Optional[Callable[[Dict[str, Any]], MaybeAwaitable]] = None,
        on_sampling: Optional[Callable[[Dict[str, Any]], MaybeAwaitable]] = None,
        on_roots: Optional[Callable[[Dict[str, Any]], MaybeAwaitable]] = None,
        on_request: Optional[Callable[[str, Dict[str, Any]], MaybeAwaitable]] = None,
    ) -> None:
        config = make_config(
            url,
            command=command,
            bearer=bearer,
            headers=headers,
            oauth=oauth,
            timeout=timeout,
            connect_timeout=connect_timeout,
            protocol_version=protocol_version,
            client_name=client_name,
            client_version=client_version,
            ca_file=ca_file,
            on_notification=on_notification,
            on_elicitation=on_elicitation,
            on_sampling=on_sampling,
            on_roots=on_roots,
            on_request=on_request,
            loop=_loop_or_none(),
        )
        self._native = _native.NativeClient(config)
        self._timeout = timeout
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_bridge: Optional[_native.AsyncBridge] = None

    async def connect(self, *, timeout: Optional[float] = None) -> None:
        """Connect (nothing if connected already). `async with` connects too. Before it, the
        OAuth methods work: sign in first, or run the two-step sign-in."""
        b, fut = self._start()
        t = self._timeout if timeout is None else timeout
        await _wait(fut, b.connect(self._native, fut, t))

    async def __aenter__(self) -> "AsyncClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _start(self) -> "Tuple[_native.AsyncBridge, asyncio.Future[Any]]":
        """The bridge of the running loop (kept from the last call) and a new future."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._loop_bridge is None:
            self._loop_bridge = _bridge().native
            self._loop = loop
        return self._loop_bridge, loop.create_future()

    @property
    def protocol_version(self) -> str:
        """The protocol version negotiated with the server."""
        return self._native.protocol_version()

    @property
    def server_info(self) -> Dict[str, Any]:
        """The server's `initialize` result."""
        return self._native.server_info()

    async def call(
        self,
        method: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        progress_token: Optional[Union[str, int]] = None,
    ) -> Any:
        """Send any request; the result as dicts and lists. `progress_token` (a str, or an
        int within 64 bits) is sent as `_meta.progressToken`; the server's
        `notifications/progress` carrying it arrive at the `on_notification` handler (see
        `Client.call`)."""
        b, fut = self._start()
        pending = b.call(self._native, fut, method, params, timeout, progress_token)
        try:
            return await fut
        except asyncio.CancelledError:
            pending.cancel()
            raise

    async def call_tool(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        progress_token: Optional[Union[str, int]] = None,
    ) -> CallToolResult:
        """Call a tool; its result (a tool's own failure is `isError`, not an exception).
        `progress_token` asks for progress: the server's `notifications/progress` carrying
        it arrive at the `on_notification` handler (see `Client.call_tool`)."""
        b, fut = self._start()
        pending = b.call_tool(self._native, fut, name, arguments, timeout, progress_token)
        try:
            return cast(CallToolResult, await fut)
        except asyncio.CancelledError:
            pending.cancel()
            raise

    async def _list(self, kind: str, timeout: Optional[float]) -> Any:
        b, fut = self._start()
        return await _wait(fut, b.list(self._native, fut, kind, timeout))

    async def list_tools(self, *, timeout: Optional[float] = None) -> List[Tool]:
        """Every tool, following pagination."""
        return cast(List[Tool], await self._list("tools", timeout))

    async def list_resources(self, *, timeout: Optional[float] = None) -> List[Resource]:
        """Every resource, following pagination."""
        return cast(List[Resource], await self._list("resources", timeout))

    async def list_prompts(self, *, timeout: Optional[float] = None) -> List[Prompt]:
        """Every prompt, following pagination."""
        return cast(List[Prompt], await self._list("prompts", timeout))

    async def read_resource(self, uri: str, *, timeout: Optional[float] = None) -> ReadResourceResult:
        """`resources/read`."""
        return cast(ReadResourceResult, await self.call("resources/read", {"uri": uri}, timeout=timeout))

    async def get_prompt(
        self,
        name: str,
        arguments: Optional[Mapping[str, str]] = None,
        *,
        timeout: Optional[float] = None,
    ) -> GetPromptResult:
        """`prompts/get`."""
        params: Dict[str, Any] = {"name": name}
        if arguments:
            params["arguments"] = dict(arguments)
        return cast(GetPromptResult, await self.call("prompts/get", params, timeout=timeout))

    async def ping(self, *, timeout: Optional[float] = None) -> None:
        """`ping`."""
        await self.call("ping", None, timeout=timeout)

    async def start_tool_task(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        progress_token: Optional[Union[str, int]] = None,
    ) -> Task:
        """Tasks: start the tool as a task and return the created task before the tool is done;
        `ttl` in seconds. `progress_token` goes with the request that creates the task; the
        server's `notifications/progress` carrying it arrive at the `on_notification` handler
        until the task ends (see `Client.start_tool_task`)."""
        b, fut = self._start()
        pending = b.start_tool_task(self._native, fut, name, arguments, ttl, timeout, progress_token)
        return Task.from_dict(await _wait(fut, pending))

    async def task_status(self, task_id: str, *, timeout: Optional[float] = None) -> Task:
        """Tasks: the task's current state (`tasks/get`); does not wait."""
        b, fut = self._start()
        return Task.from_dict(await _wait(fut, b.task_status(self._native, fut, task_id, timeout)))

    async def task_result(self, task_id: str, *, timeout: Optional[float] = None) -> CallToolResult:
        """Tasks: wait for the task to end, then its result (see `Client.task_result`).
        `timeout` bounds the whole wait; cancelling the awaiting task stops the wait (an
        in-flight request is cancelled, and the server told) and leaves the task running."""
        b, fut = self._start()
        return cast(CallToolResult, await _wait(fut, b.task_result(self._native, fut, task_id, timeout)))

    async def cancel_task(self, task_id: str, *, timeout: Optional[float] = None) -> Task:
        """Tasks: cancel the task (`tasks/cancel`); the task in its new state (`cancelled`)."""
        b, fut = self._start()
        return Task.from_dict(await _wait(fut, b.cancel_task(self._native, fut, task_id, timeout)))

    async def list_tasks(self, *, timeout: Optional[float] = None) -> List[Task]:
        """Tasks: every task the server keeps for this client (`tasks/list`, all pages)."""
        b, fut = self._start()
        tasks = await _wait(fut, b.list_tasks(self._native, fut, timeout))
        return [Task.from_dict(t) for t in tasks]

    async def authorize(self, *, timeout: Optional[float] = None) -> None:
        """OAuth: sign in now (see `Client.authorize`)."""
        b, fut = self._start()
        await _wait(fut, b.authorize(self._native, fut, timeout))

    async def begin_authorization(self, redirect_uri: str, *, timeout: Optional[float] = None) -> str:
        """OAuth two-step, begin (see `Client.begin_authorization`)."""
        b, fut = self._start()
        return cast(str, await _wait(fut, b.begin_authorization(self._native, fut, redirect_uri, timeout)))

    async def complete_authorization(self, redirect_url: str, *, timeout: Optional[float] = None) -> None:
        """OAuth two-step, complete."""
        b, fut = self._start()
        await _wait(fut, b.complete_authorization(self._native, fut, redirect_url, timeout))

    async def logout(self, *, timeout: Optional[float] = None) -> None:
        """OAuth: revoke, forget and delete the stored tokens."""
        b, fut = self._start()
        await _wait(fut, b.logout(self._native, fut, timeout))

    def auth_status(self) -> AuthStatus:
        """OAuth: what the client holds now (no secrets)."""
        return cast(AuthStatus, self._native.auth_status())

    async def close(self) -> None:
        """End the session; later calls raise ClosedError. Idempotent."""
        b, fut = self._start()
        await _wait(fut, b.close(self._native, fut))

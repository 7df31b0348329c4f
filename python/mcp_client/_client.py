"""The blocking client."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Union, cast

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


class Client:
    """A blocking MCP client. Calls release the GIL, so many threads can share one client.

    Give `url` (Streamable HTTP, else the legacy HTTP+SSE transport) or `command` (a stdio
    server's command line). `timeout` is the default per-call timeout in seconds (and bounds
    connecting); each call takes its own too. The client connects when made, unless
    `connect=False`. Close it with `close()` or use it in a `with` block.
    """

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
        connect: bool = True,
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
        )
        self._native = _native.NativeClient(config)
        self._timeout = timeout
        if connect:
            self._native.connect(timeout)

    def connect(self, *, timeout: Optional[float] = None) -> None:
        """Connect, for a client made with `connect=False` (nothing if connected already).
        Before it, the OAuth methods work: sign in first, or run the two-step sign-in."""
        self._native.connect(self._timeout if timeout is None else timeout)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def protocol_version(self) -> str:
        """The protocol version negotiated with the server."""
        return self._native.protocol_version()

    @property
    def server_info(self) -> Dict[str, Any]:
        """The server's `initialize` result (capabilities, serverInfo, instructions)."""
        return self._native.server_info()

    def call(
        self,
        method: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        progress_token: Optional[Union[str, int]] = None,
    ) -> Any:
        """Send any request; the result as dicts and lists.

        `progress_token` (a str, or an int within 64 bits; not a bool) asks the server for
        progress: it is sent as the request's `_meta.progressToken` (beside any `_meta` in
        `params`), and the server's `notifications/progress` carrying it arrive at the
        `on_notification` handler as `("notifications/progress", {"progressToken": ...,
        "progress": ..., "total": ..., "message": ...})`. Give calls in flight at the same
        time tokens of their own."""
        return self._native.call(method, params, timeout, progress_token)

    def call_tool(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        progress_token: Optional[Union[str, int]] = None,
    ) -> CallToolResult:
        """Call a tool; its result (a tool's own failure is `isError`, not an exception).

        `progress_token` asks for progress (see `call`): the server's
        `notifications/progress` carrying it arrive at the `on_notification` handler. For a
        tool run as a task it goes on the request that creates the task (not on the polls),
        and the task's progress keeps coming until the task ends."""
        return cast(CallToolResult, self._native.call_tool(name, arguments, timeout, progress_token))

    def list_tools(self, *, timeout: Optional[float] = None) -> List[Tool]:
        """Every tool, following pagination."""
        return cast(List[Tool], self._native.list("tools", timeout))

    def list_resources(self, *, timeout: Optional[float] = None) -> List[Resource]:
        """Every resource, following pagination."""
        return cast(List[Resource], self._native.list("resources", timeout))

    def list_prompts(self, *, timeout: Optional[float] = None) -> List[Prompt]:
        """Every prompt, following pagination."""
        return cast(List[Prompt], self._native.list("prompts", timeout))

    def read_resource(self, uri: str, *, timeout: Optional[float] = None) -> ReadResourceResult:
        """`resources/read`."""
        return cast(ReadResourceResult, self.call("resources/read", {"uri": uri}, timeout=timeout))

    def get_prompt(
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
        return cast(GetPromptResult, self.call("prompts/get", params, timeout=timeout))

    def ping(self, *, timeout: Optional[float] = None) -> None:
        """`ping`."""
        self.call("ping", None, timeout=timeout)

    def start_tool_task(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        *,
        ttl: Optional[float] = None,
        timeout: Optional[float] = None,
        progress_token: Optional[Union[str, int]] = None,
    ) -> Task:
        """Tasks: start the tool `name` as a task and return at once with the created task
        (usually `working`), before the tool is done; follow it with `task_status`,
        `task_result` and `cancel_task`. `ttl` asks the server to keep the task that many
        seconds from its creation (None: the server's default; it may keep it for less).

        `progress_token` (a str, or an int within 64 bits) is sent with the request that
        creates the task; the server's `notifications/progress` carrying it arrive at the
        `on_notification` handler until the task ends (see `call`), whether or not a
        `task_result` is waiting.

        `InvalidArgumentError` when the server does not accept task-augmented tool calls, or
        the tool was listed (`list_tools`) as one that cannot run as a task. `call_tool` is
        simpler when only the result matters: it runs a tool that requires a task as one and
        waits for it."""
        return Task.from_dict(self._native.start_tool_task(name, arguments, ttl, timeout, progress_token))

    def task_status(self, task_id: str, *, timeout: Optional[float] = None) -> Task:
        """Tasks: the task's current state (`tasks/get`); does not wait. An unknown or expired
        task is the server's `RpcError` (code -32602)."""
        return Task.from_dict(self._native.task_status(task_id, timeout))

    def task_result(self, task_id: str, *, timeout: Optional[float] = None) -> CallToolResult:
        """Tasks: wait for the task to end, then its result: what `call_tool` would have
        returned (a tool's own failure is `isError`, not an exception). A task whose request
        failed raises that error (`RpcError`); so does a cancelled task (the server's error,
        e.g. code -32800).

        The wait polls `tasks/get` at the server's `pollInterval`; requests the server sends
        while the task is `input_required` reach the client's handlers (`on_elicitation`,
        `on_sampling`, ...). `timeout` bounds the whole wait: a wait that times out
        (`TimeoutError`) or is interrupted (Ctrl-C) leaves the task running (call again, or
        `cancel_task`)."""
        return cast(CallToolResult, self._native.task_result(task_id, timeout))

    def cancel_task(self, task_id: str, *, timeout: Optional[float] = None) -> Task:
        """Tasks: cancel the task (`tasks/cancel`); the task in its new state (`cancelled`).
        Cancelling a task that already ended is the server's `RpcError` (code -32602)."""
        return Task.from_dict(self._native.cancel_task(task_id, timeout))

    def list_tasks(self, *, timeout: Optional[float] = None) -> List[Task]:
        """Tasks: every task the server keeps for this client (`tasks/list`, following
        pagination)."""
        return [Task.from_dict(t) for t in self._native.list_tasks(timeout)]

    def authorize(self, *, timeout: Optional[float] = None) -> None:
        """OAuth: sign in now rather than when the server first asks (quick when a stored or
        refreshable token will do)."""
        self._native.authorize(timeout)

    def begin_authorization(self, redirect_uri: str, *, timeout: Optional[float] = None) -> str:
        """OAuth, for hosts that receive the redirect themselves: the URL to send the user to,
        who comes back to `redirect_uri`. Then call `complete_authorization`."""
        return self._native.begin_authorization(redirect_uri, timeout)

    def complete_authorization(self, redirect_url: str, *, timeout: Optional[float] = None) -> None:
        """OAuth: finish the sign-in with the full URL the browser was redirected to."""
        self._native.complete_authorization(redirect_url, timeout)

    def logout(self, *, timeout: Optional[float] = None) -> None:
        """OAuth: revoke the tokens (when the server supports it), forget them and delete the
        stored entry (locally even when revocation fails; that failure is then raised)."""
        self._native.logout(timeout)

    def auth_status(self) -> AuthStatus:
        """OAuth: what the client holds now (no secrets)."""
        return cast(AuthStatus, self._native.auth_status())

    def close(self) -> None:
        """End the session; later calls raise ClosedError. Idempotent. Every log record of
        the client's has reached `logging` when it returns."""
        try:
            self._native.close()
        finally:
            _native.flush_logs()

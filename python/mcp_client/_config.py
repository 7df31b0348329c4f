"""What `Client` and `AsyncClient` share: their keyword arguments made into the native
configuration, with every callable made synchronous for the library's threads (a coroutine
runs on the AsyncClient's event loop, or on a loop of its own for the blocking Client)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple, Union

from . import _native
from .oauth import OAuth

#: A handler's return: the result, or an awaitable of it.
MaybeAwaitable = Union[Any, Awaitable[Any]]


def sync_callable(
    f: Callable[..., MaybeAwaitable], loop: Optional[asyncio.AbstractEventLoop]
) -> Callable[..., Any]:
    """`f` as a plain call that returns its result, awaiting it when it is a coroutine."""

    def call(*args: Any) -> Any:
        out = f(*args)
        if not inspect.isawaitable(out):
            return out
        if loop is not None and not loop.is_closed():
            return asyncio.run_coroutine_threadsafe(_awaited(out), loop).result()
        return asyncio.run(_awaited(out))

    return call


async def _awaited(a: Awaitable[Any]) -> Any:
    return await a


def _json_handler(f: Callable[[Any], Any]) -> Callable[[str, str], str]:
    """A handler of params (a dict) as the native (method, params_json) -> result_json."""

    def call(_method: str, params_json: str) -> str:
        return json.dumps(f(json.loads(params_json) or {}))

    return call


def _roots_result(out: Any) -> Any:
    return {"roots": out} if isinstance(out, list) else out


def sync_log_level() -> None:
    """Forward the core's events at the `mcp_client` logger's level in effect now."""
    _native.set_log_level(max(1, min(255, logging.getLogger("mcp_client").getEffectiveLevel())))


def _check_callable(name: str, f: Any) -> None:
    if f is not None and not callable(f):
        raise TypeError(f"{name} must be callable, not {type(f).__name__}")


def make_config(
    url: Optional[str],
    *,
    command: Optional[str],
    bearer: Optional[str],
    headers: Optional[Mapping[str, str]],
    oauth: Optional[OAuth],
    timeout: Optional[float],
    connect_timeout: Optional[float],
    protocol_version: Optional[str],
    client_name: Optional[str],
    client_version: Optional[str],
    ca_file: Optional[Union[str, "os.PathLike[str]"]],
    on_notification: Optional[Callable[[str, Any], MaybeAwaitable]],
    on_elicitation: Optional[Callable[[Dict[str, Any]], MaybeAwaitable]],
    on_sampling: Optional[Callable[[Dict[str, Any]], MaybeAwaitable]],
    on_roots: Optional[Callable[[Dict[str, Any]], MaybeAwaitable]],
    on_request: Optional[Callable[[str, Dict[str, Any]], MaybeAwaitable]],
    loop: Optional[asyncio.AbstractEventLoop] = None,
) -> _native.NativeConfig:
    """The native configuration of one client."""
    if url is not None and not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    if command is not None and not isinstance(command, str):
        raise TypeError(f"command must be a str, not {type(command).__name__}")
    if oauth is not None and not isinstance(oauth, OAuth):
        raise TypeError(f"oauth must be an mcp_client.OAuth, not {type(oauth).__name__}")
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping, not {type(headers).__name__}")
    for name, f in [
        ("on_notification", on_notification),
        ("on_elicitation", on_elicitation),
        ("on_sampling", on_sampling),
        ("on_roots", on_roots),
        ("on_request", on_request),
    ]:
        _check_callable(name, f)
    sync_log_level()
    handlers: Dict[str, Callable[[str, str], str]] = {}
    if on_elicitation is not None:
        handlers["elicitation"] = _json_handler(sync_callable(on_elicitation, loop))
    if on_sampling is not None:
        handlers["sampling"] = _json_handler(sync_callable(on_sampling, loop))
    if on_roots is not None:
        roots = sync_callable(on_roots, loop)
        handlers["roots"] = _json_handler(lambda p: _roots_result(roots(p)))
    if on_request is not None:
        any_request = sync_callable(on_request, loop)
        handlers["request"] = lambda m, p: json.dumps(any_request(m, json.loads(p)))
    notify = None
    if on_notification is not None:
        n = sync_callable(on_notification, loop)
        notify = lambda m, p: n(m, json.loads(p))  # noqa: E731
    pairs: List[Tuple[str, str]] = [(str(k), str(v)) for k, v in (headers or {}).items()]
    return _native.NativeConfig(
        url,
        command=command,
        bearer=bearer,
        headers=pairs,
        timeout=timeout,
        connect_timeout=connect_timeout,
        protocol_version=protocol_version,
        client_name=client_name,
        client_version=client_version,
        ca_file=None if ca_file is None else os.fspath(ca_file),
        handlers=handlers or None,
        on_notification=notify,
        oauth=None if oauth is None else oauth._native(lambda f: sync_callable(f, loop)),
    )

"""benches/compare peer driver: the official MCP Python SDK (PyPI `mcp`) client.

The SDK's `streamable_http_client` transport + `ClientSession`, on asyncio. In mcp 2.x the
transport no longer takes `headers=` (1.x's `streamablehttp_client(url, headers=...)`); its
documented way to set headers is to pass your own `httpx2.AsyncClient` (`http_client=`), so we
pass one built with `headers={"Authorization": "Bearer TOKEN"}` (httpx2's defaults otherwise).
K calls in flight = K asyncio tasks sharing the one ClientSession.
Contract: benches/compare/README.md. Only the RESULT line goes to stdout.
Also `--auth cold|warm|storm` (the SDK's `mcp.client.auth.OAuthClientProvider` with a file
`TokenStorage`, see auth_main) and `--hold N` (N sessions held open, see hold_main).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import time
from importlib.metadata import version as dist_version

import httpx2

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--inflight", type=int, default=1)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--auth", choices=["cold", "warm", "storm"], default=None)
    p.add_argument("--store", default=None)
    p.add_argument("--expire-url", default=None)
    p.add_argument("--hold", type=int, default=None)
    return p.parse_args()


def rusage() -> tuple[int, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return round((ru.ru_utime + ru.ru_stime) * 1e6), ru.ru_maxrss


def pct(s: list[float], q: float) -> float:
    if not s:
        return 0.0
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


first_error: list[BaseException | str] = []


async def echo_call(session: ClientSession) -> bool:
    try:
        r = await session.call_tool("echo", {"text": "hello"})
        c = r.content[0] if r.content else None
        if not r.is_error and c is not None and c.type == "text" and c.text == "hello":
            return True
        raise RuntimeError(f"unexpected result: {r!r}")
    except Exception as e:  # noqa: BLE001 - count any failure, keep going
        if not first_error:
            first_error.append(e)
        return False


async def run_calls(session: ClientSession, n: int, k: int) -> tuple[int, list[float]]:
    state = {"next": 0, "ok": 0}
    lat: list[float] = []

    async def worker() -> None:
        while state["next"] < n:
            state["next"] += 1
            t0 = time.perf_counter_ns()
            good = await echo_call(session)
            lat.append((time.perf_counter_ns() - t0) / 1000)
            if good:
                state["ok"] += 1

    await asyncio.gather(*(worker() for _ in range(min(k, max(n, 1)))))
    return state["ok"], lat


async def main() -> int:
    a = parse_args()
    if a.auth is not None:
        return await auth_main(a)
    if a.hold is not None:
        return await hold_main(a)
    k = max(1, a.inflight)
    ok, lat, wall_us, cpu_us = 0, [], 0, 0
    try:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {a.token}"})
        async with http, streamable_http_client(a.url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                if a.warmup > 0:
                    wok, _ = await run_calls(session, a.warmup, k)
                    if wok != a.warmup:
                        print(f"warm-up: {wok}/{a.warmup} ok", file=sys.stderr)
                    first_error.clear()
                c0, _ = rusage()
                t0 = time.perf_counter_ns()
                ok, lat = await run_calls(session, a.calls, k)
                wall_us = (time.perf_counter_ns() - t0) // 1000
                c1, _ = rusage()
                cpu_us = c1 - c0
                if first_error:
                    print(f"first error: {first_error[0]!r}", file=sys.stderr)
        # leaving streamable_http_client sends the session DELETE (terminate_on_close=True)
    except BaseException as e:  # noqa: BLE001
        print(f"driver failed: {e!r}", file=sys.stderr)
    lat.sort()
    result = {
        "client": "python-sdk",
        "version": dist_version("mcp"),
        "calls": a.calls,
        "ok": ok,
        "wall_us": int(wall_us),
        "p50_us": round(pct(lat, 0.5), 1),
        "p99_us": round(pct(lat, 0.99), 1),
        "cpu_us": cpu_us,
        "peak_rss_kb": rusage()[1],
    }
    sys.stdout.write("RESULT " + json.dumps(result, separators=(",", ":")) + "\n")
    return 0 if ok == a.calls else 1


# ---------------------------------------------------------------------------------------------
# Scenarios 3 and 4 (`--auth cold|warm|storm`): the SDK's own OAuth client,
# `mcp.client.auth.OAuthClientProvider`, an `httpx2.Auth` set on the `httpx2.AsyncClient` given
# to the transport. It is given a `TokenStorage` (implemented here over one JSON file in
# --store: client information and tokens), a `redirect_handler` (the "browser": here one GET
# of the authorization URL, redirects not followed, keeping its Location) and a
# `callback_handler` (returns the code, state and iss from that Location as an
# `AuthorizationCodeResult`). The provider does discovery, registration, the sign-in through
# those two handlers, the token request and refreshes itself, on the requests it authenticates.

STORE_FILE = "oauth-store.json"


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FileTokenStorage:
    """The SDK's `TokenStorage` protocol over one JSON file (plus the redirect URI we chose)."""

    def __init__(self, directory: str) -> None:
        import os

        self.path = os.path.join(directory, STORE_FILE)
        try:
            with open(self.path) as f:
                self.data: dict = json.load(f)
        except FileNotFoundError:
            self.data = {}

    def _write(self) -> None:
        import os

        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)

    def redirect_uri(self) -> str:
        if "redirect_uri" not in self.data:
            self.data["redirect_uri"] = f"http://127.0.0.1:{free_port()}/callback"
            self._write()
        return self.data["redirect_uri"]

    async def get_tokens(self):  # -> OAuthToken | None
        from mcp.shared.auth import OAuthToken

        t = self.data.get("tokens")
        return OAuthToken.model_validate(t) if t else None

    async def set_tokens(self, tokens) -> None:
        self.data["tokens"] = tokens.model_dump(mode="json", exclude_none=True)
        self._write()

    async def get_client_info(self):  # -> OAuthClientInformationFull | None
        from mcp.shared.auth import OAuthClientInformationFull

        c = self.data.get("client_info")
        return OAuthClientInformationFull.model_validate(c) if c else None

    async def set_client_info(self, client_info) -> None:
        self.data["client_info"] = client_info.model_dump(mode="json", exclude_none=True)
        self._write()


class HeadlessBrowser:
    """redirect_handler / callback_handler for OAuthClientProvider, without a browser."""

    def __init__(self) -> None:
        self.location: str | None = None
        self.sign_ins = 0

    async def redirect_handler(self, authorization_url: str) -> None:
        self.sign_ins += 1
        async with httpx2.AsyncClient(follow_redirects=False) as c:
            r = await c.get(authorization_url)
        loc = r.headers.get("location")
        if not loc:
            raise RuntimeError(f"authorization endpoint answered {r.status_code} without Location")
        self.location = loc

    async def callback_handler(self):  # -> AuthorizationCodeResult
        from urllib.parse import parse_qs, urlparse

        from mcp.shared.auth import AuthorizationCodeResult

        if self.location is None:
            raise RuntimeError("no authorization response")
        q = parse_qs(urlparse(self.location).query)
        self.location = None
        if "error" in q:
            raise RuntimeError(f"authorization failed: {q['error'][0]}")
        one = lambda k: q[k][0] if k in q else None  # noqa: E731
        return AuthorizationCodeResult(code=one("code") or "", state=one("state"), iss=one("iss"))


def oauth_http_client(url: str, storage: FileTokenStorage, browser: HeadlessBrowser) -> httpx2.AsyncClient:
    from pydantic import AnyUrl

    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import OAuthClientMetadata

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="compare-python-sdk",
            redirect_uris=[AnyUrl(storage.redirect_uri())],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    return httpx2.AsyncClient(auth=provider)


async def auth_main(a: argparse.Namespace) -> int:
    mode = a.auth
    if not a.store:
        raise SystemExit("--store is required with --auth")
    if mode == "storm" and not a.expire_url:
        raise SystemExit("--expire-url is required with --auth storm")
    calls = a.calls if mode == "storm" else 1
    ok, lat, wall_us, cpu_us = 0, [], 0, 0
    try:
        if mode in ("cold", "warm"):
            c0, _ = rusage()
            t0 = time.perf_counter_ns()
            browser = HeadlessBrowser()
            http = oauth_http_client(a.url, FileTokenStorage(a.store), browser)
            async with http, streamable_http_client(a.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    good = await echo_call(session)
                    wall_us = (time.perf_counter_ns() - t0) // 1000
                    c1, _ = rusage()
                    cpu_us = c1 - c0
                    ok = 1 if good else 0
                    lat = [float(wall_us)]
                    if first_error:
                        print(f"first error: {first_error[0]!r}", file=sys.stderr)
                    print(f"{mode}: sign-ins (redirect_handler): {browser.sign_ins}", file=sys.stderr)
        else:
            browser = HeadlessBrowser()
            http = oauth_http_client(a.url, FileTokenStorage(a.store), browser)
            async with http, streamable_http_client(a.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    if not await echo_call(session):
                        raise RuntimeError(f"first call failed: {first_error[0]!r}")
                    before = browser.sign_ins
                    async with httpx2.AsyncClient() as plain:
                        r = await plain.post(a.expire_url)
                        if r.status_code >= 300:
                            raise RuntimeError(f"expire: HTTP {r.status_code}")

                    async def one() -> bool:
                        s = time.perf_counter_ns()
                        good = await echo_call(session)
                        lat.append((time.perf_counter_ns() - s) / 1000)
                        return good

                    c0, _ = rusage()
                    t0 = time.perf_counter_ns()
                    tasks = [asyncio.create_task(one()) for _ in range(calls)]
                    results = await asyncio.gather(*tasks)
                    wall_us = (time.perf_counter_ns() - t0) // 1000
                    c1, _ = rusage()
                    cpu_us = c1 - c0
                    ok = sum(1 for g in results if g)
                    if first_error:
                        print(f"first error: {first_error[0]!r}", file=sys.stderr)
                    print(
                        f"storm: {ok}/{calls} ok; sign-ins (redirect_handler) during the storm: "
                        f"{browser.sign_ins - before}",
                        file=sys.stderr,
                    )
    except BaseException as e:  # noqa: BLE001
        print(f"driver failed: {e!r}", file=sys.stderr)
    lat.sort()
    result = {
        "client": "python-sdk",
        "version": dist_version("mcp"),
        "calls": calls,
        "ok": ok,
        "wall_us": int(wall_us),
        "p50_us": round(pct(lat, 0.5), 1),
        "p99_us": round(pct(lat, 0.99), 1),
        "cpu_us": cpu_us,
        "peak_rss_kb": rusage()[1],
    }
    sys.stdout.write("RESULT " + json.dumps(result, separators=(",", ":")) + "\n")
    return 0 if ok == calls else 1


# ---------------------------------------------------------------------------------------------
# Scenario 5 (`--hold N`): N clients, each its own httpx2.AsyncClient + streamable_http_client +
# ClientSession (bearer header as in scenario 1), one echo call each, VmRSS read while all are
# open, then all closed (in reverse order, by the exit stack).


def vm_rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def hold_main(a: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    n = a.hold
    ok, rss_kb = 0, 0
    try:
        async with AsyncExitStack() as stack:
            sessions: list[ClientSession] = []
            for _ in range(n):
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {a.token}"})
                )
                read, write = await stack.enter_async_context(streamable_http_client(a.url, http_client=http))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                sessions.append(session)
            for session in sessions:
                if await echo_call(session):
                    ok += 1
            rss_kb = vm_rss_kb()
            if first_error:
                print(f"first error: {first_error[0]!r}", file=sys.stderr)
    except BaseException as e:  # noqa: BLE001
        print(f"driver failed: {e!r}", file=sys.stderr)
    result = {
        "client": "python-sdk",
        "version": dist_version("mcp"),
        "clients": n,
        "ok": ok,
        "rss_kb": rss_kb,
        "peak_rss_kb": rusage()[1],
    }
    sys.stdout.write("RESULT " + json.dumps(result, separators=(",", ":")) + "\n")
    return 0 if ok == n else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

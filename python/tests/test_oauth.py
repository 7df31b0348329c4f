"""OAuth through the Python package against the test server's authorization server."""

from __future__ import annotations

import urllib.request
from typing import Any, Callable, Dict, List, Optional

import pytest

import mcp_client
from mcp_client import Client, OAuth

from conftest import Browser, DictStore, Server, visit


def events_of(log: List[Dict[str, Any]]) -> List[str]:
    return [e["event"] for e in log]


def test_loopback_sign_in_refresh_and_logout(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    browser, store, log = Browser(), DictStore(), []
    oauth = OAuth(presenter=browser, store=store, on_event=log.append)
    with Client(srv.url, oauth=oauth) as c:
        assert c.call_tool("echo", {"text": "in"})["content"][0]["text"] == "in"
        assert len(browser.urls) == 1
        status = c.auth_status()
        assert status["has_token"] and status["has_refresh_token"]
        assert "mcp:read" in status["scopes"]
        assert store.entries, "the credential went to the Python store"
        # The access token expires: the next call refreshes it, with no browser.
        srv.debug("expire-tokens", "POST")
        c.call_tool("echo", {"text": "again"})
        assert len(browser.urls) == 1
        assert srv.debug("auth-stats")["token_requests"].get("refresh_token") == 1
        c.logout()
        assert not c.auth_status()["has_token"]
        assert not store.entries
    seen = events_of(log)
    for e in ["sign_in_required", "browser_opened", "signed_in", "token_refreshed", "logged_out"]:
        assert e in seen, (e, seen)
    assert all("token" not in k or k == "token_type" for e in log for k in e)


def test_a_restart_with_the_same_store_signs_in_no_more(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    browser, store = Browser(), DictStore()
    with Client(srv.url, oauth=OAuth(presenter=browser, store=store)) as c:
        c.list_tools()
    before = srv.debug("auth-stats")
    with Client(srv.url, oauth=OAuth(presenter=browser, store=store)) as c:
        c.list_tools()
    assert len(browser.urls) == 1
    after = srv.debug("auth-stats")
    assert after["authorize_requests"] == before["authorize_requests"]
    assert after["token_requests"] == before["token_requests"]


def test_step_up_asks_for_the_missing_scope(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    browser, log = Browser(), []
    oauth = OAuth(presenter=browser, store="memory", on_event=log.append)
    with Client(srv.url, oauth=oauth) as c:
        assert c.call_tool("admin")["content"][0]["text"] == "admin ok"
        assert "mcp:admin" in c.auth_status()["scopes"]
    assert len(browser.urls) == 2
    step = [e for e in log if e["event"] == "step_up"]
    assert step and step[0]["required"] == ["mcp:admin"]


def test_device_flow(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth-device")
    shown: List[Dict[str, Any]] = []

    def display(code: Dict[str, Any]) -> None:
        shown.append(code)
        # The user approves on another device.
        visit(code["verification_uri_complete"])

    oauth = OAuth(grant="device_code", device_display=display, store="memory")
    with Client(srv.url, oauth=oauth) as c:
        c.list_tools()
    assert len(shown) == 1 and shown[0]["user_code"]
    assert srv.debug("auth-stats")["device_authorizations"] == 1


def test_two_step_sign_in_before_connecting(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    redirect_uri = "http://127.0.0.1:9/callback"
    c = Client(srv.url, oauth=OAuth(store="memory", interactive=False), connect=False)
    try:
        url = c.begin_authorization(redirect_uri)
        assert url.startswith(srv.origin)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a: Any, **k: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as info:
            opener.open(url, timeout=10)
        location = info.value.headers["Location"]
        info.value.close()
        assert location.startswith(redirect_uri)
        c.complete_authorization(location)
        c.connect()
        assert c.call_tool("echo", {"text": "two-step"})["content"][0]["text"] == "two-step"
    finally:
        c.close()


def test_the_authorization_servers_error_reaches_python(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    # A dynamically registered client is public; the server refuses it client_credentials.
    with pytest.raises(mcp_client.AuthError) as info:
        Client(srv.url, oauth=OAuth(grant="client_credentials", store="memory"))
    assert info.value.oauth_error == "unauthorized_client"
    assert "confidential" in (info.value.oauth_error_description or "")


def test_no_sign_in_allowed_is_an_auth_error(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")
    with pytest.raises(mcp_client.AuthError) as info:
        Client(srv.url, oauth=OAuth(store="memory", interactive=False))
    assert info.value.http_status in (None, 401)


def test_a_presenter_that_raises_is_the_cause(start_server: Callable[..., Server]) -> None:
    srv = start_server("--oauth")

    class Refused(Exception):
        pass

    def presenter(url: str, redirect_uri: str) -> Optional[str]:
        raise Refused("the user closed the window")

    with pytest.raises(mcp_client.AuthError) as info:
        Client(srv.url, oauth=OAuth(presenter=presenter, store="memory"))
    assert isinstance(info.value.__cause__, Refused)
    assert "the user closed the window" in str(info.value)


def test_a_store_that_raises_is_logged_and_the_session_goes_on(
    start_server: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    srv = start_server("--oauth")

    class Broken(DictStore):
        def save(self, key: str, value: str) -> None:
            raise OSError("disk full")

    with caplog.at_level("ERROR", logger="mcp_client"):
        with Client(srv.url, oauth=OAuth(presenter=Browser(), store=Broken())) as c:
            assert c.call_tool("echo", {"text": "ok"})["content"][0]["text"] == "ok"
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], OSError)]
    assert logged, caplog.text


def test_bad_oauth_settings_are_refused_before_any_request() -> None:
    with pytest.raises(mcp_client.InvalidArgumentError):
        Client("http://127.0.0.1:9/mcp", oauth=OAuth(grant="password"))
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:9/mcp", oauth=OAuth(store="nowhere:"), connect=False)
    with pytest.raises(mcp_client.InvalidArgumentError):
        Client("http://127.0.0.1:9/mcp", oauth=OAuth(store=object()))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Client("http://127.0.0.1:9/mcp", oauth="yes")  # type: ignore[arg-type]
    with pytest.raises(mcp_client.InvalidArgumentError):
        Client(command="true", oauth=OAuth())
    with pytest.raises(mcp_client.InvalidArgumentError):
        Client("http://127.0.0.1:9/mcp", bearer="t", oauth=OAuth())


def test_oauth_methods_on_a_client_without_oauth(server_url: str) -> None:
    with Client(server_url) as c:
        with pytest.raises(mcp_client.InvalidArgumentError):
            c.auth_status()
        with pytest.raises(mcp_client.InvalidArgumentError):
            c.authorize()


def test_secrets_stay_out_of_reprs() -> None:
    o = OAuth(client_id="id", client_secret="s3cret", grant=mcp_client.JwtBearer("jwt-value"))
    assert "s3cret" not in repr(o) and "jwt-value" not in repr(o)
    assert "jwt-value" not in repr(mcp_client.JwtBearer("jwt-value"))

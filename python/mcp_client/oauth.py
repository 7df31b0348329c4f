"""OAuth settings: how the client signs in, where credentials are kept, what it tells you.

    from mcp_client import Client, OAuth

    with Client("https://example.com/mcp", oauth=OAuth(scopes=["files:read"])) as c:
        ...

The sign-in itself (discovery, registration, PKCE, the token exchange, refresh, step-up, DPoP,
revocation) is the Rust core's; these classes only say what to use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol, Sequence, Union

from .types import AuthEvent, DeviceCode

__all__ = [
    "OAuth",
    "JwtBearer",
    "EnterpriseManaged",
    "CredentialStore",
    "Presenter",
    "Grant",
]


class CredentialStore(Protocol):
    """Where the client keeps its credentials between runs, if not in the OS keyring.

    Each entry is text under a key. Calls come from a library thread and may block; an
    exception is logged and the client carries on (it signs in again, or keeps the credential
    for the session only).
    """

    def load(self, key: str) -> Optional[str]:
        """The entry for `key`, or None."""
        ...

    def save(self, key: str, value: str) -> None:
        """Replace the entry for `key`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the entry for `key` (absent is fine)."""
        ...


@dataclass(frozen=True)
class JwtBearer:
    """RFC 7523 jwt-bearer with an assertion you already hold (e.g. a workload identity)."""

    assertion: str

    def __repr__(self) -> str:
        return "JwtBearer(assertion=[redacted])"


@dataclass(frozen=True)
class EnterpriseManaged:
    """Enterprise-managed authorization: your identity provider's token is exchanged for an
    identity assertion grant for this server's authorization server."""

    idp_token_endpoint: str
    idp_client_id: str
    subject_token: str
    idp_client_secret: Optional[str] = None
    subject_token_type: str = "urn:ietf:params:oauth:token-type:id_token"

    def __repr__(self) -> str:
        return (
            f"EnterpriseManaged(idp_token_endpoint={self.idp_token_endpoint!r}, "
            f"idp_client_id={self.idp_client_id!r}, subject_token=[redacted])"
        )


#: A grant: "authorization_code" (the browser, the default), "client_credentials",
#: "device_code", or a JwtBearer or EnterpriseManaged.
Grant = Union[str, JwtBearer, EnterpriseManaged]

#: Shows the sign-in URL: called with (url, redirect_uri); returns the redirect URL it
#: received itself, or None to let the built-in loopback listener receive it. May be async.
Presenter = Callable[[str, str], Union[Optional[str], Awaitable[Optional[str]]]]


@dataclass
class OAuth:
    """Sign in with OAuth 2.1 when the server asks for it.

    - `presenter`: "browser" (open it, and print the URL; the default), "print" (print it
      only), "headless" (follow it without a user: for servers that approve at once), or a
      callable `(url, redirect_uri) -> Optional[str]`.
    - `device_display`: shows a device-flow code, `(DeviceCode) -> None` (default: stderr).
    - `store`: "auto" (the OS keyring, else a private file), "keyring", "file", "file:<dir>",
      "memory", "kernel-keyring", a Redis URL shared by hosts on many machines
      ("redis://[user:password@]host:port/db?prefix=...", "rediss://" for TLS; one refresh per
      expiry across all of them: see docs/auth.md), or your own `CredentialStore`.
    - `on_event`: receives each `AuthEvent` (sign-in needed, signed in, refreshed, ...).
    - `client_id`/`client_secret`: a pre-registered client (else a client ID metadata document
      at `client_metadata_url`, else dynamic registration).
    """

    client_id: Optional[str] = None
    client_secret: Optional[str] = None
    client_issuer: Optional[str] = None
    client_metadata_url: Optional[str] = None
    client_name: Optional[str] = None
    scopes: Optional[Sequence[str]] = None
    grant: Grant = "authorization_code"
    presenter: Union[str, Presenter] = "browser"
    device_display: Optional[Callable[[DeviceCode], Any]] = None
    store: Union[str, CredentialStore] = "auto"
    on_event: Optional[Callable[[AuthEvent], Any]] = None
    private_key_pem: Optional[str] = None
    private_key_alg: Optional[str] = None
    redirect_port: int = 0
    redirect_timeout: Optional[float] = None
    interactive: bool = True
    dpop: str = "auto"

    def __repr__(self) -> str:
        shown = {
            "client_id": self.client_id,
            "grant": self.grant if isinstance(self.grant, str) else type(self.grant).__name__,
            "scopes": self.scopes,
            "store": self.store if isinstance(self.store, str) else type(self.store).__name__,
        }
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items() if v is not None)
        return f"OAuth({inner})"

    def _native(self, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Dict[str, Any]:
        """The settings for the native layer; `wrap` makes callables synchronous."""
        d: Dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "client_issuer": self.client_issuer,
            "client_metadata_url": self.client_metadata_url,
            "client_name": self.client_name,
            "scopes": None if self.scopes is None else _strings(self.scopes, "scopes"),
            "private_key_pem": self.private_key_pem,
            "private_key_alg": self.private_key_alg,
            "redirect_port": self.redirect_port,
            "redirect_timeout": self.redirect_timeout,
            "interactive": self.interactive,
            "dpop": self.dpop,
        }
        g = self.grant
        if isinstance(g, JwtBearer):
            d.update(grant="jwt_bearer", assertion=g.assertion)
        elif isinstance(g, EnterpriseManaged):
            d.update(
                grant="enterprise_managed",
                enterprise={
                    "idp_token_endpoint": g.idp_token_endpoint,
                    "idp_client_id": g.idp_client_id,
                    "idp_client_secret": g.idp_client_secret,
                    "subject_token": g.subject_token,
                    "subject_token_type": g.subject_token_type,
                },
            )
        elif isinstance(g, str):
            d["grant"] = g
        else:
            raise TypeError(f"grant must be a str, JwtBearer or EnterpriseManaged, not {type(g).__name__}")
        if callable(self.presenter):
            d["presenter"] = wrap(self.presenter)
        else:
            d["presenter"] = self.presenter
        if self.device_display is not None:
            show = wrap(self.device_display)
            d["show_device"] = lambda text: show(_json_loads(text))
        if isinstance(self.store, str):
            d["store"] = self.store
        else:
            d["store"] = self.store
            name = getattr(self.store, "name", None)
            d["store_name"] = name if isinstance(name, str) else type(self.store).__name__
        if self.on_event is not None:
            hook = wrap(self.on_event)
            d["on_event"] = lambda text: hook(_json_loads(text))
        return d


def _strings(items: Sequence[str], what: str) -> List[str]:
    if isinstance(items, str):
        raise TypeError(f"{what} must be a sequence of str, not a str")
    out = list(items)
    for s in out:
        if not isinstance(s, str):
            raise TypeError(f"{what} must hold str, not {type(s).__name__}")
    return out


def _json_loads(text: str) -> Any:
    import json

    return json.loads(text)

"""Typed shapes of the results (TypedDicts: the results are plain dicts and lists).

Only the common members are listed; servers may send more, and they are kept.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

__all__ = [
    "TextContent",
    "ImageContent",
    "AudioContent",
    "ResourceLink",
    "EmbeddedResource",
    "ContentBlock",
    "CallToolResult",
    "Tool",
    "Resource",
    "ResourceContents",
    "ReadResourceResult",
    "Prompt",
    "PromptArgument",
    "PromptMessage",
    "GetPromptResult",
    "AuthEvent",
    "AuthStatus",
    "DeviceCode",
]


class TextContent(TypedDict):
    """Text."""

    type: Literal["text"]
    text: str


class ImageContent(TypedDict):
    """An image, base64-encoded."""

    type: Literal["image"]
    data: str
    mimeType: str


class AudioContent(TypedDict):
    """Audio, base64-encoded."""

    type: Literal["audio"]
    data: str
    mimeType: str


class _ResourceLinkBase(TypedDict):
    type: Literal["resource_link"]
    uri: str
    name: str


class ResourceLink(_ResourceLinkBase, total=False):
    """A link to a resource the server has."""

    title: str
    description: str
    mimeType: str


class _ResourceContentsBase(TypedDict):
    uri: str


class ResourceContents(_ResourceContentsBase, total=False):
    """One resource's contents: `text` or `blob` (base64)."""

    mimeType: str
    text: str
    blob: str


class EmbeddedResource(TypedDict):
    """A resource's contents, inline."""

    type: Literal["resource"]
    resource: ResourceContents


#: One block of content.
ContentBlock = Union[TextContent, ImageContent, AudioContent, ResourceLink, EmbeddedResource]


class _CallToolResultBase(TypedDict):
    content: List[ContentBlock]


class CallToolResult(_CallToolResultBase, total=False):
    """What `call_tool` returns."""

    isError: bool
    structuredContent: Dict[str, Any]
    _meta: Dict[str, Any]


class _ToolBase(TypedDict):
    name: str
    inputSchema: Dict[str, Any]


class Tool(_ToolBase, total=False):
    """A tool the server offers."""

    title: str
    description: str
    outputSchema: Dict[str, Any]
    annotations: Dict[str, Any]


class _ResourceBase(TypedDict):
    uri: str
    name: str


class Resource(_ResourceBase, total=False):
    """A resource the server offers."""

    title: str
    description: str
    mimeType: str
    size: int


class ReadResourceResult(TypedDict):
    """What `read_resource` returns."""

    contents: List[ResourceContents]


class _PromptArgumentBase(TypedDict):
    name: str


class PromptArgument(_PromptArgumentBase, total=False):
    """One argument of a prompt."""

    description: str
    required: bool


class _PromptBase(TypedDict):
    name: str


class Prompt(_PromptBase, total=False):
    """A prompt the server offers."""

    title: str
    description: str
    arguments: List[PromptArgument]


class PromptMessage(TypedDict):
    """One message of a prompt."""

    role: Literal["user", "assistant"]
    content: ContentBlock


class _GetPromptResultBase(TypedDict):
    messages: List[PromptMessage]


class GetPromptResult(_GetPromptResultBase, total=False):
    """What `get_prompt` returns."""

    description: str


class _AuthEventBase(TypedDict):
    event: str
    server: str


class AuthEvent(_AuthEventBase, total=False):
    """One step of authorization: `event` is `sign_in_required`, `browser_opened`,
    `signed_in`, `token_refreshed`, `token_adopted`, `step_up`, `refresh_failed`,
    `store_selected` or `logged_out` (more may come). Never a token, code or secret."""

    issuer: str
    grant: str
    scopes: List[str]
    required: List[str]
    redirect_uri: str
    expires_at: Optional[int]
    token_type: str
    reason: str
    store: str
    fallback: Optional[str]
    revoked: bool


class AuthStatus(TypedDict, total=False):
    """What the client holds now (no secrets)."""

    resource: Optional[str]
    issuer: Optional[str]
    client_id: Optional[str]
    registration: Optional[str]
    has_token: bool
    has_refresh_token: bool
    token_type: Optional[str]
    expires_at: Optional[int]
    scopes: List[str]


class _DeviceCodeBase(TypedDict):
    verification_uri: str
    user_code: str
    expires_in: int


class DeviceCode(_DeviceCodeBase):
    """A device-flow sign-in to show: visit `verification_uri` (or the complete one, with the
    code filled in) and enter `user_code` within `expires_in` seconds."""

    verification_uri_complete: Optional[str]

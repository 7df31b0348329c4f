"""Typed shapes of the results (TypedDicts: the results are plain dicts and lists), and the
`Task` of the tasks API (a class, its server's dict in `raw`).

Only the common members are listed; servers may send more, and they are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Mapping, Optional, TypedDict, Union

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
    "Task",
    "TaskStatus",
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


#: The status of a task: `working` (being processed), `input_required` (the server needs input:
#: its requests reach the client's handlers while `task_result` waits), and the terminal
#: `completed`, `failed` (a tool error included) and `cancelled`; `unknown` stands for a status
#: this version does not know. (A Union of one-value Literals, the same type to a checker as
#: `Literal["working", ...]`, because mypy's stubtest takes an alias of a Literal of several
#: values for a Union and wants one at runtime.)
TaskStatus = Union[
    Literal["working"],
    Literal["input_required"],
    Literal["completed"],
    Literal["failed"],
    Literal["cancelled"],
    Literal["unknown"],
]

_STATUSES: Dict[str, TaskStatus] = {
    "working": "working",
    "input_required": "input_required",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}


def _seconds(ms: Any) -> Optional[float]:
    """Milliseconds (the protocol's unit) as seconds (the Python API's); None if not a number."""
    if isinstance(ms, (int, float)) and not isinstance(ms, bool):
        return ms / 1000
    return None


@dataclass(frozen=True)
class Task:
    """A task: the state of a tool call the server runs as a task (protocol 2025-11-25), as
    `start_tool_task`, `task_status`, `cancel_task` and `list_tasks` return it.

    Durations are in seconds, as everywhere in this package (the protocol's milliseconds
    divided by 1000); `raw` is the task object as the server sent it (camelCase keys,
    milliseconds, and any member not modelled here). `Task.from_dict` reads one from such an
    object, e.g. the params of a `notifications/tasks/status` notification.
    """

    #: The task's id, chosen by the server.
    task_id: str
    #: Its current status (a str; see `TaskStatus`).
    status: TaskStatus
    #: A human-readable description of the status (for a failed task, what went wrong).
    status_message: Optional[str]
    #: When the task was created (ISO 8601, as the server wrote it; "" when it did not).
    created_at: str
    #: When the task was last updated (ISO 8601; "" when the server did not say).
    last_updated_at: str
    #: How long the server keeps the task from its creation, in seconds; None for unlimited.
    ttl: Optional[float]
    #: The polling interval the server suggests, in seconds; None when it suggests none.
    poll_interval: Optional[float]
    #: The task object as the server sent it.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Task":
        """The `Task` of a protocol task object (`taskId`, `status`, `statusMessage`,
        `createdAt`, `lastUpdatedAt`, `ttl` and `pollInterval` in milliseconds)."""
        status = d.get("status")
        message = d.get("statusMessage")
        return cls(
            task_id=str(d.get("taskId", "")),
            status=_STATUSES.get(status, "unknown") if isinstance(status, str) else "unknown",
            status_message=message if isinstance(message, str) else None,
            created_at=str(d.get("createdAt") or ""),
            last_updated_at=str(d.get("lastUpdatedAt") or ""),
            ttl=_seconds(d.get("ttl")),
            poll_interval=_seconds(d.get("pollInterval")),
            raw=dict(d),
        )

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended (`completed`, `failed` or `cancelled`)."""
        return self.status in ("completed", "failed", "cancelled")

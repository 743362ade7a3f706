"""The subset of the A2A 1.0 data model this project uses (JSON binding).

Names, enum strings and required fields follow A2A 1.0's ``a2a.proto`` as rendered by
ProtoJSON: camelCase members, ``TASK_STATE_*`` / ``ROLE_*`` enum strings, RFC 3339 UTC
timestamps. Unknown members are ignored, as ProtoJSON readers do.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from .base import A2AModel, JsonValue, ProtoBytes, UtcTimestamp

__all__ = [
    "AgentCapabilities",
    "AgentCard",
    "AgentCardSignature",
    "AgentExtension",
    "AgentInterface",
    "AgentProvider",
    "AgentSkill",
    "Artifact",
    "CancelTaskRequest",
    "GetTaskRequest",
    "ListTasksRequest",
    "Message",
    "Part",
    "Role",
    "SendMessageConfiguration",
    "SendMessageRequest",
    "SubscribeToTaskRequest",
    "TERMINAL_TASK_STATES",
    "Task",
    "TaskState",
    "TaskStatus",
]


class TaskState(StrEnum):
    """Lifecycle state of a task (A2A ``TaskState``)."""

    UNSPECIFIED = "TASK_STATE_UNSPECIFIED"
    SUBMITTED = "TASK_STATE_SUBMITTED"
    WORKING = "TASK_STATE_WORKING"
    COMPLETED = "TASK_STATE_COMPLETED"
    FAILED = "TASK_STATE_FAILED"
    CANCELED = "TASK_STATE_CANCELED"
    INPUT_REQUIRED = "TASK_STATE_INPUT_REQUIRED"
    REJECTED = "TASK_STATE_REJECTED"
    AUTH_REQUIRED = "TASK_STATE_AUTH_REQUIRED"


TERMINAL_TASK_STATES = frozenset(
    {TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELED, TaskState.REJECTED}
)
"""States a task never leaves."""


class Role(StrEnum):
    """Sender of a message."""

    UNSPECIFIED = "ROLE_UNSPECIFIED"
    USER = "ROLE_USER"
    AGENT = "ROLE_AGENT"


_PART_CONTENT = ("text", "raw", "url", "data")
_PART_CONTENT_SET = frozenset(_PART_CONTENT)


class Part(A2AModel):
    """One piece of message or artifact content: exactly one of text, raw, url or data."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": [name]} for name in ("text", "raw", "url", "data")]
        }
    )

    text: str | None = None
    raw: ProtoBytes | None = None
    url: str | None = None
    data: JsonValue | None = None
    metadata: dict[str, JsonValue] | None = None
    filename: str | None = None
    media_type: str | None = None

    @model_validator(mode="after")
    def _exactly_one_content(self) -> Part:
        given = self.__pydantic_fields_set__
        named = _PART_CONTENT_SET.intersection(given)
        if len(named) == 1 and getattr(self, next(iter(named))) is not None:
            return self  # the usual part (hot path: one set operation)
        present = [
            name for name in _PART_CONTENT if name in given and getattr(self, name) is not None
        ]
        if len(present) != 1:
            raise ValueError(
                f"a Part holds exactly one of text, raw, url, data; found {present or 'none'}"
            )
        return self


class Message(A2AModel):
    """A message between a user (client agent) and an agent."""

    message_id: str = Field(min_length=1)
    role: Role
    parts: list[Part] = Field(min_length=1)
    context_id: str | None = None
    task_id: str | None = None
    metadata: dict[str, JsonValue] | None = None
    extensions: list[str] | None = None
    reference_task_ids: list[str] | None = None


class Artifact(A2AModel):
    """An output produced by a task."""

    artifact_id: str = Field(min_length=1)
    parts: list[Part] = Field(min_length=1)
    name: str | None = None
    description: str | None = None
    metadata: dict[str, JsonValue] | None = None
    extensions: list[str] | None = None


class TaskStatus(A2AModel):
    """Current state of a task, with an optional message and time."""

    state: TaskState
    message: Message | None = None
    timestamp: UtcTimestamp | None = None


class Task(A2AModel):
    """A unit of work an agent performs."""

    id: str = Field(min_length=1)
    context_id: str = Field(min_length=1)
    status: TaskStatus
    artifacts: list[Artifact] | None = None
    history: list[Message] | None = None
    metadata: dict[str, JsonValue] | None = None


class AgentInterface(A2AModel):
    """A URL where the agent can be reached, with its protocol binding."""

    url: str = Field(min_length=1)
    protocol_binding: str = Field(min_length=1, examples=["JSONRPC", "GRPC", "HTTP+JSON"])
    protocol_version: str = "1.0"
    """A2A protocol version served at this interface (A2A 1.0 requires it; readers default it)."""
    tenant: str | None = None


class AgentProvider(A2AModel):
    """The organisation that runs the agent."""

    organization: str
    url: str


class AgentExtension(A2AModel):
    """A protocol extension the agent supports, with its parameters."""

    uri: str = Field(min_length=1)
    description: str | None = None
    required: bool | None = None
    params: dict[str, JsonValue] | None = None


class AgentCapabilities(A2AModel):
    """Optional protocol features the agent supports."""

    streaming: bool | None = None
    push_notifications: bool | None = None
    extensions: list[AgentExtension] | None = None
    extended_agent_card: bool | None = None


class AgentSkill(A2AModel):
    """One capability the agent offers."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str
    tags: list[str]
    examples: list[str] | None = None
    input_modes: list[str] | None = None
    output_modes: list[str] | None = None
    security_requirements: list[dict[str, Any]] | None = None


class AgentCardSignature(A2AModel):
    """A detached JWS (RFC 7515) over the card's canonical form (A2A 1.0 §8.4)."""

    protected: str = Field(min_length=1)
    signature: str = Field(min_length=1)
    header: dict[str, JsonValue] | None = None


class AgentCard(A2AModel):
    """A2A 1.0 Agent Card: who the agent is, where to reach it and what it can do."""

    name: str = Field(min_length=1)
    description: str
    supported_interfaces: list[AgentInterface] = Field(min_length=1)
    version: str = Field(min_length=1)
    capabilities: AgentCapabilities
    default_input_modes: list[str]
    default_output_modes: list[str]
    skills: list[AgentSkill]
    provider: AgentProvider | None = None
    documentation_url: str | None = None
    security_schemes: dict[str, Any] | None = None
    security_requirements: list[dict[str, Any]] | None = None
    signatures: list[AgentCardSignature] | None = None
    icon_url: str | None = None

    def extension(self, uri: str) -> AgentExtension | None:
        """Return the declared extension with this URI, if any."""
        for ext in self.capabilities.extensions or ():
            if ext.uri == uri:
                return ext
        return None


# -- requests (the params of each A2A operation) --------------------------------------------


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an integer, not a boolean")
    return value


ProtoInt = Annotated[int, BeforeValidator(_no_bool)]
"""An integer as ProtoJSON reads it: a JSON number or a decimal string, never a boolean."""


class SendMessageConfiguration(A2AModel):
    """How SendMessage answers: at once or when the task settles, how much history."""

    accepted_output_modes: list[str] | None = None
    history_length: ProtoInt | None = None
    return_immediately: bool = False
    task_push_notification_config: dict[str, JsonValue] | None = None


class SendMessageRequest(A2AModel):
    """Params of SendMessage and SendStreamingMessage."""

    message: Message
    configuration: SendMessageConfiguration | None = None
    metadata: dict[str, JsonValue] | None = None
    tenant: str | None = None


class GetTaskRequest(A2AModel):
    """Params of GetTask."""

    id: str = Field(min_length=1)
    history_length: ProtoInt | None = None
    tenant: str | None = None


class CancelTaskRequest(A2AModel):
    """Params of CancelTask."""

    id: str = Field(min_length=1)
    metadata: dict[str, JsonValue] | None = None
    tenant: str | None = None


class SubscribeToTaskRequest(A2AModel):
    """Params of SubscribeToTask."""

    id: str = Field(min_length=1)
    tenant: str | None = None


class ListTasksRequest(A2AModel):
    """Params of ListTasks: filters and paging (page size 1 to 100, default 50)."""

    context_id: str | None = None
    status: TaskState | None = None
    page_size: ProtoInt = Field(default=50, ge=1, le=100)
    page_token: str | None = None
    history_length: ProtoInt | None = None
    status_timestamp_after: UtcTimestamp | None = None
    include_artifacts: bool = False
    tenant: str | None = None

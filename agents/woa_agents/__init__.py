"""Web of Agents agent SDK: typed skills, signed A2A 1.0 messaging, discovery, clients.

The clients (``AgentClient``, ``RegistryClient``, ``StateClient``) load no server module:
the agent runtime (``Agent``, the skill context, the task stores, the harness) is imported
on first use of one of its names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from woa_protocol import WoaError
from woa_protocol.models import SKILL_METADATA_KEY

from .client import AgentClient, RemoteAgent, StreamEvent, TaskList
from .content import answer_parts, data_of, files_of, natural_value, text_of
from .errors import (
    AgentCallError,
    AgentIdentityError,
    AgentUnreachableError,
    JsonRpcCode,
    NoAgentAvailableError,
    RpcError,
    SkillOutputError,
    TransportError,
)
from .files import File, MediaTypes
from .http import PeerError, RetryPolicy, SignedHttp, SignedHttpClient
from .registry_client import FeedEvent, RegistryClient, RegistryError
from .state_client import Backoff, StateClient, StateClientError, UpdateConflictError, WatchEvent
from .tracing import TraceContext, current_trace

if TYPE_CHECKING:
    from .agent import Agent, RunningAgent
    from .context import InputRequired, Partial, Progress, Rejected, SkillContext
    from .harness import connect
    from .lifecycle import RegistryLifecycle
    from .signing import SignaturePolicy
    from .tasks import InMemoryTaskStore, SqliteTaskStore, TaskStore

_LAZY = {
    "Agent": ".agent",
    "RunningAgent": ".agent",
    "InputRequired": ".context",
    "Partial": ".context",
    "Progress": ".context",
    "Rejected": ".context",
    "SkillContext": ".context",
    "connect": ".harness",
    "RegistryLifecycle": ".lifecycle",
    "SignaturePolicy": ".signing",
    "InMemoryTaskStore": ".tasks",
    "SqliteTaskStore": ".tasks",
    "TaskStore": ".tasks",
}


def __getattr__(name: str) -> Any:
    """Import the agent runtime's names on first use (they pull in the web server)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "SKILL_METADATA_KEY",
    "Agent",
    "AgentCallError",
    "AgentClient",
    "AgentIdentityError",
    "AgentUnreachableError",
    "Backoff",
    "FeedEvent",
    "File",
    "InMemoryTaskStore",
    "InputRequired",
    "JsonRpcCode",
    "MediaTypes",
    "NoAgentAvailableError",
    "Partial",
    "PeerError",
    "Progress",
    "RegistryClient",
    "RegistryError",
    "RegistryLifecycle",
    "Rejected",
    "RemoteAgent",
    "RetryPolicy",
    "RpcError",
    "RunningAgent",
    "SignaturePolicy",
    "SignedHttp",
    "SignedHttpClient",
    "SkillContext",
    "SkillOutputError",
    "SqliteTaskStore",
    "StateClient",
    "StateClientError",
    "StreamEvent",
    "TaskList",
    "TaskStore",
    "TraceContext",
    "TransportError",
    "UpdateConflictError",
    "WatchEvent",
    "WoaError",
    "answer_parts",
    "connect",
    "current_trace",
    "data_of",
    "files_of",
    "natural_value",
    "text_of",
]

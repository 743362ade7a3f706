"""Web of Agents agent SDK: typed skills, signed A2A 1.0 messaging, discovery, a client."""

from .agent import Agent, RunningAgent
from .client import AgentClient, RemoteAgent, StreamEvent
from .context import InputRequired, Partial, Progress, Rejected, SkillContext
from .errors import (
    AgentCallError,
    AgentIdentityError,
    JsonRpcCode,
    NoAgentAvailableError,
    RpcError,
    SkillOutputError,
)
from .harness import connect
from .jsonrpc import SKILL_METADATA_KEY
from .lifecycle import RegistryLifecycle
from .registry_client import RegistryClient, RegistryError
from .signing import SignaturePolicy
from .tasks import InMemoryTaskStore, SqliteTaskStore, TaskStore
from .tracing import TraceContext, current_trace

__all__ = [
    "SKILL_METADATA_KEY",
    "Agent",
    "AgentCallError",
    "AgentClient",
    "AgentIdentityError",
    "InMemoryTaskStore",
    "InputRequired",
    "JsonRpcCode",
    "NoAgentAvailableError",
    "Partial",
    "Progress",
    "RegistryClient",
    "RegistryError",
    "RegistryLifecycle",
    "Rejected",
    "RemoteAgent",
    "RpcError",
    "RunningAgent",
    "SignaturePolicy",
    "SkillContext",
    "SkillOutputError",
    "SqliteTaskStore",
    "StreamEvent",
    "TaskStore",
    "TraceContext",
    "connect",
    "current_trace",
]

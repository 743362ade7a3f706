"""Web of Agents agent SDK: typed skills, signed A2A 1.0 messaging, discovery, clients."""

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
from .files import File
from .harness import connect
from .http import PeerError, SignedHttpClient
from .jsonrpc import SKILL_METADATA_KEY
from .lifecycle import RegistryLifecycle
from .registry_client import FeedEvent, RegistryClient, RegistryError
from .signing import SignaturePolicy
from .state_client import StateClient, StateClientError, WatchEvent
from .tasks import InMemoryTaskStore, SqliteTaskStore, TaskStore
from .tracing import TraceContext, current_trace

__all__ = [
    "SKILL_METADATA_KEY",
    "Agent",
    "AgentCallError",
    "AgentClient",
    "AgentIdentityError",
    "FeedEvent",
    "File",
    "InMemoryTaskStore",
    "InputRequired",
    "JsonRpcCode",
    "NoAgentAvailableError",
    "Partial",
    "PeerError",
    "Progress",
    "RegistryClient",
    "RegistryError",
    "RegistryLifecycle",
    "Rejected",
    "RemoteAgent",
    "RpcError",
    "RunningAgent",
    "SignaturePolicy",
    "SignedHttpClient",
    "SkillContext",
    "SkillOutputError",
    "SqliteTaskStore",
    "StateClient",
    "StateClientError",
    "StreamEvent",
    "TaskStore",
    "TraceContext",
    "WatchEvent",
    "connect",
    "current_trace",
]

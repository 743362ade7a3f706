"""Shared state: versioned JSON documents per namespace, shared by agents.

Compare-and-set, ACLs by DID, JSON Patch, atomic batches, an append-only signed history and
watch over WebSocket.

It runs inside the registry process (same database, its own ``state_*`` tables) and is
mounted by :func:`install_state`; its client is the SDK's :class:`woa_agents.StateClient`.
"""

from .models import Acl, Change, ChangeKind, Document, Namespace, Provenance
from .provenance import HistoryVerificationError, verify_history, verify_history_entry
from .runtime import StateRuntime, install_state
from .service import ANY_VERSION, Operation, OpKind, StateLimits, StateService
from .settings import StateSettings
from .store import StateStore, open_state_store

__all__ = [
    "ANY_VERSION",
    "Acl",
    "Change",
    "ChangeKind",
    "Document",
    "HistoryVerificationError",
    "Namespace",
    "OpKind",
    "Operation",
    "Provenance",
    "StateLimits",
    "StateRuntime",
    "StateService",
    "StateSettings",
    "StateStore",
    "install_state",
    "open_state_store",
    "verify_history",
    "verify_history_entry",
]

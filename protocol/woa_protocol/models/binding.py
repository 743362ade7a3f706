"""Constants both ends of an A2A call share: paths, header values, binding names, profile keys.

They live in the protocol core so that a client imports them without loading any server
module (spec/agents.md).
"""

from __future__ import annotations

__all__ = [
    "A2A_VERSION",
    "AGENT_CARD_PATH",
    "BINDING_HTTP_JSON",
    "BINDING_JSONRPC",
    "RESULT_ARTIFACT_ID",
    "SKILL_METADATA_KEY",
]

AGENT_CARD_PATH = "/.well-known/agent-card.json"
"""Where an agent serves its card (A2A 1.0, AGT-002)."""

A2A_VERSION = "1.0"
"""The A2A protocol version spoken, sent as the ``A2A-Version`` header (AGT-003)."""

BINDING_JSONRPC = "JSONRPC"
"""``protocolBinding`` of the JSON-RPC 2.0 interface."""

BINDING_HTTP_JSON = "HTTP+JSON"
"""``protocolBinding`` of the HTTP+JSON (REST) interface."""

SKILL_METADATA_KEY = "woa.skill"
"""Message metadata key naming the skill of a typed call (AGT-010)."""

RESULT_ARTIFACT_ID = "result"
"""``artifactId`` of a typed skill's output artifact (AGT-013)."""

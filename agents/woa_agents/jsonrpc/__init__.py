"""The A2A 1.0 JSON-RPC binding: a transport-free request handler and the route built from it."""

from .handler import SKILL_METADATA_KEY, A2ARequestHandler, CallInfo
from .routes import METHODS, JsonRpcEndpoint

__all__ = ["METHODS", "SKILL_METADATA_KEY", "A2ARequestHandler", "CallInfo", "JsonRpcEndpoint"]

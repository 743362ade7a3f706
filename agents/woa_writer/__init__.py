"""The writer sample agent: a small language model that generates, summarizes and extracts JSON.

``build_agent()`` gives the :class:`woa_agents.Agent`; ``python -m woa_writer`` serves it.
The model code (:mod:`.model`, :mod:`.backends`, :mod:`.weights`) does not use the SDK, and
importing it does not import the SDK: the agent's names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .backends import (
    Backend,
    BackendError,
    ContextOverflowError,
    LlamaCppBackend,
    OpenAIBackend,
    SchemaNotSupportedError,
    WriterSettings,
    backend_from_settings,
)
from .model import ExtractionError, Writer
from .weights import QWEN25_CODER_15B, GgufWeights, WeightsError

if TYPE_CHECKING:
    from .agent import (
        MAX_SCHEMA_BYTES,
        MAX_TEXT_CHARS,
        ExtractIn,
        ExtractOut,
        GenerateIn,
        GenerateOut,
        SummarizeIn,
        SummarizeOut,
        build,
        build_agent,
        build_writer,
    )

_AGENT_NAMES = frozenset(
    {
        "MAX_SCHEMA_BYTES",
        "MAX_TEXT_CHARS",
        "ExtractIn",
        "ExtractOut",
        "GenerateIn",
        "GenerateOut",
        "SummarizeIn",
        "SummarizeOut",
        "build",
        "build_agent",
        "build_writer",
    }
)

__all__ = [
    "MAX_SCHEMA_BYTES",
    "MAX_TEXT_CHARS",
    "QWEN25_CODER_15B",
    "Backend",
    "BackendError",
    "ContextOverflowError",
    "ExtractIn",
    "ExtractOut",
    "ExtractionError",
    "GenerateIn",
    "GenerateOut",
    "GgufWeights",
    "LlamaCppBackend",
    "OpenAIBackend",
    "SchemaNotSupportedError",
    "SummarizeIn",
    "SummarizeOut",
    "WeightsError",
    "Writer",
    "WriterSettings",
    "backend_from_settings",
    "build",
    "build_agent",
    "build_writer",
]


def __getattr__(name: str) -> Any:
    """Load the agent's names (and with them the SDK) only when one is used."""
    if name in _AGENT_NAMES:
        return getattr(importlib.import_module(".agent", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The writer sample agent: a small language model that generates, summarizes and extracts JSON.

``build_agent()`` gives the :class:`woa_agents.Agent`; ``python -m woa_writer`` serves it.
The model code (:mod:`.model`, :mod:`.backends`, :mod:`.weights`) does not use the SDK.
"""

from .agent import (
    MAX_SCHEMA_BYTES,
    MAX_TEXT_CHARS,
    ExtractIn,
    ExtractOut,
    GenerateIn,
    GenerateOut,
    SummarizeIn,
    SummarizeOut,
    build_agent,
    build_writer,
)
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
    "build_agent",
    "build_writer",
]

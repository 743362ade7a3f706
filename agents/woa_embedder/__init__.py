"""The embedder sample agent: all-MiniLM-L6-v2 (int8 ONNX) sentence embeddings.

:class:`Encoder` is the model alone, without the SDK (a router can reuse it);
:func:`woa_embedder.agent.build` makes the agent; ``python -m woa_embedder`` serves it.
"""

from .encoder import DIMENSIONS, MODEL_ID, Encoder

__all__ = ["DIMENSIONS", "MODEL_ID", "Encoder"]

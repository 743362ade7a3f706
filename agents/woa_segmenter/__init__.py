"""The segmenter sample agent: box prompts through U^2-Net-p (ONNX), point prompts through GrabCut.

:class:`Segmenter` is the model alone, without the SDK; :func:`woa_segmenter.agent.build`
makes the agent; ``python -m woa_segmenter`` serves it.
"""

from .model import MODEL_ID, Segmentation, Segmenter

__all__ = ["MODEL_ID", "Segmentation", "Segmenter"]

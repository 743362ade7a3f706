"""The transcriber sample agent: English speech to text with Whisper tiny.en (faster-whisper).

:class:`Transcriber` is the model alone, without the SDK;
:func:`woa_transcriber.agent.build` makes the agent; ``python -m woa_transcriber`` serves it.
"""

from .speech import MODEL_ID, Segment, Transcriber

__all__ = ["MODEL_ID", "Segment", "Transcriber"]

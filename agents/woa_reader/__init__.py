"""The reader sample agent: OCR with Tesseract 5 (Debian's tesseract-ocr, English).

:class:`Reader` is the OCR engine alone, without the SDK; :func:`woa_reader.agent.build`
makes the agent; ``python -m woa_reader`` serves it.
"""

from .ocr import MODEL_ID, Line, Page, Reader, Word

__all__ = ["MODEL_ID", "Line", "Page", "Reader", "Word"]

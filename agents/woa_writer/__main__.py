"""``python -m woa_writer --help``: serve the writer agent (the same as ``woa agents run writer``).

The backend comes from ``WOA_WRITER_*`` variables (see the README): ``WOA_WRITER_BACKEND``
``llama-cpp`` (default, the shipped GGUF) or ``openai`` (``WOA_WRITER_OPENAI_URL``, …).
"""

import sys

from woa_samples.main import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main("writer"))

"""``python -m woa_transcriber --help``: serve the transcriber agent."""

import sys

from woa_samples.main import main

sys.exit(main("transcriber"))

"""``python -m woa_reader --help``: serve the reader agent."""

import sys

from woa_samples.main import main

sys.exit(main("reader"))

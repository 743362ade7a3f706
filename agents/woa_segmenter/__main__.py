"""``python -m woa_segmenter --help``: serve the segmenter agent."""

import sys

from woa_samples.main import main

sys.exit(main("segmenter"))

"""``python -m woa_embedder --help``: serve the embedder agent."""

import sys

from woa_samples.main import main

sys.exit(main("embedder"))

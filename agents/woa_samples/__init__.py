"""Shared pieces of the sample model agents: catalog, model worker, weight checks.

Importing this package imports no SDK module, so model wrappers can use it and stay
pure. Agent modules also use :mod:`woa_samples.inputs` (file inputs, built on the SDK's
public API).
"""

from .catalog import CATALOG, SampleSpec, build
from .errors import MissingExtraError, WeightChecksumError
from .sample import Sample, serve
from .weights import package_dir, require, sha256_of, verified
from .worker import ModelWorker

__all__ = [
    "CATALOG",
    "MissingExtraError",
    "ModelWorker",
    "Sample",
    "SampleSpec",
    "WeightChecksumError",
    "build",
    "package_dir",
    "require",
    "serve",
    "sha256_of",
    "verified",
]

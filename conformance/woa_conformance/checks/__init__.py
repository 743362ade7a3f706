"""The built-in checks; importing this package registers them (see :mod:`..core`)."""

from . import agent, registry, signatures, state

__all__ = ["agent", "registry", "signatures", "state"]

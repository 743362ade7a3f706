"""The built-in checks; importing this package registers them (see :mod:`..core`)."""

from . import agent, dashboard, registry, signatures, state

__all__ = ["agent", "dashboard", "registry", "signatures", "state"]

"""The registry's dashboard at ``/ui``: read-only HTML views of agents and shared state."""

from .policy import POLICY, PagePolicyMiddleware
from .routes import STATIC_PATH, install_ui, router

__all__ = ["POLICY", "STATIC_PATH", "PagePolicyMiddleware", "install_ui", "router"]

"""Web of Agents registry: discovery server (leases, search, change feed, mDNS).

Its clients live in the agent SDK (:class:`woa_agents.RegistryClient`), which talks to it
over HTTP only.
"""

from .app import REGISTRY_VERSION, create_app
from .mdns import AGENT_SERVICE_TYPE, REGISTRY_SERVICE_TYPE, DiscoveredService, discover
from .settings import RegistrySettings

__all__ = [
    "AGENT_SERVICE_TYPE",
    "REGISTRY_SERVICE_TYPE",
    "REGISTRY_VERSION",
    "DiscoveredService",
    "RegistrySettings",
    "create_app",
    "discover",
]

"""Web of Agents registry: discovery server (leases, search, change feed, mDNS) and its client."""

from .app import REGISTRY_VERSION, create_app
from .client import RegistryClient, RegistryError
from .mdns import AGENT_SERVICE_TYPE, REGISTRY_SERVICE_TYPE, DiscoveredService, discover
from .settings import RegistrySettings

__all__ = [
    "AGENT_SERVICE_TYPE",
    "REGISTRY_SERVICE_TYPE",
    "REGISTRY_VERSION",
    "DiscoveredService",
    "RegistryClient",
    "RegistryError",
    "RegistrySettings",
    "create_app",
    "discover",
]

"""Web of Agents registry: discovery and shared state server."""

__all__: list[str] = []

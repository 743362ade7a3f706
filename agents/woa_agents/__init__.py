"""Web of Agents agent SDK and sample agents."""

__all__: list[str] = []

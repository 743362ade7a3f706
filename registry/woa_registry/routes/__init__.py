"""The registry's HTTP and WebSocket routes, one module per resource."""

"""Shared-state configuration from ``WOA_STATE_*`` environment variables (pydantic-settings).

The database is the registry's (``WOA_REGISTRY_DATABASE_URL``); these knobs are the quotas,
the per-DID write rate and the background work of the state service.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .service import StateLimits

__all__ = ["StateSettings"]


class StateSettings(BaseSettings):
    """Every knob of the state service, with its documented default."""

    model_config = SettingsConfigDict(env_prefix="WOA_STATE_", extra="ignore")

    max_document_bytes: int = Field(default=64 * 1024, ge=16)
    """Largest canonical JSON value of one document (413 beyond)."""
    max_namespace_bytes: int = Field(default=16 * 1024 * 1024, ge=16)
    """Largest total size of a namespace's live values (413 beyond)."""
    max_namespace_documents: int = Field(default=10_000, ge=1)
    """Most live documents in one namespace (413 beyond)."""
    max_batch_operations: int = Field(default=100, ge=1)
    """Most operations in one batch (413 beyond)."""
    max_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=1)
    """Longest TTL a document may ask for."""
    max_page: int = Field(default=1000, ge=1, le=1000)
    """Largest page of a key listing or a history."""

    rate_per_did: float = Field(default=200.0, ge=0)
    """Sustained signed state writes per second per DID (0 disables the limit)."""
    burst_per_did: int = Field(default=400, ge=1)
    """Signed state writes a DID may send at once before the rate applies."""

    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    """How often documents whose TTL ended become ``expire`` changes."""
    watch_poll_seconds: float = Field(default=15.0, gt=0)
    """Longest wait of a watcher before it checks its connection and the namespace ACL again."""

    def limits(self) -> StateLimits:
        """The quotas as the service takes them."""
        return StateLimits(
            max_document_bytes=self.max_document_bytes,
            max_namespace_bytes=self.max_namespace_bytes,
            max_namespace_documents=self.max_namespace_documents,
            max_batch_operations=self.max_batch_operations,
            max_ttl_seconds=self.max_ttl_seconds,
            max_page=self.max_page,
        )

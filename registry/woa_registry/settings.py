"""Registry configuration from ``WOA_REGISTRY_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from woa_protocol import SigningKey
from woa_protocol.headers import DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_FIELDS
from woa_protocol.keyfile import load_key, save_key

__all__ = ["RegistrySettings", "load_or_create_key"]


class RegistrySettings(BaseSettings):
    """Every knob of the registry server, with its documented default.

    Each field can be set as ``WOA_REGISTRY_<FIELD>`` (e.g. ``WOA_REGISTRY_PORT=9000``);
    list fields take JSON (``WOA_REGISTRY_URL_FETCH_ALLOWLIST='["127.0.0.1/32"]'``).
    """

    model_config = SettingsConfigDict(env_prefix="WOA_REGISTRY_", extra="ignore")

    host: str = "127.0.0.1"
    """Address to listen on; binding anything but loopback is an explicit choice."""
    port: int = Field(default=8470, ge=0, le=65535)
    """TCP port (0: any free port)."""
    public_url: str | None = None
    """Base URL clients use (behind a proxy); request signatures are checked against it."""
    database_url: str = "sqlite:///./.woa/registry.db"
    """Storage backend: ``sqlite:///path`` (embedded default) or ``postgresql://...``."""
    key_file: Path = Path("./.woa/registry-key.pem")
    """The registry's Ed25519 key (created with mode 0600 when missing)."""

    lease_min_seconds: int = Field(default=10, ge=1)
    """Shortest lease a client may ask for."""
    lease_max_seconds: int = Field(default=3600, ge=1)
    """Longest lease a client may ask for."""
    lease_default_seconds: int = Field(default=60, ge=1)
    """Lease granted when the client does not ask for one."""
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    """How often the sweeper removes lapsed leases."""

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """Largest accepted request body (413 beyond)."""
    max_header_bytes: int = Field(default=DEFAULT_MAX_HEADER_BYTES, ge=1024)
    """Largest summed size of a request's header field names and values (431 beyond)."""
    max_header_fields: int = Field(default=DEFAULT_MAX_HEADER_FIELDS, ge=8)
    """Most header field lines in one request (431 beyond)."""
    search_max_limit: int = Field(default=100, ge=1)
    """Largest page size a search may ask for."""
    payload_search_max_results: int = Field(default=100, ge=1)
    """Most skills one payload search returns."""
    payload_search_max_scan: int = Field(default=10_000, ge=1)
    """Most agents one payload search examines."""

    rate_per_address: float = Field(default=50.0, ge=0)
    """Sustained requests per second per client address (0 disables the limit)."""
    burst_per_address: int = Field(default=200, ge=1)
    """Requests a client address may send at once before the rate applies."""
    rate_per_did: float = Field(default=5.0, ge=0)
    """Sustained signed writes per second per DID (0 disables the limit)."""
    burst_per_did: int = Field(default=20, ge=1)
    """Signed writes a DID may send at once before the rate applies."""

    signature_max_age_seconds: int = Field(default=300, ge=1)
    """Longest accepted request-signature lifetime."""
    clock_skew_seconds: int = Field(default=30, ge=0)
    """Tolerated clock difference with signers."""
    response_signature_lifetime_seconds: int = Field(default=60, ge=1)
    """``expires - created`` of the registry's own response signatures."""

    allow_url_registration: bool = False
    """Accept ``POST /v1/agents:fetch`` (unverified agents by URL)."""
    url_fetch_allowlist: list[str] = Field(default_factory=list)
    """Networks (CIDR) exempt from the SSRF filter, e.g. ``["127.0.0.1/32"]`` for tests."""
    url_fetch_timeout_seconds: float = Field(default=5.0, gt=0)
    """Time limit for fetching an agent card by URL."""

    mdns_enabled: bool = False
    """Advertise over DNS-SD/mDNS (``woa registry serve`` turns it on)."""
    mdns_interfaces: list[str] | None = None
    """Interfaces to advertise on; by default the listening address (loopback stays local)."""

    feed_poll_seconds: float = Field(default=15.0, gt=0)
    """Longest wait for a new event before the feed checks its connection again."""
    feed_retention_seconds: float = Field(default=7 * 24 * 3600, ge=0)
    """How long change-feed events are kept (REG-054); 0 keeps them for ever. A client whose
    ``since`` is older is told to re-read the registry (close code 4410)."""

    ui_enabled: bool = True
    """Serve the read-only dashboard at ``/ui`` (public reads only, REG-100)."""
    ui_call_key_file: Path | None = None
    """Key the dashboard's try-it panel signs calls with; unset: the panel is disabled
    (REG-102). Setting it lets anyone who can open ``/ui`` call agents as this key."""

    @model_validator(mode="after")
    def _consistent(self) -> RegistrySettings:
        if not self.lease_min_seconds <= self.lease_default_seconds <= self.lease_max_seconds:
            raise ValueError("lease bounds must satisfy min <= default <= max")
        for network in self.url_fetch_allowlist:
            ipaddress.ip_network(network, strict=False)
        return self

    @property
    def base_url(self) -> str:
        """The URL clients use: ``public_url`` or ``http://host:port``."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def load_or_create_key(path: Path) -> SigningKey:
    """Load the registry key from ``path``, creating it (mode 0600) when it does not exist."""
    if path.exists():
        return load_key(path)
    key = SigningKey.generate()
    try:
        save_key(key, path)
    except FileExistsError:  # another replica created it first
        return load_key(path)
    return key

"""File inputs of the sample agents: bytes inline, or a URL fetched only when allowed.

A file part carries its bytes (``raw``) or a ``url``. URLs are fetched only when the
agent's :class:`InputPolicy` allows it (``WOA_SAMPLES_ALLOW_URLS=1``; default off), with
the same size limit as inline bytes. A refused or failing file rejects the task with a
reason that says why (spec SMP-002, SMP-003).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from woa_agents import File, Rejected

__all__ = ["DEFAULT_MAX_BODY_BYTES", "InputPolicy", "file_bytes"]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
"""Default request body limit of a sample agent: room for a 12 MB file in base64."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class InputPolicy:
    """What file inputs an agent accepts: whether URLs are fetched, and size limits."""

    allow_urls: bool = False
    max_file_bytes: int = 12 * 1024 * 1024
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    fetch_timeout: float = 10.0

    @classmethod
    def from_env(cls) -> InputPolicy:
        """``WOA_SAMPLES_ALLOW_URLS`` (default off), ``WOA_SAMPLES_MAX_BODY_BYTES`` (16 MiB)."""
        body = int(os.environ.get("WOA_SAMPLES_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
        return cls(
            allow_urls=_flag("WOA_SAMPLES_ALLOW_URLS"),
            max_body_bytes=body,
            max_file_bytes=body * 3 // 4,
        )


async def file_bytes(file: File, policy: InputPolicy, what: str = "file") -> bytes:
    """The file's bytes: inline, or fetched from its URL when the policy allows it."""
    if file.raw is not None:
        data = bytes(file.raw)
    else:
        assert file.url is not None  # File holds exactly one of raw or url
        if not policy.allow_urls:
            raise Rejected(
                f"{what}: URL inputs are disabled on this agent (WOA_SAMPLES_ALLOW_URLS=1 "
                "enables them); send the bytes in the file part instead"
            )
        data = await _fetch(file.url, policy, what)
    if not data:
        raise Rejected(f"{what} is empty")
    if len(data) > policy.max_file_bytes:
        raise Rejected(f"{what} is {len(data)} bytes; the limit is {policy.max_file_bytes}")
    return data


async def _fetch(url: str, policy: InputPolicy, what: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise Rejected(f"{what}: only http(s) URLs are fetched, not {url!r}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with (
            httpx.AsyncClient(timeout=policy.fetch_timeout) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise Rejected(f"{what}: {url} answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > policy.max_file_bytes:
                    raise Rejected(f"{what}: {url} is over {policy.max_file_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise Rejected(f"{what}: cannot fetch {url}: {exc}") from exc
    return b"".join(chunks)

"""Random identifiers (task ids, span ids, nonces) drawn from a pool of OS randomness.

``os.urandom`` is a system call, and one per identifier cost more than the rest of making
it: a served call makes three (task, context and span ids). The pool reads 4 KiB at a time
and hands out each 16-byte chunk once, with ``deque.popleft`` (atomic, so threads never
share a chunk). A forked child starts with an empty pool and never repeats its parent's.
"""

from __future__ import annotations

import base64
import os
from collections import deque

__all__ = ["CHUNK_BYTES", "random_chunk", "random_hex", "random_urlsafe"]

CHUNK_BYTES = 16
"""Size of each chunk the pool hands out, and the most one identifier takes."""
_REFILL_CHUNKS = 256
_pool: deque[bytes] = deque()


def _refill() -> None:
    data = os.urandom(CHUNK_BYTES * _REFILL_CHUNKS)
    _pool.extend(data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES))


os.register_at_fork(after_in_child=_pool.clear)


def random_chunk() -> bytes:
    """16 bytes from the operating system's CSPRNG, never handed out before."""
    while True:
        try:
            return _pool.popleft()
        except IndexError:
            _refill()


def random_hex(nbytes: int = CHUNK_BYTES) -> str:
    """``nbytes`` (at most 16) random bytes as lower-case hex, like ``secrets.token_hex``."""
    if not 0 < nbytes <= CHUNK_BYTES:
        raise ValueError(f"nbytes must be from 1 to {CHUNK_BYTES}")
    chunk = random_chunk()
    return (chunk if nbytes == CHUNK_BYTES else chunk[:nbytes]).hex()


def random_urlsafe(nbytes: int = CHUNK_BYTES) -> str:
    """``nbytes`` (at most 16) random bytes, unpadded base64url (as ``secrets.token_urlsafe``)."""
    if not 0 < nbytes <= CHUNK_BYTES:
        raise ValueError(f"nbytes must be from 1 to {CHUNK_BYTES}")
    chunk = random_chunk()
    raw = chunk if nbytes == CHUNK_BYTES else chunk[:nbytes]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

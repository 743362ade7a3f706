"""Namespace access control by DID: the owner administers, writers write, readers read.

The owner is also a writer and a reader; writers are also readers. With ``public_read`` any
caller, signed or not, may read. Every write must be signed (RFC 9421) by an allowed DID.
"""

from __future__ import annotations

from .models import Acl
from .problems import ForbiddenError

__all__ = ["can_read", "can_write", "require_owner", "require_read", "require_write"]


def can_write(acl: Acl, did: str | None) -> bool:
    """True when ``did`` may change documents."""
    return did is not None and (did == acl.owner or did in acl.writers)


def can_read(acl: Acl, did: str | None) -> bool:
    """True when ``did`` (None: an unsigned caller) may read documents, history and watch."""
    return acl.public_read or can_write(acl, did) or (did is not None and did in acl.readers)


def require_write(acl: Acl, did: str | None, namespace: str) -> None:
    """Raise :class:`ForbiddenError` unless ``did`` may write in ``namespace``."""
    if not can_write(acl, did):
        who = did or "an unsigned caller"
        raise ForbiddenError(f"{who} may not write in namespace {namespace!r}")


def require_read(acl: Acl, did: str | None, namespace: str) -> None:
    """Raise :class:`ForbiddenError` unless ``did`` may read ``namespace``."""
    if not can_read(acl, did):
        who = did or "an unsigned caller"
        raise ForbiddenError(
            f"{who} may not read namespace {namespace!r}"
            + ("" if did else ": sign the request with an allowed key")
        )


def require_owner(acl: Acl, did: str, namespace: str) -> None:
    """Raise :class:`ForbiddenError` unless ``did`` owns ``namespace``."""
    if did != acl.owner:
        raise ForbiddenError(f"only the owner {acl.owner} may change the ACL of {namespace!r}")

"""What the shared-state service stores and exchanges: namespaces, documents, changes.

The dataclasses are the storage-neutral records every backend returns; the pydantic models
are the JSON bodies of the REST API (camelCase on the wire).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from woa_protocol.identity import ED25519_DID_PATTERN

from ..problems import InvalidRequestError
from ..text import TEXT_SCHEMA

__all__ = [
    "ETAG_LIST_PATTERN",
    "KEY_PATTERN",
    "MAX_KEY_LENGTH",
    "NAMESPACE_PATTERN",
    "Acl",
    "BatchOperation",
    "BatchRequest",
    "Change",
    "ChangeKind",
    "Document",
    "Namespace",
    "NamespaceRequest",
    "Provenance",
    "StoredDocument",
    "check_key",
    "check_namespace_name",
    "check_prefix",
    "format_time",
]

NAMESPACE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
"""Namespace names: 1-128 characters, letters, digits, ``.``, ``_``, ``-``."""

_SEGMENT = r"[A-Za-z0-9_~@:-][A-Za-z0-9._~@:-]*"
KEY_PATTERN = rf"{_SEGMENT}(?:/{_SEGMENT})*"
"""Document keys: ``/``-separated segments of unreserved URI characters (plus ``@``, ``:``);
no empty segment and no segment starting with a dot, so a key is its own URI path."""

MAX_KEY_LENGTH = 512

ETAG_LIST_PATTERN = r'^\s*(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)\s*$'
"""``If-Match``: ``*`` or a list of entity tags (RFC 9110), as declared and as parsed."""

_NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)
_KEY_RE = re.compile(KEY_PATTERN)
_PREFIX_RE = re.compile(r"[A-Za-z0-9._~@:/-]*")


def check_namespace_name(name: str) -> str:
    """Return ``name`` if it is a valid namespace name; raise InvalidRequestError."""
    if not _NAMESPACE_RE.fullmatch(name):
        raise InvalidRequestError(
            f"namespace name {name[:140]!r} must match {NAMESPACE_PATTERN}",
            [{"path": "namespace", "message": f"must match {NAMESPACE_PATTERN}"}],
        )
    return name


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid document key; raise InvalidRequestError."""
    if len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise InvalidRequestError(
            f"key {key[:140]!r} must match {KEY_PATTERN} and have at most {MAX_KEY_LENGTH} "
            "characters",
            [{"path": "key", "message": "invalid document key"}],
        )
    return key


def check_prefix(prefix: str) -> str:
    """Return a key prefix if it uses only key characters; raise InvalidRequestError."""
    if len(prefix) > MAX_KEY_LENGTH or not _PREFIX_RE.fullmatch(prefix):
        raise InvalidRequestError(
            f"prefix {prefix[:140]!r} may only contain characters of document keys",
            [{"path": "prefix", "message": "invalid key prefix"}],
        )
    return prefix


def format_time(value: datetime | None) -> str | None:
    """RFC 3339 UTC with microseconds and ``Z``."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Acl:
    """Who may do what in a namespace: the owner and writers write, readers read."""

    owner: str
    writers: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    public_read: bool = False


@dataclass(frozen=True)
class Namespace:
    """A namespace: its ACL, optional A2A contextId and current usage."""

    name: str
    acl: Acl
    context_id: str | None
    created_at: datetime
    updated_at: datetime
    bytes_used: int = 0
    document_count: int = 0

    def to_json(self) -> dict[str, Any]:
        """The wire form (``GET /v1/state/{ns}``)."""
        return {
            "namespace": self.name,
            "owner": self.acl.owner,
            "writers": list(self.acl.writers),
            "readers": list(self.acl.readers),
            "publicRead": self.acl.public_read,
            "contextId": self.context_id,
            "createdAt": format_time(self.created_at),
            "updatedAt": format_time(self.updated_at),
            "bytesUsed": self.bytes_used,
            "documentCount": self.document_count,
        }


@dataclass(frozen=True)
class StoredDocument:
    """A document row as stored: canonical JSON text, or a tombstone (``value_json`` None).

    Tombstones keep the version of a deleted key, so versions never repeat for a key.
    """

    namespace: str
    key: str
    value_json: str | None
    version: int
    writer: str | None
    updated_at: datetime
    expires_at: datetime | None
    rev: int

    @property
    def size(self) -> int:
        """Bytes the value counts against the namespace quota (0 for a tombstone)."""
        return 0 if self.value_json is None else len(self.value_json.encode("utf-8"))

    def live(self, now: datetime) -> bool:
        """True when the document exists at ``now`` (not deleted, not expired)."""
        return self.value_json is not None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class Document:
    """A live document as the API returns it."""

    namespace: str
    key: str
    value: Any
    version: int
    writer: str | None
    updated_at: datetime
    expires_at: datetime | None
    rev: int

    @property
    def etag(self) -> str:
        """The strong ETag of this version: the version number in quotes."""
        return f'"{self.version}"'

    def to_json(self, *, with_value: bool = True) -> dict[str, Any]:
        """The wire form; ``with_value=False`` for key listings and write results."""
        out: dict[str, Any] = {"namespace": self.namespace, "key": self.key}
        if with_value:
            out["value"] = self.value
        out.update(
            version=self.version,
            writer=self.writer,
            updatedAt=format_time(self.updated_at),
            expiresAt=format_time(self.expires_at),
            rev=self.rev,
        )
        return out


class ChangeKind(StrEnum):
    """What a change did to its document."""

    PUT = "put"
    PATCH = "patch"
    DELETE = "delete"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Provenance:
    """The signed request that caused a change, kept verbatim for later verification.

    ``headers`` holds every field the signature covers plus ``signature-input`` and
    ``signature``; ``received_at`` is when the server accepted it (the verification clock).
    """

    method: str
    target_uri: str
    headers: dict[str, str]
    body: bytes
    signer: str
    received_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The wire form inside a history entry (body in standard base64)."""
        return {
            "method": self.method,
            "targetUri": self.target_uri,
            "headers": dict(self.headers),
            "body": base64.b64encode(self.body).decode("ascii"),
            "signer": self.signer,
            "receivedAt": format_time(self.received_at),
        }


@dataclass(frozen=True)
class Change:
    """One committed change, numbered by its revision (global, in commit order)."""

    rev: int
    namespace: str
    key: str
    version: int
    kind: ChangeKind
    value: Any
    writer: str | None
    at: datetime
    expires_at: datetime | None
    provenance: Provenance | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The wire form (watch frames and history entries)."""
        out: dict[str, Any] = {
            "rev": self.rev,
            "namespace": self.namespace,
            "key": self.key,
            "version": self.version,
            "op": self.kind.value,
            "value": self.value,
            "writer": self.writer,
            "at": format_time(self.at),
            "expiresAt": format_time(self.expires_at),
        }
        if self.provenance is not None:
            out["request"] = self.provenance.to_json()
        return out


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


Did = Annotated[
    str,
    Field(
        min_length=9,
        max_length=256,
        pattern=r"^did:key:z[1-9A-HJ-NP-Za-km-z]+$",
        # the document declares exactly the Ed25519 did:keys; the service answers any other
        # did:key with 400 invalid-did
        json_schema_extra={"pattern": ED25519_DID_PATTERN},
    ),
]


class NamespaceRequest(_Wire):
    """Body of ``PUT /v1/state/{ns}``: create a namespace (signer = owner) or replace its ACL."""

    writers: list[Did] = Field(default_factory=list, max_length=256)
    readers: list[Did] = Field(default_factory=list, max_length=256)
    public_read: StrictBool = False  # 0 and "true" are not booleans (REG-005)
    context_id: str | None = Field(
        default=None, min_length=1, max_length=256, json_schema_extra=TEXT_SCHEMA
    )


def _when(op: str | list[str], then: dict[str, Any]) -> dict[str, Any]:
    ops = {"const": op} if isinstance(op, str) else {"enum": op}
    return {"if": {"properties": {"op": ops}, "required": ["op"]}, "then": then}


_BATCH_OPERATION_RULES: dict[str, Any] = {
    "allOf": [
        _when("put", {"required": ["value"]}),
        _when("patch", {"required": ["patch"], "properties": {"patch": {"type": "array"}}}),
        _when(["delete", "check"], {"not": {"required": ["ttlSeconds"]}}),
        _when(["put", "patch", "delete"], {"not": {"required": ["ifMatch", "ifNoneMatch"]}}),
    ]
}
"""What the batch route checks across fields, declared in its schema (JSON Schema if/then)."""


class BatchOperation(_Wire):
    """One operation of a batch, with its own precondition."""

    model_config = ConfigDict(json_schema_extra=_BATCH_OPERATION_RULES)

    op: Literal["put", "patch", "delete", "check"]
    key: str = Field(
        min_length=1, max_length=MAX_KEY_LENGTH, json_schema_extra={"pattern": f"^{KEY_PATTERN}$"}
    )
    value: Any = None
    patch: list[Any] | None = None
    if_match: str | None = Field(
        default=None, max_length=64, json_schema_extra={"pattern": ETAG_LIST_PATTERN}
    )
    if_none_match: str | None = Field(
        default=None, max_length=64, json_schema_extra={"pattern": r"^\s*\*\s*$"}
    )
    ttl_seconds: int | None = Field(default=None, ge=1)


class BatchRequest(_Wire):
    """Body of ``POST /v1/state/{ns}/batch``: operations applied all or nothing."""

    operations: list[BatchOperation] = Field(min_length=1)

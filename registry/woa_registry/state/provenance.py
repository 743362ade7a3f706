"""Signed provenance of every change, and its offline verification.

The server keeps, for each write, the request exactly as the signer signed it: method,
target URI, the covered header fields with ``Signature-Input`` and ``Signature``, and the
body. :func:`verify_history_entry` replays the protocol's RFC 9421 verification on a history
entry long after the fact: a fresh replay guard whose clock is pinned to the moment the
server accepted the request (so the validity window is judged as it was then, and the
nonce is not "replayed" by the check itself), then checks that the signed request really
asked for this change: same namespace, key, operation and value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonpatch

from woa_protocol import (
    HttpRequest,
    MessageVerifier,
    ReplayGuard,
    ReplayPolicy,
    VerifiedMessage,
    canonicalize_str,
)
from woa_protocol.httpsig import normalize_headers

from .models import Provenance

__all__ = [
    "HistoryVerificationError",
    "provenance_of",
    "verify_history",
    "verify_history_entry",
]

_KEPT_ALWAYS = ("signature-input", "signature", "content-digest")
_FIELD = re.compile(r'^"([a-z0-9!#$%&\'*+.^_`|~-]+)"')
_STATE_PATH = re.compile(r"/v1/state/([^/]+)/(?:docs/(.+)|batch)$")
_METHOD_OPS = {"PUT": "put", "PATCH": "patch", "DELETE": "delete"}


class HistoryVerificationError(ValueError):
    """A history entry's signed request does not vouch for the change it is attached to."""


def provenance_of(
    request: HttpRequest, verified: VerifiedMessage, received_at: datetime
) -> Provenance:
    """Keep what offline verification needs: covered fields, signature fields, body."""
    names = set(_KEPT_ALWAYS)
    for ident in verified.covered:
        match = _FIELD.match(ident)
        if match and not match.group(1).startswith("@"):
            names.add(match.group(1))
    headers = {name: request.headers[name] for name in sorted(names) if name in request.headers}
    return Provenance(
        method=request.method,
        target_uri=request.url,
        headers=headers,
        body=request.body,
        signer=verified.did,
        received_at=received_at,
    )


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _canonical(value: Any) -> str:
    return canonicalize_str(value)


def verify_history_entry(
    entry: dict[str, Any],
    *,
    previous_value: Any = None,
    has_previous: bool = False,
    policy: ReplayPolicy | None = None,
) -> VerifiedMessage:
    """Verify one history entry (the JSON of ``GET .../history``); return the signature.

    Raises a :class:`~woa_protocol.WoaError` when the signature does not verify (or lay
    outside its window when the server accepted it), and :class:`HistoryVerificationError`
    when the signed request names another signer, namespace, key, operation or value. A
    patch is checked against ``previous_value`` when ``has_previous`` is true.
    """
    request = entry.get("request")
    if not isinstance(request, dict):
        raise HistoryVerificationError(
            f"change {entry.get('rev')} ({entry.get('op')}) carries no signed request"
        )
    try:
        body = base64.b64decode(str(request["body"]), validate=True)
        message = HttpRequest(
            method=str(request["method"]),
            url=str(request["targetUri"]),
            headers=normalize_headers({str(k): str(v) for k, v in request["headers"].items()}),
            body=body,
        )
        accepted = _epoch(str(request["receivedAt"]))
    except (KeyError, AttributeError, TypeError, ValueError, binascii.Error) as exc:
        raise HistoryVerificationError(f"malformed request record: {exc}") from exc
    verifier = MessageVerifier()
    # Set after construction: MessageVerifier(replay_guard=g) ignores an empty guard (falsy).
    verifier.replay_guard = ReplayGuard(policy, clock=lambda: accepted)
    verified = verifier.verify_request(message)
    if verified.did != entry.get("writer") or verified.did != request.get("signer"):
        raise HistoryVerificationError(
            f"signed by {verified.did}, but the entry names writer {entry.get('writer')}"
        )
    _check_content(entry, message, previous_value, has_previous)
    return verified


def _check_content(
    entry: dict[str, Any], message: HttpRequest, previous: Any, has_previous: bool
) -> None:
    path = urlsplit(message.url).path
    match = _STATE_PATH.search(path)
    if match is None:
        raise HistoryVerificationError(f"the signed request targets {path}, not a state write")
    namespace, key = unquote(match.group(1)), match.group(2)
    if namespace != entry.get("namespace"):
        raise HistoryVerificationError(f"the signed request names namespace {namespace!r}")
    op: dict[str, Any]
    if key is not None:
        if unquote(key) != entry.get("key"):
            raise HistoryVerificationError(f"the signed request names key {unquote(key)!r}")
        kind = _METHOD_OPS.get(message.method)
        op = {"op": kind}
        if kind == "put":
            op["value"] = json.loads(message.body)
        elif kind == "patch":
            op["patch"] = json.loads(message.body)
    else:
        operations = json.loads(message.body).get("operations", [])
        found = [o for o in operations if isinstance(o, dict) and o.get("key") == entry.get("key")]
        if len(found) != 1:
            raise HistoryVerificationError("the signed batch has no operation on this key")
        op = found[0]
    if op.get("op") != entry.get("op"):
        raise HistoryVerificationError(
            f"the signed request asked for {op.get('op')}, the entry records {entry.get('op')}"
        )
    value = entry.get("value")
    if op["op"] == "put" and _canonical(op.get("value")) != _canonical(value):
        raise HistoryVerificationError("the stored value differs from the signed value")
    if op["op"] == "delete" and value is not None:
        raise HistoryVerificationError("a delete recorded a value")
    if op["op"] == "patch" and has_previous:
        try:
            patched = jsonpatch.JsonPatch(op.get("patch") or []).apply(previous, in_place=False)
        except Exception as exc:
            raise HistoryVerificationError(f"the signed patch does not apply: {exc}") from exc
        if _canonical(patched) != _canonical(value):
            raise HistoryVerificationError("the stored value differs from the signed patch")


def verify_history(
    entries: Sequence[dict[str, Any]], *, policy: ReplayPolicy | None = None
) -> list[VerifiedMessage | None]:
    """Verify a document's whole history in order: versions, values, every signature.

    Server-made ``expire`` entries have no signature (None in the result); every other
    entry must verify, and patches are checked against the value before them.
    """
    results: list[VerifiedMessage | None] = []
    previous: Any = None
    last_version = 0
    for entry in entries:
        version = entry.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise HistoryVerificationError(f"version {version!r} is not an integer")
        if version != last_version + 1 if last_version else version < 1:
            raise HistoryVerificationError(f"version {version} does not follow {last_version}")
        if entry.get("op") == "expire":
            results.append(None)
        else:
            results.append(
                verify_history_entry(
                    entry, previous_value=previous, has_previous=last_version > 0, policy=policy
                )
            )
        previous = entry.get("value")
        last_version = version
    return results

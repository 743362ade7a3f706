"""Pieces the checks share: problem expectations, test cards, signing variants."""

from __future__ import annotations

import base64
import time
from typing import Any

from woa_protocol import HttpRequest, SigningKey, content_digest, sign_card
from woa_protocol.httpsig import create_signature
from woa_protocol.ids import random_urlsafe
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    ModelFamily,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
)

from ..core import require
from ..target import Reply, Target

__all__ = [
    "ALWAYS_COVERED",
    "PROBLEM",
    "custom_sign",
    "expect_problem",
    "forge_signature",
    "make_card",
    "malleate_signature",
    "register",
    "skill_schema",
]

PROBLEM = "urn:woa:problem:"
ALWAYS_COVERED = ("if-match", "if-none-match", "a2a-version", "a2a-extensions", "traceparent")
"""Header fields a request signature covers whenever the request carries them (MSG-002, 012)."""
_L = 2**252 + 27742317777372353535851937790883648493  # the Ed25519 group order


def expect_problem(reply: Reply, slug: str, status: int, requirement: str, doing: str) -> None:
    """Require ``reply`` to be the problem ``slug`` with ``status``, naming ``requirement``."""
    require(
        reply.status == status and reply.problem_type == PROBLEM + slug,
        requirement,
        f"{doing}: expected {status} {PROBLEM}{slug}, got {reply.describe()}",
    )


def skill_schema(field: str) -> dict[str, Any]:
    """An input schema that only payloads carrying ``field`` (a string) satisfy."""
    return {
        "type": "object",
        "required": [field],
        "properties": {field: {"type": "string"}},
    }


def make_card(
    key: SigningKey,
    *,
    skill_id: str = "conformance-echo",
    description: str = "Conformance suite probe agent",
    tag: str = "conformance",
    field: str = "text",
    extension_did: str | None = None,
    signer: SigningKey | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A signed card for ``key``'s throwaway agent (``extra`` members are signed too)."""
    card = AgentCard(
        name="woa-conformance probe",
        description=description,
        supported_interfaces=[
            AgentInterface(url="http://127.0.0.1:9/", protocol_binding="JSONRPC")
        ],
        version="1.0.0",
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["application/json"],
        default_output_modes=["application/json"],
        skills=[
            AgentSkill(
                id=skill_id,
                name="Conformance echo",
                description="Echoes a conformance probe",
                tags=[tag],
                input_modes=["application/json"],
                output_modes=["application/json"],
            )
        ],
    )
    ext = WoaCardExtension(
        did=extension_did or key.did,
        skills={
            skill_id: SkillProfile(
                input_schema=skill_schema(field),
                output_schema={"type": "object"},
                family=ModelFamily.CLASSICAL,
            )
        },
    )
    data = attach_extension(card, ext).model_dump(mode="json", by_alias=True, exclude_none=True)
    data.update(extra or {})
    return sign_card(data, signer or key)


async def register(
    target: Target,
    key: SigningKey,
    card: dict[str, Any] | None = None,
    *,
    lease: int | None = None,
    cleanup: bool = True,
) -> Reply:
    """Register ``key``'s agent (signed PUT); deregister it when the run ends."""
    body: dict[str, Any] = {"card": card if card is not None else make_card(key)}
    if lease is not None:
        body["leaseSeconds"] = lease
    reply = await target.send("PUT", f"/v1/agents/{key.did}", body=body, key=key)
    if cleanup and reply.status in (200, 201):

        async def deregister() -> None:
            await target.send("DELETE", f"/v1/agents/{key.did}", key=key)

        target.cleanups.append(deregister)
    return reply


def custom_sign(
    request: HttpRequest,
    key: SigningKey,
    *,
    components: list[str] | None = None,
    nonce: bool | str = True,
    created: int | None = None,
    expires: int | None = None,
    keyid: str | None = None,
) -> None:
    """Sign ``request`` with chosen components and parameters (to probe the verifier)."""
    request.headers["content-digest"] = content_digest(request.body)
    if components is None:
        components = ["@method", "@target-uri", "content-digest"]
        if request.body and "content-type" in request.headers:
            components.append("content-type")
        components += [h for h in ALWAYS_COVERED if h in request.headers]  # MSG-012
    now = int(time.time())
    params: dict[str, Any] = {"created": created if created is not None else now}
    params["expires"] = expires if expires is not None else params["created"] + 60
    if nonce:
        params["nonce"] = nonce if isinstance(nonce, str) else random_urlsafe(16)
    params["keyid"] = keyid or key.did
    params["alg"] = "ed25519"
    sig_input, signature = create_signature(
        request, key=key, components=components, params=params, label="woa"
    )
    request.headers["signature-input"] = sig_input
    request.headers["signature"] = signature


def malleate_signature(request: HttpRequest) -> None:
    """Add the group order to the signature's ``S`` (same value mod L; RFC 8032 rejects it)."""
    label, _, rest = request.headers["signature"].partition("=:")
    raw = base64.b64decode(rest.rstrip(":"))
    s = int.from_bytes(raw[32:], "little") + _L
    if s >= 2**256:
        return
    forged = raw[:32] + s.to_bytes(32, "little")
    request.headers["signature"] = f"{label}=:{base64.b64encode(forged).decode()}:"


def forge_signature(request: HttpRequest) -> None:
    """Replace the signature bytes with others of the same length."""
    label, _, rest = request.headers["signature"].partition("=:")
    raw = bytearray(base64.b64decode(rest.rstrip(":")))
    raw[5] ^= 0x01
    request.headers["signature"] = f"{label}=:{base64.b64encode(bytes(raw)).decode()}:"

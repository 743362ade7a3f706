"""Signed-request rejections, the same for a registry and an agent (MSG, RPL, ID-006).

Each variant signs one harmless request with a throwaway key, breaks it in one way and
expects the refusal the spec names: a registry answers the problem type (REG-010) and stores
nothing (REG-071); an agent answers HTTP 401 with JSON-RPC ``-32050`` whose ErrorInfo reason
is the problem slug in capitals (AGT-030). The registry's probe is a registration of the
throwaway agent; the agent's is ``GetTask`` for a task that does not exist.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from woa_protocol import HttpRequest, SigningKey, did_url

from ..core import check, not_applicable, require
from ..target import Reply, Target
from ._helpers import PROBLEM, custom_sign, forge_signature, make_card, malleate_signature

__all__ = ["Outcome", "probe"]

Prepare = Callable[[HttpRequest, SigningKey], None]


@dataclass(frozen=True)
class Outcome:
    """What the target did with a probe: accepted it, or refused it with a problem slug."""

    accepted: bool
    slug: str | None
    reply: Reply


def _agent_slug(reply: Reply) -> str | None:
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    for detail in error.get("data") or []:
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
            return str(detail["reason"]).lower().replace("_", "-")
    return None


async def probe(
    target: Target,
    key: SigningKey,
    prepare: Prepare | None,
    *,
    request_hook: Callable[[HttpRequest], None] | None = None,
) -> Outcome:
    """Send the kind's harmless request, prepared (signed and broken) by ``prepare``."""

    def tamper(request: HttpRequest) -> None:
        if prepare is not None:
            prepare(request, key)
        if request_hook is not None:
            request_hook(request)

    if target.kind == "registry":
        body = {"card": make_card(key)}
        path = f"/v1/agents/{key.did}"
        reply = await target.send("PUT", path, body=body, tamper=tamper)
        if reply.status in (200, 201):

            async def deregister() -> None:
                await target.send("DELETE", path, key=key)

            target.cleanups.append(deregister)
            return Outcome(True, None, reply)
        problem = reply.problem_type or ""
        return Outcome(False, problem.removeprefix(PROBLEM) or None, reply)
    reply = await target.rpc("GetTask", {"id": str(uuid.uuid4())}, tamper=tamper)
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    refused = isinstance(error, dict) and error.get("code") in (-32050, -32051)
    if refused and reply.status not in (401, 403):
        return Outcome(False, f"(HTTP {reply.status}, expected 401)", reply)
    return Outcome(not refused, _agent_slug(reply) if refused else None, reply)


def _sign(request: HttpRequest, key: SigningKey) -> None:
    custom_sign(request, key)


def _then(*steps: Prepare) -> Prepare:
    def run(request: HttpRequest, key: SigningKey) -> None:
        for step in steps:
            step(request, key)

    return run


def _tamper_body(request: HttpRequest, key: SigningKey) -> None:
    request.body = request.body + b" "


def _tamper_header(request: HttpRequest, key: SigningKey) -> None:
    request.headers["content-type"] = "application/json; charset=utf-8"


def _forge(request: HttpRequest, key: SigningKey) -> None:
    forge_signature(request)


def _malleate(request: HttpRequest, key: SigningKey) -> None:
    malleate_signature(request)


def _expired(request: HttpRequest, key: SigningKey) -> None:
    now = int(time.time())
    custom_sign(request, key, created=now - 1000, expires=now - 940)


def _expires_before_created(request: HttpRequest, key: SigningKey) -> None:
    now = int(time.time())
    custom_sign(request, key, created=now, expires=now - 10)


def _future(request: HttpRequest, key: SigningKey) -> None:
    now = int(time.time())
    custom_sign(request, key, created=now + 900, expires=now + 960)


def _no_nonce(request: HttpRequest, key: SigningKey) -> None:
    custom_sign(request, key, nonce=False)


def _too_little(request: HttpRequest, key: SigningKey) -> None:
    custom_sign(request, key, components=["@method", "content-digest"])


def _short_nonce(request: HttpRequest, key: SigningKey) -> None:
    custom_sign(request, key, nonce="x")


def _hex_nonce(request: HttpRequest, key: SigningKey) -> None:
    custom_sign(request, key, nonce="0123456789abcdef")


def _uncovered_precondition(request: HttpRequest, key: SigningKey) -> None:
    """Signed, then given an If-Match the signature does not cover (a CAS made blind)."""
    custom_sign(request, key)
    request.headers["if-match"] = '"1"'


def _signer_names_itself_as_other(request: HttpRequest, key: SigningKey) -> None:
    """Signed by ``key`` but naming another DID as keyid: the signature cannot verify."""
    custom_sign(request, key, keyid=SigningKey.generate().did)


_KIND_IDS: dict[str, tuple[str, ...]] = {"registry": ("REG-010", "REG-071"), "agent": ("AGT-030",)}


def _rejection(
    name: str,
    prepare: Prepare | None,
    slug: str,
    *requirements: str,
    agent_only: tuple[str, ...] = (),
) -> None:
    """Register the check "a ``prepare``d request is refused with ``slug``" for both kinds."""
    for kind in ("registry", "agent"):
        kind_ids = _KIND_IDS[kind]
        cited = (*requirements, *kind_ids, *(agent_only if kind == "agent" else ()))
        run = _rejection_check(prepare, slug, requirements[0] if requirements else kind_ids[0])
        run.__doc__ = f"a request with {name.replace('_', ' ')} is refused ({slug})"
        check(kind, *cited, name=f"rejects_{name}")(run)


def _rejection_check(prepare: Prepare | None, slug: str, first: str) -> Callable[[Target], Any]:
    async def run(target: Target) -> None:
        main = "REG-010" if target.kind == "registry" else "AGT-030"
        outcome = await probe(target, target.new_key(), prepare)
        if prepare is None and target.kind == "agent" and outcome.accepted:
            if await target.extension() is None:
                require(
                    False,
                    main,
                    "unsigned requests are served: this agent verifies no "
                    "signatures (its card has no Web of Agents extension)",
                )
            not_applicable("the agent accepts unsigned requests (AGT-031 allows it)")
        require(not outcome.accepted, first, f"accepted: {outcome.reply.describe()}")
        require(
            outcome.slug == slug,
            main,
            f"refused as {outcome.slug!r}, expected {slug!r}: {outcome.reply.describe()}",
        )
        if target.kind == "registry":
            did = outcome.reply.request.url.rsplit("/", 1)[-1]
            after = await target.send("GET", f"/v1/agents/{did}")
            require(after.status == 404, "REG-071", f"refused agent is listed: {after.describe()}")

    return run


_rejection("missing_signature", None, "signature-missing", agent_only=("AGT-031",))
_rejection(
    "forged_signature",
    _then(_sign, _forge),
    "signature-invalid",
    "MSG-006",
    agent_only=("AGT-031",),
)
_rejection("non_canonical_s", _then(_sign, _malleate), "signature-invalid", "ID-006")
_rejection(
    "tampered_body", _then(_sign, _tamper_body), "content-digest-mismatch", "MSG-004", "MSG-006"
)
_rejection("tampered_header", _then(_sign, _tamper_header), "signature-invalid", "MSG-006")
_rejection("wrong_keyid", _signer_names_itself_as_other, "signature-invalid", "MSG-001")
_rejection("expired_signature", _expired, "signature-expired", "RPL-002")
_rejection("expires_before_created", _expires_before_created, "signature-expired", "RPL-002")
_rejection("future_signature", _future, "signature-not-yet-valid", "RPL-001")
_rejection("no_nonce", _no_nonce, "signature-invalid", "MSG-003")
_rejection("too_few_components", _too_little, "signature-invalid", "MSG-002")
_rejection("one_character_nonce", _short_nonce, "signature-invalid", "MSG-003")
_rejection("hex_nonce", _hex_nonce, "signature-invalid", "MSG-003")
_rejection("uncovered_if_match", _uncovered_precondition, "signature-invalid", "MSG-012")


@check(("registry", "agent"), "RPL-003", "MSG-008")
async def check_replay_refused(target: Target) -> None:
    """The same signed request sent twice: the second is refused (signature-replayed)."""
    key = target.new_key()
    sent: list[HttpRequest] = []
    first = await probe(target, key, _sign, request_hook=sent.append)
    require(
        first.accepted, "MSG-008", f"a valid signed request was refused: {first.reply.describe()}"
    )
    original = sent[0]

    def replay(request: HttpRequest, key: SigningKey) -> None:
        request.body = original.body
        request.headers.clear()
        request.headers.update(original.headers)

    second = await probe(target, key, replay)
    require(
        not second.accepted,
        "RPL-003",
        f"a replayed request was accepted: {second.reply.describe()}",
    )
    require(second.slug == "signature-replayed", "RPL-003", f"replay refused as {second.slug!r}")


@check(("registry", "agent"), "RPL-005")
async def check_forgery_burns_no_nonce(target: Target) -> None:
    """A forged request does not burn its nonce: the genuine one with that nonce still passes."""
    key = target.new_key()
    sent: list[HttpRequest] = []

    # Sign once (kept), send a forged copy first, then the genuine request.
    def sign_keep_forge(request: HttpRequest) -> None:
        _sign(request, key)
        sent.append(copy.deepcopy(request))
        forge_signature(request)

    genuine = await probe(target, key, None, request_hook=sign_keep_forge)
    require(
        not genuine.accepted,
        "MSG-006",
        f"a forged request was accepted: {genuine.reply.describe()}",
    )
    original = sent[0]

    def resend(request: HttpRequest, key: SigningKey) -> None:
        request.body = original.body
        request.headers.clear()
        request.headers.update(original.headers)

    second = await probe(target, key, resend)
    require(
        second.accepted,
        "RPL-005",
        f"the genuine request was refused after a forgery used its nonce: "
        f"{second.reply.describe()}",
    )


@check(("registry", "agent"), "ID-003")
async def check_keyid_did_url_accepted(target: Target) -> None:
    """A request whose keyid is the signer's DID URL (fragment = its own key) is accepted."""
    key = target.new_key()

    def sign(request: HttpRequest, key: SigningKey) -> None:
        custom_sign(request, key, keyid=did_url(key.did))

    outcome = await probe(target, key, sign)
    require(outcome.accepted, "ID-003", f"refused: {outcome.reply.describe()}")

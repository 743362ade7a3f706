"""Registry checks: self-description, registration, leases, search, change feed, errors."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time
import uuid
from datetime import datetime
from typing import Any

from woa_protocol import (
    FrameVerifier,
    InvalidSignatureError,
    SigningKey,
    did_url,
    resolve_did,
    sign_card,
)

from ..core import check, not_applicable, require
from ..manifest import problem_statuses
from ..target import REGISTRY_WELL_KNOWN, Target, WsClosed
from ._helpers import expect_problem, make_card, register

_RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _did_ok(did: object) -> bool:
    try:
        return isinstance(did, str) and resolve_did(did).did == did
    except Exception:
        return False


@check("registry", "REG-001", "ID-001")
async def check_description(target: Target) -> None:
    """/.well-known/woa-registry.json names version, DID, endpoints, lease bounds, limits."""
    info = await target.registry_description()
    for member in ("version", "did", "apiVersion", "endpoints", "lease", "maxBodyBytes"):
        require(member in info, "REG-001", f"description lacks {member!r}")
    for member in ("urlRegistration", "mdnsServiceType"):
        require(member in info, "REG-001", f"description lacks {member!r}")
    require(info["apiVersion"] == "v1", "REG-001", f"apiVersion is {info['apiVersion']!r}")
    lease = info["lease"]
    require(
        isinstance(lease, dict)
        and all(isinstance(lease.get(k), int) for k in ("min", "max", "default")),
        "REG-001",
        f"lease is not {{min, max, default}} integers: {lease!r}",
    )
    require(
        _did_ok(info["did"]),
        "ID-001",
        f"the registry's DID is not an Ed25519 did:key: {info['did']!r}",
    )


@check("registry", "REG-002", "MSG-009", "ID-003")
async def check_responses_signed(target: Target) -> None:
    """Answers to unsigned requests, errors included, are signed by the registry's DID."""
    did = await target.registry_did()
    for path in (
        REGISTRY_WELL_KNOWN,
        "/healthz",
        "/v1/no-such-resource",
        f"/v1/agents/{SigningKey.generate().did}",
    ):
        reply = await target.send("GET", path)
        problem = target.signature_error(reply, did)
        require(problem is None, "REG-002", f"GET {path} ({reply.status}): {problem}")
        sig_input = reply.headers.get("signature-input", "")
        require("nonce=" not in sig_input, "MSG-009", f"GET {path}: unbound answer carries a nonce")
        require(
            f'keyid="{did}"' in sig_input,
            "ID-003",
            f"GET {path}: keyid is not the bare DID: {sig_input}",
        )


@check("registry", "REG-003", "MSG-005")
async def check_responses_bound(target: Target) -> None:
    """Answers to signed requests (refusals too) are bound to the request's signature."""
    did = await target.registry_did()
    key = target.new_key()
    reply = await target.send("POST", f"/v1/agents/{key.did}/heartbeat", key=key)
    require(
        "signature;req" in reply.headers.get("signature-input", "").replace('"', ""),
        "REG-003",
        "the answer to a signed request does not cover its signature: "
        f"{reply.headers.get('signature-input')}",
    )
    problem = target.signature_error(reply, did)
    require(problem is None, "MSG-005", f"bound answer does not verify: {problem}")


@check("registry", "REG-004", "REG-005")
async def check_openapi(target: Target) -> None:
    """/openapi.json is an OpenAPI 3 document describing the registry's endpoints."""
    reply = await target.send("GET", "/openapi.json")
    doc = reply.json()
    require(
        reply.status == 200 and isinstance(doc, dict),
        "REG-004",
        f"GET /openapi.json: {reply.describe()}",
    )
    require(str(doc.get("openapi", "")).startswith("3."), "REG-004", "not an OpenAPI 3 document")
    paths = doc.get("paths") or {}
    for path in (
        "/v1/agents/{did}",
        "/v1/agents",
        "/v1/search/payload",
        "/v1/agents/{did}/heartbeat",
    ):
        require(path in paths, "REG-004", f"OpenAPI document does not describe {path}")
    docs = paths.get("/v1/state/{ns}/docs/{key}") or {}
    for method, required in (("put", False), ("patch", True), ("delete", True)):
        headers = {
            p.get("name", "").lower(): p
            for p in (docs.get(method) or {}).get("parameters", [])
            if p.get("in") == "header"
        }
        declared = headers.get("if-match")
        require(
            declared is not None and bool(declared.get("required")) == required,
            "REG-005",
            f"{method.upper()} of a state document does not declare If-Match"
            + (" as required" if required else ""),
        )


@check("registry", "REG-080")
async def check_health(target: Target) -> None:
    """/healthz answers 200 {"status": "ok"}; /readyz answers 200 while the store answers."""
    reply = await target.send("GET", "/healthz")
    require(
        reply.status == 200 and reply.json() == {"status": "ok"},
        "REG-080",
        f"/healthz: {reply.describe()}",
    )
    ready = await target.send("GET", "/readyz")
    require(ready.status == 200, "REG-080", f"/readyz: {ready.describe()}")


@check("registry", "REG-081")
async def check_metrics(target: Target) -> None:
    """/metrics serves Prometheus text with the four named metrics."""
    reply = await target.send("GET", "/metrics")
    text = reply.content.decode("utf-8", "replace")
    require(reply.status == 200, "REG-081", f"/metrics: {reply.describe()}")
    for name in (
        "woa_registry_requests_total",
        "woa_registry_request_seconds",
        "woa_registry_agents",
        "woa_registry_events_total",
    ):
        require(f"# TYPE {name}" in text, "REG-081", f"/metrics has no {name}")


def _ts(value: Any) -> datetime:
    require(
        isinstance(value, str) and _RFC3339_Z.match(value),
        "REG-017",
        f"not an RFC 3339 UTC time: {value!r}",
    )
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@check(
    "registry",
    "REG-010",
    "REG-017",
    "REG-018",
    "REG-020",
    "REG-021",
    "REG-022",
    "REG-030",
    "MSG-008",
    "CARD-003",
)
async def check_registration_lifecycle(target: Target) -> None:
    """Register (201), update (200, same registeredAt), read, heartbeat, deregister (204)."""
    info = await target.registry_description()
    key = target.new_key()
    card = make_card(key, extra={"x-woa-conformance": {"unknown": "member", "n": [1, 2.5]}})
    created = await register(target, key, card)
    require(created.status == 201, "REG-010", f"a valid signed registration: {created.describe()}")
    body = created.json()
    for member in (
        "did",
        "name",
        "description",
        "url",
        "verified",
        "registeredAt",
        "updatedAt",
        "leaseExpiresAt",
        "skills",
        "card",
        "eventSeq",
    ):
        require(member in body, "REG-017", f"registration answer lacks {member!r}")
    require(body["did"] == key.did, "MSG-008", f"stored under {body['did']}, signer was {key.did}")
    require(
        body["card"] == card,
        "CARD-003",
        "the card is not stored exactly as sent (unknown members kept)",
    )
    require(body["verified"] is True, "REG-018", "a self-registered agent is not verified")
    lease = (info.get("lease") or {}).get("default")
    if isinstance(lease, int):
        delta = (_ts(body["leaseExpiresAt"]) - _ts(body["updatedAt"])).total_seconds()
        require(
            abs(delta - lease) <= 2,
            "REG-030",
            f"default lease is {delta:.0f} s, description says {lease}",
        )
    updated = await register(target, key, card, cleanup=False)
    require(updated.status == 200, "REG-017", f"an update answered {updated.describe()}")
    require(
        updated.json()["registeredAt"] == body["registeredAt"],
        "REG-017",
        "an update changed registeredAt",
    )
    got = await target.send("GET", f"/v1/agents/{key.did}")
    require(
        got.status == 200 and got.json().get("card") == card,
        "REG-020",
        f"GET the agent: {got.describe()}",
    )
    require("eventSeq" not in got.json(), "REG-020", "GET returns eventSeq")
    beat = await target.send("POST", f"/v1/agents/{key.did}/heartbeat", key=key)
    require(
        beat.status == 200 and set(beat.json() or {}) >= {"did", "leaseExpiresAt"},
        "REG-022",
        f"heartbeat: {beat.describe()}",
    )
    gone = await target.send("DELETE", f"/v1/agents/{key.did}", key=key)
    require(gone.status == 204, "REG-021", f"deregistration: {gone.describe()}")
    after = await target.send("GET", f"/v1/agents/{key.did}")
    expect_problem(after, "agent-not-found", 404, "REG-020", "GET a deregistered agent")
    again = await target.send("DELETE", f"/v1/agents/{key.did}", key=key)
    expect_problem(again, "agent-not-found", 404, "REG-021", "DELETE an unknown agent")
    beat = await target.send("POST", f"/v1/agents/{key.did}/heartbeat", key=key)
    expect_problem(beat, "agent-not-found", 404, "REG-022", "heartbeat of an unknown agent")


@check("registry", "REG-030", "REG-071")
async def check_lease_bounds(target: Target) -> None:
    """A lease outside [min, max] is lease-out-of-range (422, minimum/maximum); nothing stored."""
    lease = (await target.registry_description()).get("lease") or {}
    key = target.new_key()
    reply = await register(target, key, lease=int(lease.get("max", 3600)) + 1)
    expect_problem(reply, "lease-out-of-range", 422, "REG-030", "lease above the maximum")
    problem = reply.json()
    require(
        "minimum" in problem and "maximum" in problem,
        "REG-030",
        "lease-out-of-range lacks minimum/maximum",
    )
    after = await target.send("GET", f"/v1/agents/{key.did}")
    require(after.status == 404, "REG-071", "a refused registration was stored")


@check("registry", "REG-011", "ID-002")
async def check_invalid_did(target: Target) -> None:
    """A path DID that is not an Ed25519 did:key is invalid-did (400)."""
    key = target.new_key()
    cases = [
        ("did:web:example.com", "REG-011"),
        ("did:key:z6MkBAD0OIl", "ID-002"),  # not base58
        ("did:key:" + key.did[8:-3], "ID-002"),  # a key that is not 32 bytes
        ("did:key:m" + key.did[9:], "ID-002"),  # another multibase prefix
    ]
    for bad, requirement in cases:
        reply = await target.send(
            "PUT", f"/v1/agents/{bad}", body={"card": make_card(key)}, key=key
        )
        expect_problem(reply, "invalid-did", 400, requirement, f"PUT /v1/agents/{bad}")


@check("registry", "REG-012", "REG-016", "EXT-002")
async def check_did_mismatch(target: Target) -> None:
    """Signed by another key, or a card naming another DID: did-mismatch (403), nothing stored."""
    owner, intruder = target.new_key(), target.new_key()
    reply = await target.send(
        "PUT", f"/v1/agents/{owner.did}", body={"card": make_card(owner)}, key=intruder
    )
    expect_problem(reply, "did-mismatch", 403, "REG-012", "registration signed by another DID")
    card = make_card(owner, extension_did=intruder.did)
    reply = await target.send("PUT", f"/v1/agents/{owner.did}", body={"card": card}, key=owner)
    expect_problem(reply, "did-mismatch", 403, "REG-016", "card whose extension names another DID")
    after = await target.send("GET", f"/v1/agents/{owner.did}")
    require(after.status == 404, "EXT-002", "a card naming another DID was stored")


@check("registry", "REG-013", "REG-014", "REG-071")
async def check_malformed_registration(target: Target) -> None:
    """Not JSON: malformed-json (400); wrong shape: invalid-request (422); bad card: 422."""
    key = target.new_key()
    path = f"/v1/agents/{key.did}"
    reply = await target.send("PUT", path, raw=b'{"card": ', key=key)
    expect_problem(reply, "malformed-json", 400, "REG-013", "a body that is not JSON")
    reply = await target.send("PUT", path, body={"cards": []}, key=key)
    expect_problem(reply, "invalid-request", 422, "REG-013", "a body without card")
    require(
        isinstance(reply.json().get("errors"), list), "REG-013", "invalid-request lists no errors"
    )
    unsigned = {k: v for k, v in make_card(key).items() if k not in ("name", "signatures")}
    reply = await target.send("PUT", path, body={"card": sign_card(unsigned, key)}, key=key)
    expect_problem(reply, "invalid-card", 422, "REG-014", "a signed card without name")
    require(isinstance(reply.json().get("errors"), list), "REG-014", "invalid-card lists no errors")
    after = await target.send("GET", path)
    require(after.status == 404, "REG-071", "a rejected registration was stored")


@check("registry", "REG-015", "CARD-004", "JCS-002")
async def check_card_signature(target: Target) -> None:
    """Tampered or foreign-signed cards: invalid-card-signature (401); no JCS form: 422."""
    key = target.new_key()
    path = f"/v1/agents/{key.did}"
    card = make_card(key)
    card["description"] = "changed after signing"
    reply = await target.send("PUT", path, body={"card": card}, key=key)
    expect_problem(reply, "invalid-card-signature", 401, "CARD-004", "a card changed after signing")
    card = make_card(key, signer=target.new_key())
    reply = await target.send("PUT", path, body={"card": card}, key=key)
    expect_problem(reply, "invalid-card-signature", 401, "REG-015", "a card signed by another key")
    card = make_card(key)
    raw = target_json_with_big_int(card)
    reply = await target.send("PUT", path, raw=raw, key=key)
    expect_problem(reply, "not-canonicalizable", 422, "JCS-002", "a card holding 2**60")


def target_json_with_big_int(card: dict[str, Any]) -> bytes:
    """The registration body with a member holding 2**60 (no JCS form: JCS-002)."""
    text = json.dumps({"card": {**card, "x-big": 1}})
    return text.replace('"x-big": 1', '"x-big": 1152921504606846976').encode()


@check("registry", "REG-072")
async def check_body_limit(target: Target) -> None:
    """A body over maxBodyBytes is payload-too-large (413)."""
    limit = (await target.registry_description()).get("maxBodyBytes")
    if not isinstance(limit, int) or limit > 64 * 1024 * 1024:
        not_applicable(f"maxBodyBytes {limit!r} is not a bound this suite sends")
    key = target.new_key()
    body = b'{"card": "' + b"x" * (limit + 1) + b'"}'
    reply = await target.send("PUT", f"/v1/agents/{key.did}", raw=body, key=key)
    expect_problem(reply, "payload-too-large", 413, "REG-072", f"a {len(body)}-byte body")


@check("registry", "REG-070", "ERR-001", "ERR-002", "REG-006")
async def check_problem_details(target: Target) -> None:
    """Errors are problem+json with type, title, status, detail; statuses as in the table."""
    statuses = problem_statuses()
    key = target.new_key()
    replies = [
        await target.send("GET", "/v1/no-such-resource"),
        await target.send("POST", "/healthz"),
        await target.send("GET", f"/v1/agents/{key.did}"),
        await target.send("PUT", f"/v1/agents/{key.did}", body={"card": {}}),
    ]
    expect_problem(replies[0], "not-found", 404, "REG-070", "an unknown path")
    expect_problem(replies[1], "method-not-allowed", 405, "REG-070", "POST /healthz")
    wrong = await target.send("POST", f"/v1/agents/{key.did}")
    allowed = {m.strip().upper() for m in wrong.headers.get("allow", "").split(",")}
    require(
        wrong.status == 405 and {"GET", "PUT", "DELETE"} <= allowed,
        "REG-006",
        f"POST /v1/agents/{{did}} answered {wrong.status} with Allow {sorted(allowed)}",
    )
    for reply in replies:
        problem = reply.json()
        require(
            reply.headers.get("content-type", "").startswith("application/problem+json"),
            "ERR-001",
            f"content type {reply.headers.get('content-type')!r}",
        )
        for member in ("type", "title", "status", "detail"):
            require(
                isinstance(problem, dict) and member in problem,
                "ERR-001",
                f"problem lacks {member!r}: {reply.describe()}",
            )
        require(
            problem["status"] == reply.status,
            "ERR-001",
            "problem status differs from the HTTP status",
        )
        slug = str(problem["type"])
        require(slug in statuses, "ERR-002", f"type {slug!r} is not in the spec's table")
        require(
            statuses[slug] == reply.status,
            "ERR-002",
            f"{slug} answered {reply.status}, table says {statuses[slug]}",
        )


@check("registry", "REG-060")
async def check_url_registration_disabled(target: Target) -> None:
    """Without the operator's consent, registration by URL is url-registration-disabled (403)."""
    if (await target.registry_description()).get("urlRegistration") is not False:
        not_applicable("this registry enables registration by URL (REG-061..063 need a card host)")
    reply = await target.send("POST", "/v1/agents:fetch", body={"url": "http://192.0.2.1/"})
    expect_problem(reply, "url-registration-disabled", 403, "REG-060", "POST /v1/agents:fetch")


async def _probe_agents(target: Target, count: int) -> tuple[str, str, list[SigningKey]]:
    """Register ``count`` agents sharing a fresh skill id and description word."""
    word = "probe" + uuid.uuid4().hex[:10]
    skill = "conf-" + word
    keys = [target.new_key() for _ in range(count)]
    for key in keys:
        reply = await register(
            target,
            key,
            make_card(
                key, skill_id=skill, description=f"Conformance {word} agent", tag=word, field=word
            ),
        )
        require(reply.status == 201, "REG-010", f"registration: {reply.describe()}")
    return word, skill, keys


@check("registry", "REG-040", "REG-041")
async def check_search_and_paging(target: Target) -> None:
    """Filters match one skill; results by DID; cursors list each agent exactly once."""
    word, skill, keys = await _probe_agents(target, 3)
    dids = sorted(k.did for k in keys)
    reply = await target.send("GET", f"/v1/agents?skill={skill}&limit=10")
    page = reply.json()
    require(
        reply.status == 200 and isinstance(page, dict), "REG-040", f"search: {reply.describe()}"
    )
    found = [a.get("did") for a in page.get("agents", [])]
    require(found == dids, "REG-041", f"skill={skill} listed {found}, expected {dids} in DID order")
    matched = page.get("matchedSkills") or {}
    require(all(matched.get(d) == [skill] for d in dids), "REG-040", f"matchedSkills: {matched}")
    for query in (
        f"tag={word}&family=classical",
        f"q={word}",
        f"skill={skill}&inputMode=application/json",
    ):
        reply = await target.send("GET", f"/v1/agents?{query}")
        got = [a.get("did") for a in (reply.json() or {}).get("agents", [])]
        require(got == dids, "REG-040", f"search {query} listed {got}")
    reply = await target.send("GET", f"/v1/agents?skill={skill}&family=slm")
    require((reply.json() or {}).get("agents") == [], "REG-040", "a family filter did not exclude")
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(dids) + 2):
        query = f"/v1/agents?skill={skill}&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await target.send("GET", query)).json() or {}
        seen += [a["did"] for a in page.get("agents", [])]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    require(seen == dids, "REG-041", f"paging with limit=1 listed {seen}, expected {dids}")


@check("registry", "REG-042", "REG-074")
async def check_search_errors(target: Target) -> None:
    """A foreign cursor is invalid-cursor (400); a malformed filter invalid-request (422)."""
    reply = await target.send("GET", "/v1/agents?cursor=not-a-cursor-we-issued")
    expect_problem(reply, "invalid-cursor", 400, "REG-042", "a foreign cursor")
    for query in ("family=gpt", "limit=0", "limit=1001", "skill="):
        reply = await target.send("GET", f"/v1/agents?{query}")
        expect_problem(reply, "invalid-request", 422, "REG-042", f"search {query}")
    reply = await target.send("GET", "/v1/agents?skill=" + "s" * 300)
    expect_problem(reply, "invalid-request", 422, "REG-074", "a 300-character filter")


@check("registry", "REG-043")
async def check_payload_search(target: Target) -> None:
    """POST /v1/search/payload lists the skills whose input schema accepts the payload."""
    word, skill, keys = await _probe_agents(target, 2)
    reply = await target.send(
        "POST", "/v1/search/payload", body={"payload": {word: "x"}, "skill": skill}
    )
    body = reply.json()
    require(
        reply.status == 200 and isinstance(body, dict),
        "REG-043",
        f"payload search: {reply.describe()}",
    )
    matches = [(m.get("did"), m.get("skillId")) for m in body.get("matches", [])]
    require(
        matches == [(d, skill) for d in sorted(k.did for k in keys)],
        "REG-043",
        f"matches: {matches}",
    )
    require(isinstance(body.get("truncated"), bool), "REG-043", "no truncated flag")
    reply = await target.send(
        "POST", "/v1/search/payload", body={"payload": {word: 1}, "skill": skill}
    )
    require(
        (reply.json() or {}).get("matches") == [], "REG-043", "a payload the schema refuses matched"
    )
    reply = await target.send("POST", "/v1/search/payload", raw=b"{nope")
    expect_problem(reply, "malformed-json", 400, "REG-043", "a body that is not JSON")
    reply = await target.send("POST", "/v1/search/payload", body={"skill": skill})
    expect_problem(reply, "invalid-request", 422, "REG-043", "a body without payload")


def _event_ok(event: Any) -> None:
    require(
        isinstance(event, dict) and {"seq", "kind", "did", "at"} <= set(event),
        "REG-051",
        f"event shape: {event!r}",
    )
    require(
        event["kind"] in ("registered", "updated", "expired", "deregistered"),
        "REG-051",
        f"kind {event['kind']!r}",
    )
    require(
        isinstance(event["at"], str) and _RFC3339_Z.match(event["at"]),
        "REG-051",
        f"at {event['at']!r}",
    )
    if event["kind"] in ("registered", "updated"):
        require(
            isinstance(event.get("card"), dict), "REG-051", f"{event['kind']} event without card"
        )


async def _events_until(ws: Any, did: str, kind: str, budget: float) -> list[dict[str, Any]]:
    """Events until one of ``kind`` for ``did`` (bounded)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        event = await ws.receive_json(timeout=max(0.05, deadline - time.monotonic()))
        _event_ok(event)
        events.append(event)
        if event["did"] == did and event["kind"] == kind:
            return events
    raise TimeoutError


def _consecutive(events: list[dict[str, Any]], requirement: str) -> None:
    seqs = [e["seq"] for e in events]
    require(
        all(b == a + 1 for a, b in itertools.pairwise(seqs)),
        requirement,
        f"sequence numbers not consecutive: {seqs}",
    )


@check("registry", "REG-050", "REG-051", "REG-052", "REG-053", "REG-054", "REG-022")
async def check_change_feed(target: Target) -> None:
    """The feed sends each change once, in order, consecutively; resuming loses nothing."""
    marker, key = target.new_key(), target.new_key()
    before = await register(target, marker)
    require(before.status == 201, "REG-010", f"registration: {before.describe()}")
    committed = before.json()["eventSeq"]  # committed before the feed opens
    async with target.websocket("/v1/feed") as ws:
        # The marker's deregistration shows the feed is live: no fixed sleep, no race.
        await target.send("DELETE", f"/v1/agents/{marker.did}", key=marker)
        try:
            events = await _events_until(ws, marker.did, "deregistered", target.options.timeout)
        except TimeoutError:
            require(False, "REG-050", "the feed did not deliver an event in time")
        require(
            all(e["seq"] > committed for e in events),
            "REG-053",
            f"a feed opened without since sent event(s) committed before it opened: "
            f"{[e['seq'] for e in events if e['seq'] <= committed]} (last was {committed})",
        )
        first = await register(target, key, make_card(key))
        require(first.status == 201, "REG-010", f"registration: {first.describe()}")
        base = first.json()["eventSeq"]
        await register(
            target,
            key,
            make_card(key, description="updated by the conformance suite"),
            cleanup=False,
        )
        await target.send("POST", f"/v1/agents/{key.did}/heartbeat", key=key)
        await target.send("DELETE", f"/v1/agents/{key.did}", key=key)
        try:
            events += await _events_until(ws, key.did, "deregistered", target.options.timeout)
        except TimeoutError:
            require(False, "REG-050", "the feed did not deliver the probe agent's events in time")
    mine = [e for e in events if e["did"] == key.did]
    require(
        [e["kind"] for e in mine] == ["registered", "updated", "deregistered"],
        "REG-050",
        f"probe agent's events {[e['kind'] for e in mine]}, expected registered, updated, "
        "deregistered (a heartbeat records none)",
    )
    require(mine[0]["seq"] == base, "REG-051", f"registered as event {base}, fed as {mine[0]}")
    _consecutive(events, "REG-054")
    async with target.websocket(f"/v1/feed?since={base}") as ws:
        try:
            replayed = await _events_until(ws, key.did, "deregistered", target.options.timeout)
        except TimeoutError:
            require(False, "REG-052", f"resuming after {base} did not deliver the missed events")
    require(
        replayed[0]["seq"] == base + 1,
        "REG-052",
        f"resuming after {base} started at {replayed[0]['seq']}",
    )
    _consecutive(replayed, "REG-052")
    require(
        [e["seq"] for e in replayed] == [e["seq"] for e in events if e["seq"] > base],
        "REG-052",
        "a resumed feed differs from the live one",
    )
    try:
        async with target.websocket("/v1/feed?since=minus-one") as ws:
            frame = await ws.receive_json()
            require(False, "REG-053", f"a bad since got an event: {frame!r}")
    except WsClosed as closed:
        require(
            closed.code == 1008, "REG-053", f"a bad since closed with {closed.code}, expected 1008"
        )
    except TimeoutError:
        require(False, "REG-053", "a bad since did not close the connection")


@check("registry", "REG-055", "MSG-014", "MSG-015")
async def check_feed_frames_signed(target: Target) -> None:
    """Every feed frame is signed by the registry for this subscription, in order."""
    frames = FrameVerifier(str((await target.registry_description()).get("did")))
    key = target.new_key()
    async with target.websocket(f"/v1/feed?subscription={frames.subscription}") as ws:
        reply = await register(target, key)
        require(reply.status == 201, "REG-010", f"registration: {reply.describe()}")
        await target.send("DELETE", f"/v1/agents/{key.did}", key=key)
        deadline = time.monotonic() + target.options.timeout
        while True:
            try:
                raw = await ws.receive_text(timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                require(False, "REG-055", "the feed did not deliver the probe's events in time")
            try:
                event = frames.verify(raw)
            except InvalidSignatureError as exc:
                require(False, "MSG-014", f"feed frame {frames.received}: {exc.detail}")
            if event.get("did") == key.did and event.get("kind") == "deregistered":
                break
    try:
        async with target.websocket("/v1/feed?subscription=short") as ws:
            frame = await ws.receive_json()
            require(False, "MSG-015", f"a malformed subscription got a frame: {frame!r}")
    except WsClosed as closed:
        require(closed.code == 1008, "REG-055", f"a malformed subscription closed {closed.code}")
    except TimeoutError:
        require(False, "REG-055", "a malformed subscription did not close the feed")


@check("registry", "REG-031")
async def check_lease_expiry(target: Target) -> None:
    """An agent whose lease lapses is removed with one expired event."""
    lease = (await target.registry_description()).get("lease") or {}
    minimum = lease.get("min")
    if not isinstance(minimum, int) or minimum >= target.options.lease_wait:
        not_applicable(
            f"minimum lease {minimum!r} s is not below --lease-wait {target.options.lease_wait} s"
        )
    key = target.new_key()
    async with target.websocket("/v1/feed") as ws:
        await asyncio.sleep(0.2)
        reply = await register(target, key, lease=minimum)
        require(reply.status == 201, "REG-010", f"registration: {reply.describe()}")
        try:
            events = await _events_until(ws, key.did, "expired", target.options.lease_wait)
        except TimeoutError:
            require(
                False,
                "REG-031",
                f"no expired event within {target.options.lease_wait} s of a {minimum} s lease",
            )
        expired = [e for e in events if e["did"] == key.did and e["kind"] == "expired"]
        require(len(expired) == 1, "REG-031", f"{len(expired)} expired events")
        extra = await ws.silent_for(0.5)
        require(
            not (extra and extra.get("did") == key.did),
            "REG-031",
            f"a second event after expiry: {extra}",
        )
    after = await target.send("GET", f"/v1/agents/{key.did}")
    require(after.status == 404, "REG-031", f"an expired agent is still served: {after.describe()}")


@check("registry", "MSG-011")
async def check_two_host_lines(target: Target) -> None:
    """A request with two Host lines is answered 400 ambiguous-host, signed."""
    did = await target.registry_did()
    lines = [("host", "a.example"), ("host", "b.example"), ("accept", "application/json")]
    reply = await target.send_raw_head("GET", "/healthz", lines)
    expect_problem(reply, "ambiguous-host", 400, "MSG-011", "two Host lines")
    problem = target.signature_error(reply, did)
    require(problem is None, "MSG-011", f"the refusal is not signed: {problem}")


@check("registry", "CARD-007", "REG-071")
async def check_signature_before_schema(target: Target) -> None:
    """An alg-none or empty card signature is invalid-card-signature, never a schema error."""
    key = target.new_key()
    path = f"/v1/agents/{key.did}"
    card = make_card(key)
    protected = base64.urlsafe_b64encode(
        json.dumps({"alg": "none", "kid": did_url(key.did), "typ": "JOSE"}).encode()
    ).rstrip(b"=")
    off_schema = {k: v for k, v in card.items() if k != "name"}
    off_schema["signatures"] = [{"protected": protected.decode(), "signature": ""}]
    reply = await target.send("PUT", path, body={"card": off_schema}, key=key)
    expect_problem(
        reply, "invalid-card-signature", 401, "CARD-007", "alg none on an off-schema card"
    )
    empty = {**card, "signatures": [{**card["signatures"][0], "signature": ""}]}
    reply = await target.send("PUT", path, body={"card": empty}, key=key)
    expect_problem(reply, "invalid-card-signature", 401, "CARD-007", "an empty signature")
    after = await target.send("GET", path)
    require(after.status == 404, "REG-071", "a card with no valid signature was stored")


@check("registry", "JCS-006", "REG-071")
async def check_duplicate_member_names(target: Target) -> None:
    """A body naming one member twice is duplicate-member-name (400) with path and name."""
    key = target.new_key()
    path = f"/v1/agents/{key.did}"
    card = json.dumps(make_card(key))
    cases = [
        (f'{{"card": {card}, "leaseSeconds": 60, "leaseSeconds": 30}}', "$", "leaseSeconds"),
        (f'{{"card": {card[:-1]}, "name": "twice"}}}}', "$.card", "name"),
    ]
    for raw, where, name in cases:
        reply = await target.send("PUT", path, raw=raw.encode(), key=key)
        expect_problem(reply, "duplicate-member-name", 400, "JCS-006", f"{name!r} twice in {where}")
        problem = reply.json()
        require(
            problem.get("path") == where and problem.get("name") == name,
            "JCS-006",
            f"duplicate-member-name names path {problem.get('path')!r} and name "
            f"{problem.get('name')!r}, expected {where!r} and {name!r}",
        )
    after = await target.send("GET", path)
    require(after.status == 404, "REG-071", "a body with a duplicate member was stored")


@check("registry", "MSG-013")
async def check_header_bounds(target: Target) -> None:
    """A request with more header fields than the bound is 431 header-fields-too-large."""
    reply = await target.send("GET", "/healthz", headers=_many_headers(200))
    expect_problem(reply, "header-fields-too-large", 431, "MSG-013", "200 header fields")
    problem = reply.json()
    require(
        "maxBytes" in problem and "maxFields" in problem,
        "MSG-013",
        f"header-fields-too-large lacks maxBytes/maxFields: {problem}",
    )


def _many_headers(count: int) -> dict[str, str]:
    """``count`` small extra header fields (a few KiB: beyond the field bound, not the bytes)."""
    return {f"x-woa-conformance-{i}": "1" for i in range(count)}


@check("registry", "REG-044", "STATE-019")
async def check_cursors_tamper_evident(target: Target) -> None:
    """Cursors carry a MAC: altered, or used on another endpoint or listing, they are refused."""
    _, skill, _ = await _probe_agents(target, 2)
    page = (await target.send("GET", f"/v1/agents?skill={skill}&limit=1")).json() or {}
    cursor = page.get("nextCursor")
    require(isinstance(cursor, str), "REG-041", f"no nextCursor on a first page of two: {page}")
    text = str(cursor)
    middle = len(text) // 2  # a middle character carries six whole bits of the cursor
    tampered = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    reply = await target.send("GET", f"/v1/agents?skill={skill}&limit=1&cursor={tampered}")
    expect_problem(reply, "invalid-cursor", 400, "REG-044", "a cursor with one character changed")
    owner = target.new_key()
    names = []
    for _ in range(2):
        ns = target.unique()
        made = await target.send(
            "PUT",
            f"/v1/state/{ns}",
            body={"writers": [], "readers": [], "publicRead": False},
            key=owner,
        )
        require(made.status == 201, "STATE-002", f"creating namespace {ns}: {made.describe()}")
        target.left_behind.append(f"state namespace {ns} (owner {owner.did})")
        names.append(ns)
    first, second = names
    for doc in ("p/1", "p/2"):
        await target.send(
            "PUT",
            f"/v1/state/{first}/docs/{doc}",
            body={"d": 1},
            key=owner,
            headers={"if-none-match": "*"},
        )
    listed = await target.send("GET", f"/v1/state/{first}/docs?prefix=p/&limit=1", key=owner)
    state_cursor = (listed.json() or {}).get("nextCursor")
    require(isinstance(state_cursor, str), "STATE-018", f"no nextCursor: {listed.describe()}")
    for where, requirement in (
        (f"/v1/state/{second}/docs?prefix=p/&limit=1&cursor={state_cursor}", "STATE-019"),
        (f"/v1/state/{first}/docs?prefix=q/&limit=1&cursor={state_cursor}", "STATE-019"),
        (f"/v1/state/{first}/docs?prefix=p/&limit=1&cursor={cursor}", "REG-044"),
        (f"/v1/agents?skill={skill}&limit=1&cursor={state_cursor}", "REG-044"),
    ):
        reply = await target.send("GET", where, key=owner)
        expect_problem(reply, "invalid-cursor", 400, requirement, f"GET {where}")
    for doc in ("p/1", "p/2"):
        await target.send(
            "DELETE", f"/v1/state/{first}/docs/{doc}", key=owner, headers={"if-match": "*"}
        )


@check("registry", "REG-075", "REG-071")
async def check_control_characters(target: Target) -> None:
    """Text fields holding control characters are invalid-request (422); nothing is stored."""
    key = target.new_key()
    reply = await register(target, key, make_card(key, description="bell \u0007 inside"))
    expect_problem(reply, "invalid-request", 422, "REG-075", "a card description with BEL")
    after = await target.send("GET", f"/v1/agents/{key.did}")
    require(after.status == 404, "REG-071", "an agent with a control character was stored")
    for query in ("q=a%01b", "tag=x%00y", "skill=s%C2%85t"):
        reply = await target.send("GET", f"/v1/agents?{query}")
        expect_problem(reply, "invalid-request", 422, "REG-075", f"search {query}")
    ns = target.unique()
    body = {"writers": [], "readers": [], "publicRead": False, "contextId": "ctx\u0000"}
    reply = await target.send("PUT", f"/v1/state/{ns}", body=body, key=key)
    expect_problem(reply, "invalid-request", 422, "REG-075", "a contextId holding NUL")

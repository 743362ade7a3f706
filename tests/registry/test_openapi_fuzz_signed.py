"""Schemathesis with signed requests: generated requests get past RFC 9421 and reach the body.

Every generated request is signed, as sent, by a throwaway Ed25519 key through the
protocol's own :class:`~woa_protocol.MessageSigner` (a ``requests`` auth hook sees the final
method, URL, headers and body bytes), so the signature covers ``content-digest`` and the
semantic headers the profile requires (``If-Match``, ``If-None-Match``, ``A2A-Version``).
Half the cases address the signer's own agent and a namespace it owns, so writes get past
authorization too. The budget is bounded (``EXAMPLES`` per operation); the test asserts no
5xx, documented answers that match the schema, and that few answers are signature problems.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from woa_protocol import HttpRequest, MessageSigner, SigningKey

from ._support import LiveServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 30
NAMESPACE = "fuzz"
SIGNED = frozenset({"PUT", "POST", "PATCH", "DELETE"})
SIGNATURE_PROBLEMS = frozenset(
    f"401 {kind}"
    for kind in (
        "signature-missing",
        "signature-invalid",
        "content-digest-mismatch",
        "signature-expired",
        "signature-replayed",
        "unknown-key",
    )
)


class SignedAuth(requests.auth.AuthBase):
    """Sign each prepared request with ``key`` (what the server receives, byte for byte)."""

    def __init__(self, key: SigningKey) -> None:
        self.signer = MessageSigner(key)
        self.did = key.did

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body or b""
        content = body.encode() if isinstance(body, str) else bytes(body)
        headers = {name.lower(): value for name, value in prepared.headers.items()}
        message = HttpRequest(str(prepared.method), str(prepared.url), headers, content)
        added = self.signer.sign_request(message)
        prepared.headers.update(added)
        return prepared


def _problem(response: requests.Response) -> str:
    if response.status_code < 400:
        return str(response.status_code)
    try:
        kind = str(response.json().get("type", "")).removeprefix("urn:woa:problem:")
    except ValueError:
        kind = "?"
    return f"{response.status_code} {kind}"


class _Fuzz:
    """One operation's generated, signed requests and what the server answered to them."""

    def __init__(
        self,
        operation: APIOperation,
        mode: GenerationMode,
        base_url: str,
        auth: SignedAuth,
        checks: list[CheckFunction],
    ) -> None:
        self.operation = operation
        self.mode = mode
        self.base_url = base_url
        self.auth = auth
        self.checks = checks
        self.answers: Counter[str] = Counter()
        self.refused: list[str] = []

    def run(self) -> None:
        @given(case=self.operation.as_strategy(generation_mode=self.mode), own=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def one(case: schemathesis.Case, own: bool) -> None:
            self.send(case, own=own)

        one()

    def send(self, case: schemathesis.Case, *, own: bool) -> None:
        """Send ``case`` signed; ``own``: address the signer's agent and namespace."""
        if own and case.path_parameters:
            if "did" in case.path_parameters:
                case.path_parameters["did"] = self.auth.did
            if "ns" in case.path_parameters:
                case.path_parameters["ns"] = NAMESPACE
        response = case.call(base_url=self.base_url, auth=self.auth, timeout=10)
        case.validate_response(response, checks=self.checks)
        answer = _problem(response)
        if self.mode is GenerationMode.POSITIVE and answer.split()[0] in ("400", "422"):
            self.refused.append(f"{self.operation.label}: {response.text[:200]}")
        self.answers[answer] += 1


@pytest.mark.req("REG-004")
@pytest.mark.req("REG-070")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_signed_requests_conform_and_reach_body_validation(
    live_server: Callable[..., LiveServer], mode: GenerationMode
) -> None:
    started = time.monotonic()
    server = live_server(rate_per_address=0, rate_per_did=0)
    key = SigningKey.generate()
    auth = SignedAuth(key)
    # a namespace the key owns, so document writes are authorized and their bodies parsed
    owned = requests.put(f"{server.url}/v1/state/{NAMESPACE}", json={}, auth=auth, timeout=10)
    assert owned.status_code in (200, 201), owned.text
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
    answers: Counter[str] = Counter()
    refused: list[str] = []
    per_operation: dict[str, Counter[str]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in SIGNED:
            continue
        fuzz = _Fuzz(operation, mode, server.url, auth, checks)
        per_operation[operation.label] = fuzz.answers
        try:
            fuzz.run()
        except Unsatisfiable:  # nothing to break: no parameters and no body
            assert mode is GenerationMode.NEGATIVE
            assert not operation.body
        answers.update(fuzz.answers)
        refused += fuzz.refused
    elapsed = time.monotonic() - started
    total = sum(answers.values())
    unauthenticated = sum(n for answer, n in answers.items() if answer in SIGNATURE_PROBLEMS)
    accepted = sum(n for answer, n in answers.items() if answer.startswith("2"))
    refused_body = sum(
        n
        for answer, n in answers.items()
        if answer in ("422 invalid-request", "400 malformed-json")
    )
    summary = ", ".join(f"{a}: {n}" for a, n in answers.most_common())
    print(f"\n{mode.value}: {total} signed requests in {elapsed:.1f} s; {summary}")
    print("\n".join(refused))  # schema-valid requests the server refuses (with -s)
    assert "PUT /v1/agents/{did}" in per_operation
    assert "PUT /v1/state/{ns}/docs/{key}" in per_operation
    assert total >= EXAMPLES * len(per_operation) // 2
    assert unauthenticated <= total // 50, summary  # the signature check lets them through
    if mode is GenerationMode.POSITIVE:
        assert accepted >= total // 10, summary  # valid requests are carried out
    else:
        assert refused_body >= total // 3, summary  # broken bodies are refused as such
    # every signed operation with something to send gets requests past the signature check
    for label, seen_here in per_operation.items():
        if seen_here:
            assert sum(n for a, n in seen_here.items() if a not in SIGNATURE_PROBLEMS) > 0, label


def test_the_auth_hook_signs_what_is_sent(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(rate_per_address=0, rate_per_did=0)
    key = SigningKey.generate()
    path = f"{server.url}/v1/state/{NAMESPACE}/docs/k"
    signed = requests.put(f"{server.url}/v1/state/{NAMESPACE}", json={}, auth=SignedAuth(key))
    assert signed.status_code in (200, 201), signed.text
    # the semantic header is covered: stripping it from the signed request breaks it
    prepared = requests.Request(
        "PUT", path, json={"v": 1}, headers={"If-None-Match": "*"}
    ).prepare()
    SignedAuth(key)(prepared)
    assert "if-none-match" in prepared.headers["Signature-Input"]
    del prepared.headers["If-None-Match"]
    with requests.Session() as session:
        stripped = session.send(prepared, timeout=10)
    assert stripped.status_code == 401, stripped.text

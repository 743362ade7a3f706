"""Cross-check RFC 9421 signatures with the ``http-message-signatures`` library, both ways."""

from __future__ import annotations

import base64
import datetime
import secrets
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

from woa_protocol import (
    DigestMismatchError,
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    SigningKey,
    VerifyingKey,
)
from woa_protocol.httpsig import REQUIRED_REQUEST_COMPONENTS

from .._support import KEY1, KEY2

pytestmark = pytest.mark.interop

BODY = b'{"jsonrpc":"2.0","id":7,"method":"GetTask","params":{"id":"t-1"}}'
REQUEST_COMPONENTS = (*REQUIRED_REQUEST_COMPONENTS, "content-type")
B26_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
    "XvJwew==:"
)


class DidKeyResolver(HTTPSignatureKeyResolver):
    """Public keys come from the did:key itself; private keys from the keys we hold."""

    def __init__(self, *keys: SigningKey) -> None:
        self.private = {key.did: key.private_key for key in keys}

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        return VerifyingKey.from_did(key_id).key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self.private[key_id]


LIB_VERIFIER = HTTPMessageVerifier(
    signature_algorithm=algorithms.ED25519, key_resolver=DidKeyResolver()
)
LIB_SIGNER = HTTPMessageSigner(
    signature_algorithm=algorithms.ED25519, key_resolver=DidKeyResolver(KEY1, KEY2)
)


def to_httpx(request: HttpRequest) -> httpx.Request:
    return httpx.Request(request.method, request.url, headers=request.headers, content=request.body)


def from_httpx(request: httpx.Request) -> HttpRequest:
    return HttpRequest(
        request.method, str(request.url), request.headers.multi_items(), request.content
    )


def our_request(body: bytes = BODY) -> HttpRequest:
    request = HttpRequest(
        "POST",
        "https://agent.example:8443/a2a?tenant=acme",
        {
            "Content-Type": "application/json",
            "Traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01",
        },
        body,
    )
    MessageSigner(KEY1).sign_request(request)
    return request


def lib_signed_request(label: str = "woa", **overrides: Any) -> httpx.Request:
    request = httpx.Request(
        "POST",
        "https://agent.example/a2a",
        headers={"Content-Type": "application/json"},
        content=BODY,
    )
    now = datetime.datetime.now(datetime.UTC)
    options: dict[str, Any] = {
        "key_id": KEY2.did,
        "created": now,
        "expires": now + datetime.timedelta(seconds=60),
        "nonce": secrets.token_urlsafe(16),
        "label": label,
        "covered_component_ids": ("@method", "@target-uri", "content-type"),
        "body": BODY,  # the library adds Content-Digest and covers it
    }
    options.update(overrides)
    LIB_SIGNER.sign(request, **options)
    return request


@pytest.mark.req("MSG-001")
@pytest.mark.req("MSG-002")
@pytest.mark.req("MSG-003")
def test_library_verifies_our_requests() -> None:
    request = our_request()
    (result,) = LIB_VERIFIER.verify(
        to_httpx(request),
        max_age=datetime.timedelta(minutes=5),
        require_components=REQUEST_COMPONENTS,
        body=request.body,
    )
    assert result.label == "woa"
    assert result.parameters["keyid"] == KEY1.did
    assert result.parameters["alg"] == "ed25519"
    assert result.nonce
    assert result.body == BODY  # the library checked Content-Digest too
    assert MessageVerifier().verify_request(request).covered == {
        k: v for k, v in result.covered_components.items() if k != '"@signature-params"'
    }


@pytest.mark.req("MSG-006")
def test_library_rejects_our_request_once_changed() -> None:
    request = our_request()
    request.headers["content-type"] = "application/xml"
    with pytest.raises(InvalidSignature):
        LIB_VERIFIER.verify(to_httpx(request), max_age=datetime.timedelta(minutes=5))
    request = our_request()
    with pytest.raises(InvalidSignature):
        LIB_VERIFIER.verify(
            to_httpx(request), max_age=datetime.timedelta(minutes=5), body=BODY + b" "
        )


@pytest.mark.req("MSG-005")
def test_library_verifies_our_responses_and_their_binding() -> None:
    request = our_request()
    response = HttpResponse(
        200, {"Content-Type": "application/json"}, b'{"result":1}', request=request
    )
    MessageSigner(KEY2).sign_response(response, "woa")
    lib_response = httpx.Response(
        response.status, headers=response.headers, content=response.body, request=to_httpx(request)
    )
    (result,) = LIB_VERIFIER.verify(
        lib_response,
        max_age=datetime.timedelta(minutes=5),
        require_components=("@status", "content-digest", '"signature";req;key="woa"'),
        body=response.body,
    )
    assert result.parameters["keyid"] == KEY2.did
    # answering another request breaks the binding for the library as well
    other = httpx.Response(
        response.status,
        headers=response.headers,
        content=response.body,
        request=to_httpx(our_request()),
    )
    with pytest.raises(InvalidSignature):
        LIB_VERIFIER.verify(other, max_age=datetime.timedelta(minutes=5))


@pytest.mark.req("MSG-001")
@pytest.mark.req("MSG-004")
@pytest.mark.req("MSG-008")
@pytest.mark.parametrize("label", ["woa", "pyhms"])
def test_we_verify_library_requests(label: str) -> None:
    request = from_httpx(lib_signed_request(label))
    assert request.headers["content-digest"].startswith("sha-256=:")
    result = MessageVerifier().verify_request(request)
    assert (result.did, result.label) == (KEY2.did, label)


@pytest.mark.req("MSG-004")
@pytest.mark.req("MSG-006")
def test_we_reject_library_requests_with_a_changed_body_or_too_little_coverage() -> None:
    request = from_httpx(lib_signed_request())
    request.body = BODY.replace(b"t-1", b"t-2")
    with pytest.raises(DigestMismatchError):
        MessageVerifier().verify_request(request)
    thin = from_httpx(lib_signed_request(covered_component_ids=("@method", "@target-uri")))
    with pytest.raises(InvalidSignatureError, match="does not cover content-type"):
        MessageVerifier().verify_request(thin)
    no_nonce = from_httpx(lib_signed_request(nonce=None))
    with pytest.raises(InvalidSignatureError, match="nonce"):
        MessageVerifier().verify_request(no_nonce)


@pytest.mark.req("MSG-005")
def test_we_verify_library_responses_bound_to_our_request() -> None:
    request = our_request()
    response = httpx.Response(
        201, headers={"Content-Type": "text/plain"}, content=b"created", request=to_httpx(request)
    )
    LIB_SIGNER.sign(
        response,
        key_id=KEY2.did,
        label="woa",
        covered_component_ids=("@status", "content-type", '"signature";req;key="woa"'),
        body=b"created",
    )
    ours = HttpResponse(201, response.headers.multi_items(), b"created", request=request)
    assert MessageVerifier().verify_response(ours, "woa").did == KEY2.did
    ours.request = our_request()
    with pytest.raises(InvalidSignatureError):
        MessageVerifier().verify_response(ours, "woa")


@pytest.mark.req("MSG-007")
def test_library_verifies_the_rfc_b26_example_with_our_resolver_key() -> None:
    public = SigningKey.from_seed(
        base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
    ).public.key

    class RfcKey(HTTPSignatureKeyResolver):
        def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
            return public if key_id == "test-key-ed25519" else None

    request = httpx.Request(
        "POST",
        "http://example.com/foo?param=Value&Pet=dog",
        headers={
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Digest": B26_DIGEST,
            "Signature-Input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" '
            '"content-length");created=1618884473;keyid="test-key-ed25519"',
            "Signature": "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9"
            "EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
        },
        content=b'{"hello": "world"}',
    )
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=RfcKey())
    (result,) = verifier.verify(request, max_age=None)
    assert result.covered_components['"@authority"'] == "example.com"

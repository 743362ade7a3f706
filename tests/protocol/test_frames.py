"""Signed stream frames: a detached JWS over the frame's JCS form, bound to a subscription."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import FrameSigner, FrameVerifier, InvalidSignatureError, SigningKey
from woa_protocol.canonical import canonicalize
from woa_protocol.frames import (
    FRAME_TYPE,
    new_subscription_id,
    sign_frame,
    valid_subscription_id,
    verify_frame,
)

KEY = SigningKey.from_seed(bytes([3]) * 32)
SUB = "A" * 22
EVENT = {"seq": 7, "kind": "registered", "did": "did:key:z6MkX", "at": "2026-01-01T00:00:00Z"}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.req("MSG-014")
def test_a_frame_is_a_detached_jws_over_its_canonical_form() -> None:
    raw = sign_frame(EVENT, KEY, SUB, 0)
    frame = json.loads(raw)
    protected, payload, signature = frame.pop("proof").split(".")
    assert payload == ""
    assert json.loads(_b64(protected)) == {
        "alg": "EdDSA",
        "kid": f"{KEY.did}#{KEY.did[len('did:key:') :]}",
        "typ": FRAME_TYPE,
    }
    assert frame == {**EVENT, "subscription": SUB, "frame": 0}
    signed = protected + "." + base64.urlsafe_b64encode(canonicalize(frame)).rstrip(b"=").decode()
    assert KEY.public.verify(_b64(signature), signed.encode())
    assert verify_frame(raw, signer=KEY.did, subscription=SUB, index=0) == frame


@pytest.mark.req("MSG-014")
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=1))
@settings(max_examples=150)
def test_any_change_to_a_signed_frame_fails(position: int, byte: bytes) -> None:
    raw = sign_frame(EVENT, KEY, SUB, 0).encode()
    index = position % len(raw)
    if raw[index : index + 1] == byte:
        return
    altered = raw[:index] + byte + raw[index + 1 :]
    try:
        verified = verify_frame(altered, signer=KEY.did, subscription=SUB, index=0)
    except InvalidSignatureError:
        return
    # only a change that leaves the JSON value the same (e.g. whitespace) may pass
    assert verified == {**EVENT, "subscription": SUB, "frame": 0}


@pytest.mark.req("MSG-015")
def test_a_frame_binds_its_subscription_position_and_signer() -> None:
    raw = sign_frame(EVENT, KEY, SUB, 3)
    with pytest.raises(InvalidSignatureError, match="another subscription"):
        verify_frame(raw, signer=KEY.did, subscription="B" * 22, index=3)
    with pytest.raises(InvalidSignatureError, match="frame 4 was due"):
        verify_frame(raw, signer=KEY.did, subscription=SUB, index=4)
    with pytest.raises(InvalidSignatureError, match="expected"):
        verify_frame(raw, signer=SigningKey.generate().did, subscription=SUB, index=3)


@pytest.mark.req("MSG-015")
def test_the_verifier_expects_frames_in_order() -> None:
    verifier = FrameVerifier(KEY.did)
    assert valid_subscription_id(verifier.subscription)
    signer = FrameSigner(KEY, verifier.subscription)
    first, second, third = (signer.sign({"n": i}) for i in range(3))
    assert verifier.verify(first)["n"] == 0
    with pytest.raises(InvalidSignatureError):  # the second was dropped
        verifier.verify(third)
    replayed = FrameVerifier(KEY.did, verifier.subscription)
    replayed.verify(first)
    with pytest.raises(InvalidSignatureError):  # the first again, in its place
        replayed.verify(first)
    assert json.loads(second)["frame"] == 1


@pytest.mark.req("MSG-014")
@pytest.mark.parametrize(
    "proof",
    [
        None,
        "",
        "a.b.c",  # not detached
        "abc..def",  # not base64url JSON
        base64.urlsafe_b64encode(b'{"alg":"none","typ":"woa-frame+jws"}').decode().rstrip("=")
        + "..",
    ],
)
def test_malformed_proofs_are_refused(proof: str | None) -> None:
    frame: dict[str, object] = {**EVENT, "subscription": SUB, "frame": 0}
    if proof is not None:
        frame["proof"] = proof
    with pytest.raises(InvalidSignatureError):
        verify_frame(json.dumps(frame), signer=KEY.did, subscription=SUB, index=0)


@pytest.mark.req("MSG-014")
@pytest.mark.parametrize("raw", ["[]", "not json", '"text"'])
def test_a_frame_that_is_not_an_object_is_refused(raw: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_frame(raw, signer=KEY.did, subscription=SUB, index=0)


@pytest.mark.req("MSG-015")
def test_a_true_frame_number_is_not_frame_one() -> None:
    raw = sign_frame(EVENT, KEY, SUB, True)  # signed, but "frame": true
    with pytest.raises(InvalidSignatureError):
        verify_frame(raw, signer=KEY.did, subscription=SUB, index=1)


@pytest.mark.req("MSG-015")
def test_subscription_ids() -> None:
    assert valid_subscription_id(new_subscription_id())
    assert new_subscription_id() != new_subscription_id()
    for bad in ("short", "x" * 129, "a" * 15 + "!", "a" * 20 + " "):
        assert not valid_subscription_id(bad)


@pytest.mark.req("MSG-014")
def test_a_frame_with_a_repeated_member_name_is_refused() -> None:
    raw = sign_frame(EVENT, KEY, SUB, 0)
    doubled = raw[:-1] + ',"kind":"deregistered"}'  # I-JSON: one name, one member
    with pytest.raises(InvalidSignatureError, match="I-JSON"):
        verify_frame(doubled, signer=KEY.did, subscription=SUB, index=0)

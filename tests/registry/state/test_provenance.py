"""Signed history: every entry verifies offline, and any tampering is detected."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from woa_agents import StateClient
from woa_protocol import SigningKey, WoaError
from woa_registry.state import HistoryVerificationError, verify_history, verify_history_entry

from ._support import NS

Clients = Callable[[SigningKey | None], StateClient]


@pytest.fixture
async def history(
    client_for: Clients, owner: SigningKey, writer: SigningKey
) -> list[dict[str, Any]]:
    admin = client_for(owner)
    await admin.put_namespace(NS, writers=[writer.did])
    other = client_for(writer)
    await admin.put(NS, "plan", {"steps": ["a"]}, create=True)
    await other.patch(NS, "plan", [{"op": "add", "path": "/steps/-", "value": "b"}], if_match=1)
    await admin.batch(
        NS,
        [
            {"op": "put", "key": "plan", "value": {"steps": []}, "ifMatch": '"2"'},
            {"op": "put", "key": "note", "value": 1, "ifNoneMatch": "*"},
        ],
    )
    await other.delete(NS, "plan", if_match=3)
    await other.put(NS, "plan", "again", create=True)
    return await admin.history(NS, "plan")


@pytest.mark.req("STATE-031")
async def test_history_records_every_signed_request(
    history: list[dict[str, Any]], owner: SigningKey, writer: SigningKey
) -> None:
    assert [(e["version"], e["op"], e["writer"]) for e in history] == [
        (1, "put", owner.did),
        (2, "patch", writer.did),
        (3, "put", owner.did),
        (4, "delete", writer.did),
        (5, "put", writer.did),
    ]
    assert [e["value"] for e in history] == [
        {"steps": ["a"]},
        {"steps": ["a", "b"]},
        {"steps": []},
        None,
        "again",
    ]
    revs = [e["rev"] for e in history]
    assert revs == sorted(revs)
    for entry in history:
        request = entry["request"]
        assert request["signer"] == entry["writer"]
        assert {"signature", "signature-input", "content-digest"} <= set(request["headers"])
        assert request["targetUri"].startswith("http://registry.test/v1/state/board/")
    assert history[2]["request"]["method"] == "POST"
    assert json.loads(base64.b64decode(history[0]["request"]["body"])) == {"steps": ["a"]}


@pytest.mark.req("STATE-032")
async def test_every_entry_verifies_offline(
    history: list[dict[str, Any]], owner: SigningKey, writer: SigningKey
) -> None:
    verified = verify_history(history)
    assert [v.did if v else None for v in verified] == [
        owner.did,
        writer.did,
        owner.did,
        writer.did,
        writer.did,
    ]
    # One entry alone (a patch is then checked only for its signature and target).
    assert verify_history_entry(history[1]).did == writer.did
    assert verify_history_entry(history[1], previous_value=history[0]["value"], has_previous=True)


def _tampered(
    history: list[dict[str, Any]],
) -> list[tuple[str, int, Callable[[dict[str, Any]], None]]]:
    def set_value(value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda e: e.__setitem__("value", value)

    def set_request(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda e: e["request"].__setitem__(name, value)

    def flip_signature(e: dict[str, Any]) -> None:
        sig = e["request"]["headers"]["signature"]
        raw = bytearray(base64.b64decode(sig.split(":")[1]))
        raw[0] ^= 1
        e["request"]["headers"]["signature"] = f"woa=:{base64.b64encode(bytes(raw)).decode()}:"

    other_body = base64.b64encode(b'{"steps":["x"]}').decode()
    return [
        ("put value", 0, set_value({"steps": ["z"]})),
        ("patch result", 1, set_value({"steps": ["a", "c"]})),
        ("batch value", 2, set_value({"steps": [0]})),
        ("delete op", 3, lambda e: e.__setitem__("op", "put")),
        (
            "writer",
            0,
            lambda e: e.__setitem__(
                "writer", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
            ),
        ),
        ("key", 0, lambda e: e.__setitem__("key", "other")),
        ("namespace", 0, lambda e: e.__setitem__("namespace", "elsewhere")),
        ("body", 0, set_request("body", other_body)),
        ("target", 0, set_request("targetUri", history[0]["request"]["targetUri"] + "x")),
        ("method", 0, set_request("method", "PATCH")),
        ("signature", 0, flip_signature),
        ("received long after expiry", 0, set_request("receivedAt", "2099-01-01T00:00:00.000000Z")),
        ("no request", 0, lambda e: e.pop("request")),
        ("version gap", 2, lambda e: e.__setitem__("version", 7)),
    ]


@pytest.mark.req("STATE-032")
async def test_any_tampering_fails_verification(history: list[dict[str, Any]]) -> None:
    for name, index, change in _tampered(history):
        forged = copy.deepcopy(history)
        change(forged[index])
        try:
            verify_history(forged)
        except (HistoryVerificationError, WoaError):
            continue
        pytest.fail(f"tampering with the {name} went unnoticed")
    assert len(verify_history(history)) == len(history)

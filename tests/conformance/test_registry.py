"""The suite against the real registry (SQLite, PostgreSQL) and deliberately broken variants.

Each broken variant is the real registry app with one safeguard switched off by
monkeypatching; the suite must fail it and name the requirement the variant breaks.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocket

from woa_conformance import load_requirements
from woa_protocol import VerifiedMessage
from woa_protocol.httpsig import parse_signatures, select_signature
from woa_registry import signing as registry_signing
from woa_registry.state import routes as state_routes
from woa_registry.state import service as state_service
from woa_registry.sweeper import LeaseSweeper

from .conftest import failed, registry_settings, run_against_registry

pytestmark = pytest.mark.timeout(240)


def assert_conforms(report: Any) -> None:
    requirements = load_requirements()
    verdicts = report.verdicts()
    assert not failed(report), failed(report)
    checkable = [r.id for r in requirements.values() if r.checkable_against("registry")]
    not_passed = {i: verdicts[i].status for i in checkable if verdicts[i].status != "passed"}
    assert not not_passed, not_passed  # covered = a check citing it ran and passed
    assert not report.must_failed


async def test_the_real_registry_on_sqlite_conforms(tmp_path: Path) -> None:
    report = await run_against_registry(registry_settings(tmp_path))
    assert_conforms(report)
    assert any(item.startswith("state namespace woa-conformance-") for item in report.left_behind)


async def test_the_real_registry_on_postgres_conforms(tmp_path: Path, postgres_dsn: str) -> None:
    import asyncpg

    schema = "conf_" + uuid.uuid4().hex[:10]
    conn = await asyncpg.connect(postgres_dsn)
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        dsn = f"{postgres_dsn}?options=-csearch_path%3D{schema}"
        report = await run_against_registry(registry_settings(tmp_path, database_url=dsn))
        assert_conforms(report)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_level_must_runs_no_should_check(tmp_path: Path) -> None:
    report = await run_against_registry(
        registry_settings(tmp_path), only=["search_errors", "STATE-005"], level="must"
    )
    assert "REG-074" not in report.verdicts()
    assert report.verdicts()["REG-042"].status == "passed"
    assert "STATE-005" not in report.verdicts()


# -- broken variants ----------------------------------------------------------------------


@pytest.mark.req("MSG-006")
async def test_signature_check_off_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def trusting(self: Any, scope: Any, body: bytes) -> VerifiedMessage:
        request = registry_signing.request_from_scope(scope, body, self.public_url)
        parsed = select_signature(parse_signatures(request.headers))
        keyid = str(parsed.params.get("keyid", "")).split("#")[0]
        return VerifiedMessage(keyid, parsed.label, 0, None, None, parsed.signature, {})

    monkeypatch.setattr(registry_signing.RequestAuthenticator, "verify", trusting)
    report = await run_against_registry(
        registry_settings(tmp_path),
        only=["rejects_forged_signature", "rejects_expired_signature", "rejects_tampered_body"],
    )
    broken = failed(report)
    assert {"MSG-006", "RPL-002", "MSG-004"} <= set(broken), broken
    assert report.must_failed


@pytest.mark.req("RPL-003")
async def test_replay_cache_off_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from woa_protocol import ReplayGuard

    async def forget(self: Any, *args: Any) -> None:
        return None

    monkeypatch.setattr(ReplayGuard, "remember", lambda self, *args, **kwargs: None)
    monkeypatch.setattr(ReplayGuard, "claim_shared", forget)  # and the shared store (RPL-006)
    report = await run_against_registry(registry_settings(tmp_path))
    broken = failed(report)
    assert "RPL-003" in broken, broken
    assert "accepted" in broken["RPL-003"]


@pytest.mark.req("STATE-003")
async def test_acl_off_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (state_service, state_routes):
        monkeypatch.setattr(module, "require_read", lambda *args: None)
    monkeypatch.setattr(state_service, "require_write", lambda *args: None)
    monkeypatch.setattr(state_service, "can_read", lambda *args: True)
    report = await run_against_registry(registry_settings(tmp_path))
    broken = failed(report)
    assert {"STATE-003"} <= set(broken), broken
    assert "state-forbidden" in broken["STATE-003"]


@pytest.mark.req("REG-031")
async def test_lease_never_expiring_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def sweep_nothing(self: Any) -> list[Any]:
        return []

    monkeypatch.setattr(LeaseSweeper, "sweep_once", sweep_nothing)
    report = await run_against_registry(registry_settings(tmp_path), only=["lease_expiry"])
    assert set(failed(report)) == {"REG-031"}, failed(report)


@pytest.mark.req("REG-050")
async def test_feed_dropping_an_event_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_text = WebSocket.send_text

    async def dropping(self: WebSocket, data: str) -> None:
        if '"kind":"updated"' not in data:  # the feed loses every update
            await send_text(self, data)

    monkeypatch.setattr(WebSocket, "send_text", dropping)
    report = await run_against_registry(registry_settings(tmp_path), only=["change_feed"])
    broken = failed(report)
    assert "REG-050" in broken, broken
    assert "updated" in broken["REG-050"]


@pytest.mark.req("REG-073")
async def test_a_rate_limited_registry_is_retried_politely(tmp_path: Path) -> None:
    settings = registry_settings(tmp_path, rate_per_address=40.0, burst_per_address=5)
    report = await run_against_registry(
        settings, only=["registration_lifecycle", "search_and_paging"]
    )
    assert not failed(report), failed(report)


@pytest.mark.req("STATE-013")
async def test_cas_ignoring_stale_versions_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = state_service.StateService._check_if_match

    def lax(op: Any, live: Any) -> None:  # any version matches, as long as one is named
        if op.if_match is None:
            original(op, live)

    monkeypatch.setattr(state_service.StateService, "_check_if_match", staticmethod(lax))
    report = await run_against_registry(
        registry_settings(tmp_path), only=["documents_and_cas", "linearizable"]
    )
    broken = failed(report)
    assert "STATE-013" in broken, broken
    assert "stale If-Match" in broken["STATE-013"]

"""The suite against a real SDK agent, broken variants of it, and a plain a2a-sdk agent."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from pydantic import BaseModel, ConfigDict

from woa_agents import SignaturePolicy
from woa_conformance import Options, load_requirements, run_checks
from woa_protocol import MessageSigner

from .conftest import failed, make_agent, run_against_agent

pytestmark = pytest.mark.timeout(180)


async def test_a_real_sdk_agent_conforms() -> None:
    report = await run_against_agent()
    assert not failed(report), failed(report)
    verdicts = report.verdicts()
    checkable = [r.id for r in load_requirements().values() if r.checkable_against("agent")]
    assert {i: verdicts[i].status for i in checkable if verdicts[i].status != "passed"} == {}
    assert not report.must_failed


async def test_an_agent_accepting_unsigned_calls_still_conforms() -> None:
    report = await run_against_agent(make_agent(policy=SignaturePolicy(require_signatures=False)))
    assert not report.must_failed, failed(report)
    missing = next(r for r in report.results if r.name == "agent.rejects_missing_signature")
    assert missing.status == "not-applicable"
    assert "AGT-031" in missing.message


@pytest.mark.req("AGT-033")
async def test_agent_not_signing_responses_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MessageSigner, "sign_response", lambda self, *a, **k: {})
    monkeypatch.setattr(MessageSigner, "sign_reply", lambda self, *a, **k: {})
    report = await run_against_agent(only=["responses_signed", "streaming_signed"])
    broken = failed(report)
    assert {"AGT-033", "MSG-010"} <= set(broken), broken
    assert report.must_failed


class _Anything(BaseModel):
    model_config = ConfigDict(extra="allow")


@pytest.mark.req("AGT-012")
async def test_agent_not_validating_input_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = make_agent()
    for skill in agent.skills.values():  # no schema check, and a model that takes anything
        monkeypatch.setattr(skill, "input_errors", lambda payload: [])
        monkeypatch.setattr(skill, "input_model", _Anything)
    report = await run_against_agent(agent, only=["typed_input"])
    broken = failed(report)
    assert set(broken) == {"AGT-012"}, broken
    assert "-32602" in broken["AGT-012"]


# -- an agent that is not ours: a2a-sdk, no Web of Agents identity ----------------------------


def a2a_sdk_app(url: str) -> Any:
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
    from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
    from a2a.types.a2a_pb2 import (
        AgentCapabilities,
        AgentCard,
        AgentInterface,
        AgentSkill,
        Part,
        Task,
        TaskState,
        TaskStatus,
    )
    from a2a.utils.errors import TaskNotCancelableError
    from starlette.applications import Starlette

    class Hello(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            assert context.task_id is not None
            assert context.context_id is not None
            await event_queue.enqueue_event(
                Task(
                    id=context.task_id,
                    context_id=context.context_id,
                    status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
                    history=[context.message] if context.message else [],
                )
            )
            updater = TaskUpdater(event_queue, context.task_id, context.context_id)
            await updater.add_artifact([Part(text="hello")], name="result")
            await updater.complete()

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise TaskNotCancelableError("finishes at once")

    card = AgentCard(
        name="plain a2a-sdk agent",
        description="says hello",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="hello", name="hello", description="hello", tags=["text"])],
    )
    handler = DefaultRequestHandler(Hello(), InMemoryTaskStore(), card)
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])


@contextlib.asynccontextmanager
async def serve(app_for_url: Any) -> AsyncIterator[str]:
    """Serve an app on a real 127.0.0.1 socket; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app_for_url(url + "/"), log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.mark.interop
async def test_a_plain_a2a_sdk_agent_gets_a_report_by_id() -> None:
    async with serve(a2a_sdk_app) as url:
        report = await asyncio.wait_for(
            run_checks("agent", url, options=Options(timeout=5)), timeout=120
        )
    verdicts = report.verdicts()
    by_check = {r.name: r for r in report.results}
    assert not [r for r in report.results if r.status == "error"], [
        (r.name, r.message) for r in report.results if r.status == "error"
    ]
    # the binding checks ran against it and decided by ID
    assert by_check["agent.send_message"].status == "passed"
    assert by_check["agent.streaming"].status == "passed"
    assert verdicts["AGT-001"].status == "passed"
    assert verdicts["AGT-040"].status in ("passed", "failed")
    assert verdicts["AGT-024"].status == "failed"  # callers are not told apart
    # signed messaging and the card extension are failed (MUST) with a reason ...
    assert verdicts["EXT-001"].status == "failed"
    assert verdicts["AGT-033"].status == "failed"
    assert verdicts["MSG-006"].status == "failed"  # a forged signature is not refused
    assert "accepted" in verdicts["MSG-006"].message
    # ... and the typed-skill profile does not apply
    for name in ("agent.typed_input", "agent.typed_result"):
        assert by_check[name].status == "not-applicable"
        assert "extension" in by_check[name].message
    assert report.must_failed


@pytest.mark.req("RPL-003")
async def test_agent_without_replay_cache_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from woa_protocol import ReplayGuard

    monkeypatch.setattr(ReplayGuard, "remember", lambda self, *args, **kwargs: None)
    report = await run_against_agent(only=["replay_refused"])
    assert set(failed(report)) == {"RPL-003"}, failed(report)

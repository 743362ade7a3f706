"""The client: typed calls, streams, identity checks, output checks, failover, tracing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import BaseModel

from woa_agents import (
    Agent,
    AgentCallError,
    AgentClient,
    AgentIdentityError,
    AgentUnreachableError,
    NoAgentAvailableError,
    RemoteAgent,
    RpcError,
    SignaturePolicy,
    SkillContext,
    SkillOutputError,
    TransportError,
    connect,
)
from woa_protocol import SigningKey
from woa_protocol.models import Task, TaskState

from .conftest import CountOut, EchoIn, EchoOut, make_agent, stuck_then_open


@pytest.mark.req("AGT-032")
async def test_typed_call_through_the_harness_sees_the_caller(agent: Agent) -> None:
    key = SigningKey.generate()
    async with connect(agent, key=key) as client:
        out = await client.call("echo", EchoIn(text="hi", times=2), EchoOut)
        assert out == EchoOut(text="hihi", caller=key.did)
        plain = await client.call("echo", {"text": "x"})
        assert plain == {"text": "x", "caller": key.did}


@pytest.mark.req("AGT-012")
async def test_bad_input_raises_with_paths_and_no_failover(agent: Agent) -> None:
    async with connect(agent) as client:
        with pytest.raises(RpcError) as info:
            await client.call("echo", {"text": 1}, EchoOut)
        assert info.value.code == -32602
        assert [v["field"] for v in info.value.violations] == ["$.text"]


@pytest.mark.req("AGT-034")
@pytest.mark.req("AGT-023")
async def test_stream_yields_events_then_a_checked_result(agent: Agent) -> None:
    async with connect(agent) as client:
        events = [e async for e in client.stream("count", {"n": 3}, CountOut)]
    kinds = [e.kind for e in events]
    assert kinds[0] == "task"
    assert kinds[-1] == "result"
    assert kinds.count("artifact") == 4
    assert events[-1].output == CountOut(total=3)


@pytest.mark.req("AGT-022")
async def test_cancel_through_the_client(agent: Agent) -> None:
    async with connect(agent) as client:
        task = await client.send("wait", {"text": "never"}, return_immediately=True)
        assert isinstance(task, Task)
        canceled = await client.cancel(task.id)
        assert canceled.status.state == TaskState.CANCELED
        with pytest.raises(RpcError) as info:
            await client.cancel(task.id)
        assert info.value.code == -32002
        listed = await client.list_tasks(pageSize=5)
        assert listed.tasks[0].id == task.id


@pytest.mark.req("AGT-021")
async def test_failed_task_raises(agent: Agent) -> None:
    async with connect(agent) as client:
        with pytest.raises(AgentCallError, match="cannot do x"):
            await client.call("fail", {"text": "x"})


@pytest.mark.req("AGT-035")
async def test_answer_from_another_did_is_rejected() -> None:
    genuine, impostor = make_agent(), make_agent()
    app = impostor.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        client = AgentClient(SigningKey.generate(), transport=httpx.ASGITransport(app=app))
        target = RemoteAgent.from_card(genuine.card("http://agent.test/"))
        with pytest.raises(NoAgentAvailableError) as info:  # echo is idempotent: failover
            await client.call("echo", {"text": "x"}, agent=target)
        assert isinstance(info.value.attempts[0][1], AgentIdentityError)
        with pytest.raises(AgentIdentityError, match="signed by"):  # not idempotent: raised
            await client.call("fail", {"text": "x"}, agent=target)
        await client.aclose()


@pytest.mark.req("AGT-014")
async def test_output_off_the_signed_schema_is_rejected() -> None:
    key = SigningKey.generate()
    honest = make_agent(key=key)
    liar = Agent("liar", "same key, other output", key=key)

    class Other(BaseModel):
        number: int

    @liar.skill("echo", input=EchoIn, output=Other, family="classical")
    async def echo(request: EchoIn) -> Other:
        return Other(number=7)

    app = liar.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        client = AgentClient(SigningKey.generate(), transport=httpx.ASGITransport(app=app))
        target = RemoteAgent.from_card(honest.card("http://agent.test/"))
        with pytest.raises(SkillOutputError, match=r"\$"):
            await client.call("echo", {"text": "x"}, agent=target)
        await client.aclose()


@pytest.mark.req("AGT-061")
def test_card_without_identity_needs_allow_unsigned(agent: Agent) -> None:
    card = agent.card("http://agent.test/")
    plain = {k: v for k, v in card.items() if k != "signatures"}
    plain["capabilities"] = {"streaming": True}
    with pytest.raises(AgentIdentityError, match="allow_unsigned"):
        RemoteAgent.from_card(plain)
    assert RemoteAgent.from_card(plain, allow_unsigned=True).did is None
    forged = dict(card)
    forged["name"] = "renamed"
    with pytest.raises(AgentIdentityError, match="not signed"):
        RemoteAgent.from_card(forged)


# -- failover on real sockets ---------------------------------------------------------------


@pytest.mark.req("AGT-060")
async def test_failover_when_an_agent_is_down() -> None:
    first, second = make_agent(), make_agent()
    async with (
        first.running() as a,
        second.running() as b,
        AgentClient(SigningKey.generate(), timeout=5) as client,
    ):
        remote_a, remote_b = await client.agent(a.url), await client.agent(b.url)
        await a.kill()
        # "fail" style non-idempotent skill: connection refused means it never ran
        out = await client.call("echo", {"text": "x"}, EchoOut, agents=[remote_a, remote_b])
        assert out.text == "x"


@pytest.mark.req("AGT-060")
async def test_timeout_does_not_repeat_a_non_idempotent_call() -> None:
    async with stuck_then_open() as (client, agents):
        with pytest.raises(AgentCallError, match="did not answer"):
            await client.call("wait", {"text": "go"}, agents=agents, timeout=0.3)
        assert (await client.list_tasks(agent=agents[1])).total_size == 0
        out = await client.call(
            "wait",
            {"text": "go"},
            EchoOut,
            agents=agents,
            timeout=0.3,
            retry_non_idempotent=True,
        )
        assert out.text == "go"
        assert (await client.list_tasks(agent=agents[1])).total_size == 1


@pytest.mark.req("AGT-060")
async def test_idempotent_skill_fails_over_and_all_failing_is_reported() -> None:
    flaky, good = Agent("flaky", "fails"), make_agent()

    @flaky.skill("echo", family="classical", idempotent=True)
    async def echo(request: EchoIn) -> EchoOut:
        raise RuntimeError("model crashed")

    async with (
        flaky.running() as a,
        good.running() as b,
        AgentClient(SigningKey.generate(), timeout=5) as client,
    ):
        agents = [await client.agent(a.url), await client.agent(b.url)]
        out = await client.call("echo", {"text": "y"}, EchoOut, agents=agents)
        assert out.text == "y"
        with pytest.raises(NoAgentAvailableError) as info:
            await client.call("echo", {"text": "y"}, agents=[agents[0]])
        assert len(info.value.attempts) == 1


class RelayIn(BaseModel):
    url: str


class TraceOut(BaseModel):
    trace_id: str
    span_id: str
    parent_id: str | None


class RelayOut(BaseModel):
    mine: TraceOut
    downstream: TraceOut


@pytest.mark.req("AGT-050")
@pytest.mark.req("AGT-051")
async def test_traceparent_follows_every_hop() -> None:
    leaf, relay = Agent("leaf", "reports its span"), Agent("relay", "calls the leaf")

    @leaf.skill(family="classical")
    async def where(request: EchoIn, ctx: SkillContext) -> TraceOut:
        return TraceOut(
            trace_id=ctx.trace.trace_id, span_id=ctx.trace.span_id, parent_id=ctx.trace.parent_id
        )

    @relay.skill(family="classical")
    async def hop(request: RelayIn, ctx: SkillContext) -> RelayOut:
        async with AgentClient(relay.key) as inner:
            down = await inner.call("where", {"text": "x"}, TraceOut, agent=request.url)
        me = TraceOut(
            trace_id=ctx.trace.trace_id, span_id=ctx.trace.span_id, parent_id=ctx.trace.parent_id
        )
        return RelayOut(mine=me, downstream=down)

    root = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with (
        leaf.running() as l_,
        relay.running() as r,
        AgentClient(SigningKey.generate()) as client,
    ):
        out = await client.call("hop", {"url": l_.url}, RelayOut, agent=r.url, traceparent=root)
        task_list = await client.list_tasks(agent=r.url)
    assert out.mine.trace_id == out.downstream.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert out.mine.parent_id == "b7ad6b7169203331"  # the caller's span
    assert out.downstream.parent_id == out.mine.span_id  # the leaf hangs under the relay
    meta = task_list.tasks[0].metadata or {}
    assert meta["woa.traceId"] == "0af7651916cd43dd8448eb211c80319c"
    assert meta["woa.spanId"] == out.mine.span_id


@pytest.mark.req("AGT-035")
async def test_response_bound_to_another_request_is_rejected(agent: Agent) -> None:
    from woa_protocol import HttpRequest

    key = SigningKey.generate()
    async with connect(agent, key=key) as client:
        remote = client.default_agent
        assert remote is not None
        http = client.signed_http
        first, signed_first = http.build("POST", remote.url, content=b"{}", sign=True)
        response = await http.http.send(first)
        client._verify(remote.did or "", response, signed_first)  # genuine: accepted
        _, signed_second = http.build("POST", remote.url, content=b"{}", sign=True)
        assert isinstance(signed_second, HttpRequest)
        with pytest.raises(AgentIdentityError, match="not signed by"):
            client._verify(remote.did or "", response, signed_second)  # replayed answer


@pytest.mark.req("AGT-035")
@pytest.mark.req("AGT-034")
async def test_anonymous_stream_is_still_checked_against_the_agents_key() -> None:
    open_policy = SignaturePolicy(require_signatures=False)
    genuine = make_agent(policy=open_policy)
    impostor = make_agent(policy=open_policy)
    for server, ok in ((genuine, True), (impostor, False)):
        app = server.app("http://agent.test/")
        async with app.router.lifespan_context(app):
            client = AgentClient(None, transport=httpx.ASGITransport(app=app))  # no key
            target = RemoteAgent.from_card(genuine.card("http://agent.test/"))
            stream = client.stream("count", {"n": 1}, CountOut, agent=target)
            if ok:
                events = [e async for e in stream]
                assert events[-1].output == CountOut(total=1)
            else:
                with pytest.raises(AgentIdentityError, match="not signed by"):
                    _ = [e async for e in stream]
            await client.aclose()


async def test_an_unreachable_agent_is_a_retry_safe_transport_error() -> None:
    async with AgentClient(SigningKey.generate()) as client:
        with pytest.raises(AgentUnreachableError) as info:
            await client.agent("http://127.0.0.1:9/")
    assert info.value.retry_safe
    assert isinstance(info.value, TransportError)
    assert isinstance(info.value.__cause__, TransportError)


@pytest.mark.req("AGT-063")
async def test_a_stream_that_times_out_cancels_its_task() -> None:
    async with (
        make_agent().running() as running,
        AgentClient(SigningKey.generate()) as client,
    ):
        with pytest.raises(AgentUnreachableError, match=r"did not finish within 0\.5s"):
            _ = [
                e
                async for e in client.stream(
                    "wait", {"text": "never"}, agent=running.url, timeout=0.5
                )
            ]
        [task] = (await client.list_tasks(agent=running.url)).tasks
        assert task.status.state == TaskState.CANCELED


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON"])
async def test_subscribe_to_an_input_required_task_until_it_completes(binding: str) -> None:
    async with (
        make_agent().running() as running,
        AgentClient(SigningKey.generate(), bindings=[binding]) as client,
    ):
        first = await client.send("ask", {"text": "hi"}, agent=running.url)
        assert isinstance(first, Task)
        assert first.status.state == TaskState.INPUT_REQUIRED

        async def answer_soon() -> None:
            await asyncio.sleep(0.3)
            await client.send("ask", {"text": "name:Ada"}, agent=running.url, task_id=first.id)

        answering = asyncio.create_task(answer_soon())
        events = [e async for e in client.subscribe(first.id, agent=running.url)]
        await answering
        assert events[-1].kind == "result"
        assert events[-1].output == {"text": "hello Ada after 2 messages", "caller": None}
        states = [e.data["status"]["state"] for e in events if e.kind == "status"]
        assert states[-1] == TaskState.COMPLETED.value

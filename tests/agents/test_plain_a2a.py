"""Plain A2A messages reach SDK skills: text, files, default routing, every result kind.

Raw JSON-RPC bodies (as any A2A client writes them) against an in-memory agent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from woa_agents import Agent, File, InputRequired, MediaTypes, Partial, SkillContext
from woa_protocol import SigningKey
from woa_protocol.models import Message, Part, Role

from .conftest import RawCaller
from .plain_skills import plain_agent


class Caption(BaseModel):
    image: Annotated[File, MediaTypes("image/png")]
    prompt: str = "describe"


class Album(BaseModel):
    title: str
    photos: list[File]


def build() -> Agent:
    agent = plain_agent()

    @agent.skill()
    async def caption(request: Caption) -> File:
        assert request.image.raw is not None
        return File(raw=request.image.raw[::-1], media_type="image/png", filename="out.png")

    @agent.skill()
    async def album(request: Album) -> list[str | File]:
        return [f"{request.title}: {len(request.photos)}", *request.photos]

    @agent.skill()
    async def noted(text: str) -> list[str | Message]:
        return [text, Message(message_id="n", role=Role.AGENT, parts=[Part(text="done")])]

    @agent.skill(output_modes=["text/plain"])
    async def words(text: str) -> AsyncIterator[Partial]:
        for word in text.split():
            yield Partial(word + " ")

    @agent.skill()
    async def interview(text: str, ctx: SkillContext) -> AsyncIterator[Partial | str]:
        if len(ctx.history) < 2:
            raise InputRequired("who are you?")
        yield Partial("thinking")
        yield f"hello {text}"

    return agent


@pytest.fixture
async def plain() -> AsyncIterator[RawCaller]:
    app = build().app("http://agent.test/")
    async with app.router.lifespan_context(app):
        caller = RawCaller(app, SigningKey.generate())
        yield caller
        await caller.http.aclose()


def msg(*parts: dict[str, Any], skill: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messageId": uuid.uuid4().hex,
        "role": "ROLE_USER",
        "parts": list(parts),
        **extra,
    }
    if skill:
        out["metadata"] = {"woa.skill": skill}
    return out


async def send(raw: RawCaller, message: dict[str, Any], **config: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"message": message}
    if config:
        params["configuration"] = config
    return await raw.rpc("SendMessage", params)


PNG = base64.b64encode(b"\x89PNG-bytes").decode()


@pytest.mark.req("AGT-015")
@pytest.mark.req("AGT-019")
async def test_a_text_part_reaches_the_default_text_skill(plain: RawCaller) -> None:
    body = await send(plain, msg({"text": "hello"}))
    task = body["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["artifacts"] == [
        {"artifactId": "result", "name": "result", "parts": [{"text": "HELLO"}]}
    ]


@pytest.mark.req("AGT-015")
async def test_a_text_part_fills_the_single_required_string_field(plain: RawCaller) -> None:
    task = (await send(plain, msg({"text": "abc"}, skill="ask")))["result"]["task"]
    assert task["artifacts"][0]["parts"] == [{"data": {"answer": "cba", "lang": "en"}}]
    # a data part still fills the model as the typed profile says (AGT-011)
    typed = await send(plain, msg({"data": {"question": "xy", "lang": "fr"}}, skill="ask"))
    assert typed["result"]["task"]["artifacts"][0]["parts"][0]["data"]["lang"] == "fr"


@pytest.mark.req("AGT-016")
async def test_a_skill_that_opts_out_refuses_text_with_content_type_not_supported(
    plain: RawCaller,
) -> None:
    body = await send(plain, msg({"text": "abc"}, skill="strict"))
    error = body["error"]
    assert error["code"] == -32005
    assert "application/json" in error["message"]
    assert error["data"][0]["metadata"]["acceptedModes"] == "application/json"
    ok = await send(plain, msg({"data": {"text": "abc"}}, skill="strict"))
    assert ok["result"]["task"]["artifacts"][0]["parts"] == [{"text": "abc"}]


@pytest.mark.req("AGT-016")
async def test_file_parts_fill_file_fields_and_modes_are_checked(plain: RawCaller) -> None:
    png = {"raw": PNG, "mediaType": "image/png", "filename": "a.png"}
    task = (await send(plain, msg(png, skill="caption")))["result"]["task"]
    (part,) = task["artifacts"][0]["parts"]
    assert base64.b64decode(part["raw"]) == b"\x89PNG-bytes"[::-1]
    assert part["mediaType"] == "image/png"
    assert part["filename"] == "out.png"
    # data plus a file: the data gives the other fields
    both = await send(plain, msg({"data": {"prompt": "p"}}, png, skill="caption"))
    assert both["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    gif = {"raw": PNG, "mediaType": "image/gif"}
    refused = await send(plain, msg(gif, skill="caption"))
    assert refused["error"]["code"] == -32005
    assert "image/png" in refused["error"]["message"]
    assert (await send(plain, msg({"text": "x"}, skill="chat", **{}) | {"parts": [png]}))["error"][
        "code"
    ] == -32005


@pytest.mark.req("AGT-016")
@pytest.mark.req("AGT-017")
async def test_several_files_fill_a_list_and_several_results_are_several_artifacts(
    plain: RawCaller,
) -> None:
    files = [{"url": f"https://x.example/{i}.jpg", "mediaType": "image/jpeg"} for i in range(2)]
    task = (await send(plain, msg({"data": {"title": "trip"}}, *files, skill="album")))["result"][
        "task"
    ]
    ids = [a["artifactId"] for a in task["artifacts"]]
    assert ids == ["result", "result-1", "result-2"]
    assert task["artifacts"][0]["parts"] == [{"text": "trip: 2"}]
    assert task["artifacts"][2]["parts"] == [files[1]]


@pytest.mark.req("AGT-018")
async def test_a_message_result_is_an_immediate_message_reply(plain: RawCaller) -> None:
    body = await send(plain, msg({"text": "bob"}, skill="hello", contextId="ctx-1"))
    reply = body["result"]["message"]
    assert reply["parts"] == [{"text": "hi bob"}]
    assert reply["role"] == "ROLE_AGENT"
    assert reply["contextId"] == "ctx-1"
    assert "task" not in body["result"]


@pytest.mark.req("AGT-017")
async def test_a_completed_task_can_carry_a_status_message(plain: RawCaller) -> None:
    task = (await send(plain, msg({"text": "x"}, skill="noted")))["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["status"]["message"]["parts"] == [{"text": "done"}]
    assert task["status"]["message"]["taskId"] == task["id"]
    assert task["artifacts"][0]["parts"] == [{"text": "x"}]


async def stream(raw: RawCaller, method: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    response = await raw.post({"jsonrpc": "2.0", "id": 3, "method": method, "params": params})
    return [
        json.loads(line[6:])["result"]
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]


@pytest.mark.req("AGT-017")
@pytest.mark.req("AGT-023")
async def test_streamed_text_chunks_are_what_get_task_returns(plain: RawCaller) -> None:
    events = await stream(
        plain, "SendStreamingMessage", {"message": msg({"text": "a b c"}, skill="words")}
    )
    updates = [e["artifactUpdate"] for e in events if "artifactUpdate" in e]
    assert {u["artifact"]["artifactId"] for u in updates} == {"result"}
    chunks = [u for u in updates if not u["lastChunk"]]
    assert [u["append"] for u in chunks] == [False, True, True]
    streamed = "".join(u["artifact"]["parts"][0]["text"] for u in chunks)
    assert streamed == "a b c "
    last = updates[-1]
    assert last["lastChunk"] is True
    task_id = events[0]["task"]["id"]
    got = (await plain.rpc("GetTask", {"id": task_id}))["result"]
    assert got["artifacts"] == [last["artifact"]]
    assert got["artifacts"][0]["parts"] == [{"text": streamed}]


@pytest.mark.req("AGT-025")
async def test_resuming_a_generator_skill_answers_its_new_state(plain: RawCaller) -> None:
    first = (await send(plain, msg({"text": "hi"}, skill="interview")))["result"]["task"]
    assert first["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    resumed = (await send(plain, msg({"text": "ann"}, taskId=first["id"])))["result"]["task"]
    assert resumed["status"]["state"] == "TASK_STATE_COMPLETED"
    assert resumed["artifacts"][0]["parts"] == [{"text": "hello ann"}]


@pytest.mark.req("AGT-023")
async def test_subscribing_to_an_input_required_task_streams_until_terminal(
    plain: RawCaller,
) -> None:
    first = (await send(plain, msg({"text": "hi"}, skill="interview")))["result"]["task"]
    listening = asyncio.create_task(stream(plain, "SubscribeToTask", {"id": first["id"]}))
    await asyncio.sleep(0.05)
    await send(plain, msg({"text": "ann"}, taskId=first["id"]))
    events = await asyncio.wait_for(listening, 5)
    assert events[0]["task"]["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    states = [e["statusUpdate"]["status"]["state"] for e in events if "statusUpdate" in e]
    assert states == ["TASK_STATE_WORKING", "TASK_STATE_COMPLETED"]


@pytest.mark.req("AGT-019")
async def test_without_a_default_the_error_names_the_skills_and_the_key() -> None:
    agent = Agent("two", "two skills")

    @agent.skill()
    async def a(text: str) -> str:
        return text

    @agent.skill()
    async def b(text: str) -> str:
        return text

    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, SigningKey.generate())
        body = await send(raw, msg({"text": "x"}))
        assert body["error"]["code"] == -32602
        assert "a, b" in body["error"]["message"]
        assert "woa.skill" in body["error"]["message"]
        await raw.http.aclose()
    agent2 = Agent("x", "y", default_skill="nope")

    @agent2.skill()
    async def c(text: str) -> str:
        return text

    with pytest.raises(ValueError, match="not declared"):
        agent2.card("http://x/")


@pytest.mark.req("AGT-004")
async def test_proto_field_names_are_read_like_json_names(plain: RawCaller) -> None:
    task = (await send(plain, msg({"text": "one"})))["result"]["task"]
    for spelling in ("historyLength", "history_length"):
        got = (await plain.rpc("GetTask", {"id": task["id"], spelling: 0}))["result"]
        assert "history" not in got, spelling
    await send(plain, msg({"text": "two"}))
    for spelling in ("pageSize", "page_size"):
        listed = (await plain.rpc("ListTasks", {spelling: 1}))["result"]
        assert len(listed["tasks"]) == 1, spelling
        assert listed["pageSize"] == 1
    snake = await plain.rpc(
        "SendMessage",
        {
            "message": {
                "message_id": "m-snake",
                "role": "ROLE_USER",
                "context_id": "ctx-snake",
                "parts": [{"text": "s"}],
            },
            "configuration": {"return_immediately": True},
        },
    )
    assert snake["result"]["task"]["contextId"] == "ctx-snake"
    assert snake["result"]["task"]["status"]["state"] == "TASK_STATE_SUBMITTED"
    bad = await plain.rpc("ListTasks", {"page_size": True})
    assert bad["error"]["code"] == -32602

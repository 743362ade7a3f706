"""Interop with a2a-sdk 1.3 over real sockets, both directions.

* the real a2a-sdk client (``a2a.client``) calls an SDK agent's skill over JSON-RPC, plain
  and streaming, with the agent's policy accepting unsigned clients;
* the SDK client calls an agent built from a2a-sdk's server parts (its JSON-RPC routes, a
  ``DefaultRequestHandler`` and a trivial ``AgentExecutor``).
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Struct, Value

from woa_agents import AgentClient, AgentIdentityError, SignaturePolicy
from woa_protocol import SigningKey
from woa_protocol.models import BINDING_JSONRPC

from .a2a_sdk_agents import a2a_sdk_app, serve, start_task
from .conftest import make_agent

pytestmark = pytest.mark.interop


def _data_value(data: dict[str, Any]) -> Value:
    struct = Struct()
    struct.update(data)
    return Value(struct_value=struct)


@pytest.mark.req("AGT-031")
@pytest.mark.req("AGT-001")
async def test_a2a_sdk_client_calls_an_sdk_agent() -> None:
    from a2a.client import ClientConfig, create_client
    from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest

    agent = make_agent(policy=SignaturePolicy(require_signatures=False))
    async with agent.running() as running:
        for streaming in (False, True):
            client = await create_client(running.url, ClientConfig(streaming=streaming))
            metadata = Struct()
            metadata.update({"woa.skill": "echo"})
            request = SendMessageRequest(
                message=Message(
                    message_id=f"m-{streaming}",
                    role=Role.ROLE_USER,
                    parts=[Part(data=_data_value({"text": "interop", "times": 2}))],
                    metadata=metadata,
                )
            )
            events = [MessageToDict(e) async for e in client.send_message(request)]
            await client.close()
            final = (
                next(e["task"] for e in reversed(events) if "task" in e) if not streaming else None
            )
            if final is not None:
                assert final["status"]["state"] == "TASK_STATE_COMPLETED"
                assert final["artifacts"][0]["parts"][0]["data"] == {
                    "text": "interopinterop",
                    "caller": None,  # unsigned: no verified caller
                }
            else:
                artifacts = [e["artifactUpdate"] for e in events if "artifactUpdate" in e]
                assert artifacts[-1]["artifact"]["parts"][0]["data"]["text"] == "interopinterop"
                states = [
                    e["statusUpdate"]["status"]["state"] for e in events if "statusUpdate" in e
                ]
                assert states[-1] == "TASK_STATE_COMPLETED"


@pytest.mark.req("AGT-041")
async def test_a2a_sdk_client_reads_our_errors() -> None:
    from a2a.client import ClientConfig, create_client
    from a2a.types.a2a_pb2 import GetTaskRequest
    from a2a.utils.errors import TaskNotFoundError

    agent = make_agent(policy=SignaturePolicy(require_signatures=False))
    async with agent.running() as running:
        client = await create_client(running.url, ClientConfig(streaming=False))
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id="missing"))
        await client.close()


# -- the other direction: an agent built with a2a-sdk's server parts ----------------------


def upper_app(url: str) -> Any:
    """An a2a-sdk agent whose one skill, ``upper``, upper-cases the ``text`` of its data."""
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.types.a2a_pb2 import Part
    from a2a.utils.errors import TaskNotCancelableError

    class Upper(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            updater = await start_task(context, event_queue)
            await updater.start_work()
            data = MessageToDict(context.message.parts[0].data) if context.message else {}
            reply = {"text": str(data.get("text", "")).upper()}
            await updater.add_artifact([Part(data=_data_value(reply))], name="result")
            await updater.complete()

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise TaskNotCancelableError("this sample agent finishes at once")

    return a2a_sdk_app("upper", url, bindings=(BINDING_JSONRPC,), executor=Upper())


@pytest.mark.req("AGT-061")
async def test_sdk_client_calls_an_a2a_sdk_agent() -> None:
    async with serve(upper_app) as url:
        async with AgentClient(SigningKey.generate(), allow_unsigned=True) as client:
            out = await client.call("upper", {"text": "plain a2a"}, agent=url)
            assert out == {"text": "PLAIN A2A"}
            events = [e async for e in client.stream("upper", {"text": "sse"}, agent=url)]
            assert events[-1].kind == "result"
            assert events[-1].output == {"text": "SSE"}
        async with AgentClient(SigningKey.generate()) as strict:
            with pytest.raises(AgentIdentityError, match="allow_unsigned"):
                await strict.call("upper", {"text": "x"}, agent=url)

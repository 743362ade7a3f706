"""Ordinary A2A agents built only from a2a-sdk's server classes, served on real sockets.

No Web of Agents identity, no ``woa.skill`` metadata: what any A2A agent looks like. They
serve JSON-RPC and the HTTP+JSON binding from one ``DefaultRequestHandler``; the card lists
whichever bindings the test asks for.

* ``Shout``: text in, upper-cased text out; a file in, the file's bytes reversed out (same
  media type) plus a text note; data in, data out.
* ``Greeter``: answers with a ``Message`` (no task).
* ``AskName``: multi-turn: asks for a name (input-required), then greets it.
* ``Slow``: works until cancelled, and records each cancel it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import uvicorn
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Struct, Value

from woa_protocol.models import BINDING_HTTP_JSON, BINDING_JSONRPC


def _value(data: Any) -> Value:
    struct = Struct()
    struct.update({"v": data})
    return struct.fields["v"]


async def start_task(context: Any, queue: Any) -> Any:
    """Enqueue the task (a2a-sdk 1.3 wants it first, unless resuming) and return an updater."""
    from a2a.server.tasks import TaskUpdater
    from a2a.types.a2a_pb2 import Task, TaskState, TaskStatus

    if context.current_task is None:
        await queue.enqueue_event(
            Task(
                id=context.task_id,
                context_id=context.context_id,
                status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
                history=[context.message] if context.message else [],
            )
        )
    return TaskUpdater(queue, context.task_id, context.context_id)


def executors() -> dict[str, Any]:
    """The sample executors, by name (built lazily: a2a-sdk is a test dependency)."""
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.types.a2a_pb2 import Message, Part, Role, TaskState
    from a2a.utils.errors import TaskNotCancelableError

    class Shout(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            updater = await start_task(context, event_queue)
            await updater.start_work()
            parts: list[Part] = []
            for part in context.message.parts if context.message else []:
                if part.HasField("text"):
                    parts.append(Part(text=part.text.upper()))
                elif part.HasField("raw"):
                    parts.append(
                        Part(
                            raw=part.raw[::-1],
                            media_type=part.media_type,
                            filename=f"reversed-{part.filename}",
                        )
                    )
                    note = f"got {part.filename} ({part.media_type}, {len(part.raw)} bytes)"
                    await updater.add_artifact([Part(text=note)], name="note")
                elif part.HasField("data"):
                    parts.append(Part(data=_value({"echo": MessageToDict(part.data)})))
            await updater.add_artifact(parts, name="answer")
            await updater.complete()

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise TaskNotCancelableError("this sample agent does not cancel tasks")

    class Greeter(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            name = context.get_user_input()
            await event_queue.enqueue_event(
                Message(
                    message_id=f"reply-{context.task_id}",
                    role=Role.ROLE_AGENT,
                    context_id=context.context_id,
                    parts=[Part(text=f"Hello, {name}!")],
                )
            )

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise TaskNotCancelableError("this sample agent does not cancel tasks")

    class AskName(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            resuming = context.current_task is not None
            updater = await start_task(context, event_queue)
            if not resuming:
                question = updater.new_agent_message([Part(text="What is your name?")])
                await updater.requires_input(question)
                return
            await updater.start_work()
            await updater.add_artifact([Part(text=f"Nice to meet you, {context.get_user_input()}")])
            await updater.complete()

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise TaskNotCancelableError("this sample agent does not cancel tasks")

    class Slow(AgentExecutor):
        def __init__(self) -> None:
            self.cancelled: list[str] = []
            self.started: list[str] = []

        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            updater = await start_task(context, event_queue)
            await updater.start_work()
            self.started.append(str(context.task_id))
            await asyncio.sleep(30)

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            self.cancelled.append(str(context.task_id))
            updater = await start_task(context, event_queue)
            await updater.update_status(TaskState.TASK_STATE_CANCELED)

    return {"shout": Shout, "greet": Greeter, "ask": AskName, "slow": Slow}


def a2a_sdk_app(
    kind: str,
    url: str,
    *,
    bindings: tuple[str, ...] = (BINDING_JSONRPC, BINDING_HTTP_JSON),
    executor: Any = None,
) -> Any:
    """A Starlette app serving one sample executor on JSON-RPC (at /) and HTTP+JSON (/rest)."""
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.routes import (
        create_agent_card_routes,
        create_jsonrpc_routes,
        create_rest_routes,
    )
    from a2a.server.tasks import InMemoryTaskStore
    from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
    from starlette.applications import Starlette

    base = url.rstrip("/")
    where = {BINDING_JSONRPC: base + "/", BINDING_HTTP_JSON: base + "/rest"}
    card = AgentCard(
        name=f"a2a-sdk {kind}",
        description=f"an ordinary A2A agent: {kind}",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=where[b], protocol_binding=b, protocol_version="1.0")
            for b in bindings
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain", "application/octet-stream", "application/json"],
        default_output_modes=["text/plain", "application/octet-stream", "application/json"],
        skills=[AgentSkill(id=kind, name=kind, description=kind, tags=["sample"])],
    )
    handler = DefaultRequestHandler(executor or executors()[kind](), InMemoryTaskStore(), card)
    return Starlette(
        routes=[
            *create_agent_card_routes(card),
            *create_rest_routes(handler, path_prefix="/rest"),
            *create_jsonrpc_routes(handler, "/"),
        ]
    )


@contextlib.asynccontextmanager
async def serve(app_for_url: Callable[[str], Any]) -> AsyncIterator[str]:
    """Serve the app on a free 127.0.0.1 port; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server = uvicorn.Server(uvicorn.Config(app_for_url(url), log_level="warning"))
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


@contextlib.contextmanager
def serve_in_thread(app_for_url: Callable[[str], Any]) -> Iterator[str]:
    """Serve the app from a thread with its own event loop (for synchronous callers)."""
    ready, done = threading.Event(), threading.Event()
    found: list[str] = []

    async def main() -> None:
        async with serve(app_for_url) as url:
            found.append(url)
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.02)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(20), "the a2a-sdk agent did not start"
    try:
        yield found[0]
    finally:
        done.set()
        thread.join(20)

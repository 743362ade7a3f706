"""A2A TCK system under test, written only with the Web of Agents SDK's public API.

The A2A TCK (github.com/a2aproject/a2a-tck) drives its system under test by the prefix of
each message's ``messageId`` (its ``scenarios/*.feature``); this agent's one text skill
does what each scenario asks. It serves JSON-RPC and HTTP+JSON (both listed in its card)
and accepts unsigned requests, as plain A2A clients send them.

    python examples/tck/tck_sut.py --port 9999
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

from woa_agents import (
    Agent,
    File,
    InputRequired,
    Partial,
    Progress,
    Rejected,
    SignaturePolicy,
    SkillContext,
)
from woa_protocol.models import Message, Part, Role

STREAMING_TIMEOUT_S = 2.0
"""The TCK's streaming timeout; the resubscription scenario waits twice as long."""

Result = str | File | dict[str, Any] | Message | list[str | File | Message]


def agent_message(text: str) -> Message:
    """An agent message with one text part."""
    return Message(message_id=f"sut-{text[:8]}", role=Role.AGENT, parts=[Part(text=text)])


def build(delay: float = STREAMING_TIMEOUT_S) -> Agent:
    """The system under test (``delay``: the TCK's streaming timeout)."""
    agent = Agent(
        "woa-tck-sut",
        "Web of Agents SDK system under test for the A2A TCK",
        policy=SignaturePolicy(require_signatures=False),
    )

    @agent.skill("tck", name="TCK conformance", tags=["tck"], default=True)
    async def tck(text: str, ctx: SkillContext) -> AsyncIterator[Progress | Partial | Result]:
        """Do what the TCK scenario named by the messageId prefix asks."""
        message_id = ctx.history[-1].message_id
        if message_id.startswith("tck-stream-artifact-chunked"):
            yield Partial("chunk-1 ")
            yield Partial("chunk-2")
        elif message_id.startswith("test-resubscribe-message-id"):
            await asyncio.sleep(2 * delay)
        elif message_id.startswith("tck-stream-artifact-text"):
            yield "Streamed text content"
        elif message_id.startswith(("tck-stream-artifact-file", "tck-artifact-file-url")):
            if "url" in message_id:
                yield File(
                    url="https://example.com/output.txt",
                    media_type="text/plain",
                    filename="output.txt",
                )
            else:
                yield File(raw=b"tck", media_type="text/plain", filename="output.txt")
        elif message_id.startswith("tck-stream-ordering-001"):
            yield "Ordered output"
        elif message_id.startswith("tck-message-response"):
            yield agent_message("Direct message response")
        elif message_id.startswith("tck-input-required"):
            if len(ctx.history) < 2:
                raise InputRequired("more input please")
            yield [agent_message("Thanks for the input")]
        elif message_id.startswith("tck-complete-task"):
            yield [agent_message("Hello from TCK")]
        elif message_id.startswith("tck-artifact-text"):
            yield "Generated text content"
        elif message_id.startswith("tck-artifact-file"):
            yield File(raw=b"tck", media_type="text/plain", filename="output.txt")
        elif message_id.startswith("tck-artifact-data"):
            yield {"key": "value", "count": 42}
        elif message_id.startswith("tck-reject-task"):
            raise Rejected("rejected")
        elif message_id.startswith("tck-stream-001"):
            yield "Stream hello from TCK"
        elif message_id.startswith("tck-stream-002"):
            pass
        elif message_id.startswith("tck-stream-003"):
            yield "Stream task lifecycle"
        else:
            yield [agent_message(f"Unhandled messageId prefix: {message_id}")]

    return agent


def main() -> None:
    """Serve the system under test until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9999, help="port (default 9999)")
    args = parser.parse_args()
    build().run(args.host, args.port)


if __name__ == "__main__":
    main()

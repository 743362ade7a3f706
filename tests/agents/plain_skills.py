"""The plain-A2A skills both plain-message test files serve, and their models.

A default text skill, a typed skill with one string field, a skill that takes JSON data only,
and one that answers with a Message.
"""

from __future__ import annotations

from pydantic import BaseModel

from woa_agents import Agent
from woa_protocol.models import Message, Part, Role

__all__ = ["Answer", "Ask", "Strict", "plain_agent"]


class Ask(BaseModel):
    question: str
    lang: str = "en"


class Answer(BaseModel):
    answer: str
    lang: str


class Strict(BaseModel):
    text: str


def plain_agent() -> Agent:
    """An agent with ``chat`` (the default), ``ask``, ``strict`` and ``hello``."""
    agent = Agent("plain", "Plain A2A skills.")

    @agent.skill(default=True)
    async def chat(text: str) -> str:
        """Upper-case text."""
        return text.upper()

    @agent.skill()
    async def ask(request: Ask) -> Answer:
        return Answer(answer=request.question[::-1], lang=request.lang)

    @agent.skill(plain_text=False)
    async def strict(request: Strict) -> str:
        return request.text

    @agent.skill()
    async def hello(text: str) -> Message:
        return Message(message_id="r1", role=Role.AGENT, parts=[Part(text=f"hi {text}")])

    return agent

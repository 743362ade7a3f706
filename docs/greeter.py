"""The tutorial's agent, serving until Ctrl-C: the README's "first ten minutes" runs it.

It registers with the registry at ``WOA_REGISTRY_URL`` (default http://127.0.0.1:8470) and
listens on ``GREETER_PORT`` (default 8000; 0 picks a free port).
"""

import os

from pydantic import BaseModel

from woa_agents import Agent

REGISTRY = os.environ.get("WOA_REGISTRY_URL", "http://127.0.0.1:8470")
agent = Agent("greeter", "Greets people by name.", registry_url=REGISTRY)


class Greeting(BaseModel):
    """Who to greet."""

    name: str


class Reply(BaseModel):
    """The greeting."""

    text: str


@agent.skill(family="classical", tags=["greeting"], idempotent=True)
async def greet(request: Greeting) -> Reply:
    """Say hello to someone."""
    return Reply(text=f"Hello, {request.name}!")


if __name__ == "__main__":
    agent.run(port=int(os.environ.get("GREETER_PORT", "8000")))

"""The SDK reads what peers answer as I-JSON: a card with a repeated name is refused (JCS-006)."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from woa_agents import AgentCallError, AgentClient
from woa_protocol import HttpResponse, MessageSigner, SigningKey

from .conftest import make_agent


@pytest.mark.req("JCS-006")
async def test_a_card_with_a_repeated_name_is_refused() -> None:
    agent = make_agent()
    text = json.dumps(agent.card("http://agent.test/"))
    served = {"body": text.encode()}
    signer = MessageSigner(agent.key)

    async def card(request: Request) -> Response:
        response = HttpResponse(200, {"content-type": "application/json"}, served["body"])
        signer.sign_response(response)
        return Response(served["body"], headers=response.headers)

    app = Starlette(routes=[Route("/.well-known/agent-card.json", card)])
    transport = httpx.ASGITransport(app=app)
    async with AgentClient(SigningKey.generate(), transport=transport) as client:
        assert (await client.agent("http://agent.test/")).did == agent.did  # as served: fine
    name = json.dumps(agent.card("http://agent.test/")["name"])
    served["body"] = text.replace(f'"name": {name}', f'"name": {name}, "name": "Other"', 1).encode()
    async with AgentClient(SigningKey.generate(), transport=transport) as client:
        with pytest.raises(AgentCallError, match=r"I-JSON.*'name'"):
            await client.agent("http://agent.test/")

"""The dashboard in a real browser: live agent list, cards, search, state history, trails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from pydantic import BaseModel, Field

from woa_agents import Agent, StateClient
from woa_protocol import SigningKey
from woa_protocol.keyfile import save_key

from .._support import LiveServer

pytestmark = pytest.mark.timeout(120)


class Greeting(BaseModel):
    name: str
    times: int = Field(default=1, ge=1)


class Reply(BaseModel):
    text: str


def greeter(name: str = "greeter", **kwargs: Any) -> Agent:
    agent = Agent(name, "Greets people by name.", **kwargs)

    @agent.skill(family="classical", tags=["greeting"], idempotent=True)
    async def greet(request: Greeting) -> Reply:
        """Say hello to someone."""
        return Reply(text=" ".join([f"Hello, {request.name}!"] * request.times))

    @agent.skill(default=True)
    async def chat(text: str) -> str:
        """Answer a plain text message."""
        return f"You said: {text}"

    return agent


def speller(name: str = "speller", **kwargs: Any) -> Agent:
    agent = Agent(name, "Spells words backwards.", **kwargs)

    class Word(BaseModel):
        word: str
        uppercase: bool

    @agent.skill(family="classical", tags=["text"])
    async def reverse(request: Word) -> Reply:
        """Reverse a word."""
        text = request.word[::-1]
        return Reply(text=text.upper() if request.uppercase else text)

    return agent


def row(page: Page, did: str) -> Any:
    return page.locator(f'#agent-rows tr[data-did="{did}"]')


@pytest.mark.req("REG-100")
async def test_agents_join_and_leave_live(
    registry: LiveServer, page: Page, artifacts: Path
) -> None:
    await page.goto(f"{registry.url}/ui/agents")
    await expect(page.locator("#feed-status")).to_have_text("live")
    await expect(page.locator("#no-agents")).to_be_visible()
    staying = greeter(registry_url=registry.url)
    leaving = speller(registry_url=registry.url)
    crashing = greeter("crasher", registry_url=registry.url, lease_seconds=1)
    async with staying.running() as a, leaving.running() as b, crashing.running() as c:
        for running in (a, b, c):
            assert running.lifecycle is not None
            await asyncio.wait_for(running.lifecycle.registered.wait(), 10)
        # no reload: the rows arrive over the change feed
        for agent in (staying, leaving, crashing):
            await expect(row(page, agent.did)).to_be_visible()
        await expect(page.locator("#events li")).to_have_count(3)
        await page.screenshot(path=artifacts / "agents-live.png", full_page=True)
        await b.stop()  # a clean stop deregisters
        await expect(row(page, leaving.did)).to_have_count(0)
        await expect(page.locator("#events")).to_contain_text(f"{leaving.did} left")
        await c.kill()  # a crash: no deregistration, the lease lapses
        await expect(row(page, crashing.did)).to_have_count(0)
        await expect(page.locator("#events")).to_contain_text(f"{crashing.did} lease expired")
        await expect(row(page, staying.did)).to_be_visible()
        await page.screenshot(path=artifacts / "agents-after-leaves.png", full_page=True)

        await row(page, staying.did).get_by_role("link", name="greeter").click()
        await expect(page.locator("h1")).to_have_text("greeter")
        await expect(page.locator("#agent-did")).to_have_text(staying.did)
        await expect(page.locator("#signature")).to_contain_text("valid JWS by " + staying.did)
        await expect(page.get_by_text("Input schema").first).to_be_visible()
        await page.get_by_text("Input schema").first.click()
        await expect(page.locator("pre").first).to_contain_text('"name"')
        await expect(page.locator(".facts").nth(1)).to_contain_text("classical")
        await expect(page.locator(".facts").nth(1)).to_contain_text("Idempotent")
        # read-only by default: the try-it form is there but disabled, and says why
        await expect(page.get_by_role("button", name="Call greet")).to_be_disabled()
        await expect(page.locator(".note").first).to_contain_text("WOA_REGISTRY_UI_CALL_KEY_FILE")
        await page.screenshot(path=artifacts / "agent-card.png", full_page=True)


async def test_search_by_text_skill_and_payload(
    registry: LiveServer, page: Page, artifacts: Path
) -> None:
    one, two = greeter(registry_url=registry.url), speller(registry_url=registry.url)
    async with one.running() as a, two.running() as b:
        for running in (a, b):
            assert running.lifecycle is not None
            await asyncio.wait_for(running.lifecycle.registered.wait(), 10)
        await page.goto(f"{registry.url}/ui/agents")
        await expect(page.locator("#agent-rows tbody tr")).to_have_count(2)

        await page.get_by_label("Text").fill("backwards")
        await page.get_by_role("button", name="Search").click()
        await expect(page.locator("#agent-rows tbody tr")).to_have_count(1)
        await expect(row(page, two.did)).to_be_visible()

        await page.goto(f"{registry.url}/ui/agents")
        await page.get_by_label("Skill id").fill("greet")
        await page.get_by_label("Skill id").press("Enter")
        await expect(page.locator("#agent-rows tbody tr")).to_have_count(1)
        await expect(row(page, one.did)).to_be_visible()

        await page.goto(f"{registry.url}/ui/agents")
        await page.get_by_label("Payload (JSON)").fill('{"word": "abc", "uppercase": true}')
        await page.get_by_role("button", name="Search").click()
        await expect(page.locator("#agent-rows tbody tr")).to_have_count(1)
        await expect(row(page, two.did).locator(".skill.matched")).to_have_text("reverse")
        await page.screenshot(path=artifacts / "search-payload.png", full_page=True)

        await page.get_by_label("Payload (JSON)").fill("{not json")
        await page.get_by_role("button", name="Search").click()
        await expect(page.get_by_role("alert")).to_contain_text("payload is not JSON")


def trail(task: str, planner: str, worker: str) -> dict[str, Any]:
    at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    hop = {"agent": worker, "signer": planner, "at": at, "status": "TASK_STATE_COMPLETED"}
    return {
        "kind": "woa.trail/1",
        "task": task,
        "hops": [
            {"id": "1", "parent": None, "skill": "plan", **hop, "agent": planner},
            {"id": "2", "parent": "1", "skill": "transcribe", **hop},
            {"id": "3", "parent": "1", "skill": "translate", **hop},
            {"id": "4", "parent": "3", "skill": "speak", **hop, "signer": worker},
        ],
    }


@pytest.mark.req("STATE-050")
async def test_state_history_and_call_tree(
    registry: LiveServer, page: Page, artifacts: Path
) -> None:
    planner, worker = SigningKey.generate(), SigningKey.generate()
    async with StateClient(registry.url, planner) as state:
        await state.put_namespace("demo", public_read=True, writers=[worker.did])
        await state.put_namespace("private-notes")  # not public: not listed, not shown
        await state.put("demo", "notes/today", {"text": "first"}, create=True)
        await state.put("demo", "notes/today", {"text": "second"}, if_match=1)
        await state.put(
            "demo", "trails/task-42", trail("task-42", planner.did, worker.did), create=True
        )

    await page.goto(f"{registry.url}/ui/state")
    await expect(page.get_by_role("link", name="demo")).to_be_visible()
    await expect(page.get_by_role("link", name="private-notes")).to_have_count(0)
    await page.get_by_role("link", name="demo").click()
    await page.get_by_role("link", name="notes/today").click()
    history = page.locator("table.history tbody tr")
    await expect(history).to_have_count(2)
    for i in range(2):
        await expect(history.nth(i)).to_contain_text(f"signature valid, signed by {planner.did}")
    await expect(page.locator("#doc-value")).to_contain_text('"second"')
    await page.screenshot(path=artifacts / "state-history.png", full_page=True)

    await page.goto(f"{registry.url}/ui/state/demo")
    await page.get_by_role("link", name="Call trails").click()
    await page.get_by_role("link", name="trails/task-42").click()
    tree = page.locator("ul.tree")
    await expect(page.locator("#trail-title")).to_contain_text("task-42")
    # speak sits under translate, which sits under plan: the tree's nesting, not a list
    speak = tree.locator("> li > ul > li > ul > li .hop-skill")
    await expect(speak).to_have_text("speak")
    await expect(tree.locator("> li > .hop .hop-skill")).to_have_text("plan")
    await expect(tree).to_contain_text(f"signed by {worker.did}")
    await page.screenshot(path=artifacts / "call-tree.png", full_page=True)

    await page.goto(f"{registry.url}/ui/state/private-notes")
    await expect(page.get_by_role("alert")).to_contain_text("may not read")


@pytest.mark.req("REG-101")
@pytest.mark.parametrize(("path", "ready"), [("/docs", ".opblock"), ("/redoc", "h1")])
async def test_api_docs_load_nothing_from_outside(
    registry: LiveServer, page: Page, artifacts: Path, path: str, ready: str
) -> None:
    outside: list[str] = []

    async def only_local(route: Any) -> None:
        if route.request.url.startswith(registry.url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_local)
    await page.goto(f"{registry.url}{path}")
    await expect(page.locator(ready).first).to_be_visible()
    await page.screenshot(path=artifacts / f"api{path.replace('/', '-')}.png")
    await page.goto(f"{registry.url}/ui/agents")
    await expect(page.locator("#feed-status")).to_have_text("live")
    assert outside == []


async def test_labels_and_keyboard(registry: LiveServer, page: Page) -> None:
    agent = greeter(registry_url=registry.url)
    async with agent.running() as running:
        assert running.lifecycle is not None
        await asyncio.wait_for(running.lifecycle.registered.wait(), 10)
        for path in ("/ui/agents", f"/ui/agents/{agent.did}", "/ui/state"):
            await page.goto(f"{registry.url}{path}")
            unlabelled = await page.evaluate(
                """() => [...document.querySelectorAll(
                        'input:not([type=hidden]), select, textarea')]
                    .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
                    .map(e => e.name)"""
            )
            assert unlabelled == [], path
            assert await page.locator("html").get_attribute("lang") == "en"
            assert await page.locator("main").count() == 1
        await page.goto(f"{registry.url}/ui/agents")
        await page.keyboard.press("Tab")
        await expect(page.locator(".skip")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("main")).to_be_focused()
        # from the main content, Tab reaches the search form, then the agent's link
        link = row(page, agent.did).get_by_role("link")
        for _ in range(12):
            await page.keyboard.press("Tab")
            if await link.evaluate("e => e === document.activeElement"):
                break
        await expect(link).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#agent-did")).to_have_text(agent.did)


@pytest.mark.req("REG-102")
async def test_try_it_calls_a_skill_signed_by_the_operator_key(
    ui_settings: Any, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    key = SigningKey.generate()
    save_key(key, tmp_path / "ui-caller.pem")
    server = LiveServer(
        ui_settings.model_copy(update={"ui_call_key_file": tmp_path / "ui-caller.pem"})
    ).start()
    try:
        agent = greeter(registry_url=server.url)
        async with agent.running() as running:
            assert running.lifecycle is not None
            await asyncio.wait_for(running.lifecycle.registered.wait(), 10)
            await page.goto(f"{server.url}/ui/agents/{agent.did}")
            await expect(page.locator(".try").first).to_contain_text(f"Signed as {key.did}")
            await page.get_by_label("name (required)").fill("Ada")
            await page.get_by_label("times").fill("2")
            await page.get_by_role("button", name="Call greet").click()
            await expect(page.locator("#outcome-output")).to_contain_text("Hello, Ada! Hello, Ada!")
            await page.screenshot(path=artifacts / "try-it.png", full_page=True)
            await expect(page.get_by_label("name (required)")).to_have_value("Ada")  # kept
            await page.get_by_label("times").fill("0")  # below the schema's minimum
            await page.get_by_role("button", name="Call greet").click()
            await expect(page.locator("#outcome")).to_contain_text("Error")
            # a text skill gets a plain text area, not JSON
            await page.get_by_label("Text (required)").fill('say "hi"')
            await page.get_by_role("button", name="Call chat").click()
            # the text goes as typed (a JSON string), and comes back as the skill's text
            await expect(page.locator("#outcome pre").first).to_have_text('"say \\"hi\\""')
            await expect(page.locator("#outcome-output")).to_contain_text("You said: say")
    finally:
        server.stop()

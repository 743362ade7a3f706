"""``woa registry``, ``woa agents`` and ``woa discover`` against a real registry on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from zeroconf import IPVersion, Zeroconf

from tests.registry._support import LiveServer
from woa_agents import RegistryClient
from woa_cli.main import app
from woa_protocol import SigningKey, sign_card
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    ModelFamily,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
)
from woa_registry import RegistrySettings
from woa_registry.mdns import RegistryAdvertiser
from woa_registry.settings import load_or_create_key

runner = CliRunner()


def _card(key: SigningKey) -> dict[str, object]:
    card = AgentCard(
        name="OCR agent",
        description="Reads text",
        supported_interfaces=[
            AgentInterface(url="http://127.0.0.1:9/", protocol_binding="JSONRPC")
        ],
        version="1",
        capabilities=AgentCapabilities(),
        default_input_modes=["image/png"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="ocr", name="OCR", description="Reads text", tags=["ocr"])],
    )
    schema = {"type": "object", "required": ["image"]}
    ext = WoaCardExtension(
        did=key.did,
        skills={"ocr": SkillProfile(input_schema=schema, output_schema={}, family=ModelFamily.OCR)},
    )
    return sign_card(attach_extension(card, ext), key)


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/r.db",
        key_file=tmp_path / "key.pem",
    )
    server = LiveServer(settings, key=load_or_create_key(settings.key_file)).start()
    yield server.url
    server.stop()


@pytest.mark.parametrize(
    "command",
    [
        ["registry"],
        ["registry", "serve"],
        ["agents"],
        ["agents", "list"],
        ["agents", "search"],
        ["agents", "show"],
        ["agents", "watch"],
        ["discover"],
        ["bench", "registry"],
    ],
)
def test_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.mark.req("REG-040")
def test_list_search_show(registry_url: str) -> None:
    key = SigningKey.generate()

    async def register() -> None:
        async with RegistryClient(registry_url, key) as client:
            await client.register(_card(key))

    asyncio.run(register())
    listed = runner.invoke(app, ["agents", "list", "-r", registry_url, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [a["did"] for a in json.loads(listed.output)] == [key.did]
    table = runner.invoke(app, ["agents", "list", "-r", registry_url])
    assert "OCR agent" in table.output
    found = runner.invoke(
        app, ["agents", "search", "-r", registry_url, "--family", "ocr", "--json"]
    )
    assert [a["did"] for a in json.loads(found.output)] == [key.did]
    none = runner.invoke(app, ["agents", "search", "-r", registry_url, "--family", "slm"])
    assert "no agents" in none.output
    by_payload = runner.invoke(
        app, ["agents", "search", "-r", registry_url, "--payload", '{"image": "x"}', "--json"]
    )
    assert json.loads(by_payload.output)["matches"][0]["skillId"] == "ocr"
    shown = runner.invoke(app, ["agents", "show", key.did, "-r", registry_url])
    assert json.loads(shown.output)["card"]["name"] == "OCR agent"
    missing = runner.invoke(app, ["agents", "show", SigningKey.generate().did, "-r", registry_url])
    assert missing.exit_code == 1
    bad = runner.invoke(app, ["agents", "search", "-r", registry_url, "--family", "giant"])
    assert bad.exit_code == 1
    assert "invalid-request" in bad.output


@pytest.mark.req("REG-002")
def test_wrong_registry_did_is_refused(registry_url: str) -> None:
    result = runner.invoke(
        app, ["agents", "list", "-r", registry_url, "--registry-did", SigningKey.generate().did]
    )
    assert result.exit_code == 1
    assert "does not verify" in result.output


def test_unreachable_registry() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result = runner.invoke(app, ["agents", "list", "-r", url])
    finally:
        sock.close()
    assert result.exit_code == 1
    assert "cannot reach" in result.output


@pytest.mark.req("REG-091")
def test_discover_on_loopback() -> None:
    key = SigningKey.generate()
    advertiser = RegistryAdvertiser(did=key.did, version="1", host="127.0.0.1", port=18471)
    zeroconf = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)  # own thread
    zeroconf.register_service(advertiser.info)
    try:
        result = runner.invoke(
            app, ["discover", "--interface", "127.0.0.1", "--timeout", "2", "--json"]
        )
    finally:
        zeroconf.unregister_service(advertiser.info)
        zeroconf.close()
    assert result.exit_code == 0, result.output
    services = [s for s in json.loads(result.output) if s["properties"].get("did") == key.did]
    assert services[0]["url"] == "http://127.0.0.1:18471/v1"
    assert services[0]["kind"] == "registry"


def test_serve_on_a_busy_port_fails_cleanly(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        result = runner.invoke(
            app,
            ["registry", "serve", "--port", str(busy.getsockname()[1]), "--no-mdns",
             "--database-url", f"sqlite:///{tmp_path}/r.db", "--key-file", str(tmp_path / "k.pem")],
        )  # fmt: skip
    finally:
        busy.close()
    assert result.exit_code == 1
    assert "cannot listen" in result.output


def test_output_is_never_cut_at_80_columns(registry_url: str) -> None:
    key = SigningKey.generate()

    async def register() -> None:
        async with RegistryClient(registry_url, key) as client:
            await client.register(_card(key))

    asyncio.run(register())
    listed = runner.invoke(app, ["agents", "list", "-r", registry_url], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    assert key.did in listed.output  # whole, on one line
    assert "…" not in listed.output


def test_a_url_that_is_not_a_registry_is_named(registry_url: str) -> None:
    result = runner.invoke(app, ["agents", "list", "-r", f"{registry_url}/docs"])
    assert result.exit_code == 1
    assert f"{registry_url}/docs does not look like a Web of Agents registry" in result.output
    assert "about:blank" not in result.output


def test_unreachable_registry_is_named() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result = runner.invoke(app, ["agents", "list", "-r", url])
    finally:
        sock.close()
    assert result.exit_code == 1
    assert f"cannot reach the registry at {url}" in result.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["registry", "serve", "--port", "99999"], {}, "'--port'"),
        (["registry", "serve"], {"WOA_REGISTRY_PORT": "99999"}, "WOA_REGISTRY_PORT"),
        (["agent", "call", "greet", "--input", "{}", "--timeout", "-1"], {}, "'--timeout'"),
        (["discover", "--timeout", "-1"], {}, "'--timeout'"),
        (["agents", "watch", "--count", "0"], {}, "'--count'"),
    ],
)
def test_out_of_range_values_are_refused_clearly(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0
    assert message in result.output
    assert "errors.pydantic.dev" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.req("REG-051")
def test_agents_watch_prints_the_change_feed(registry_url: str) -> None:
    key = SigningKey.generate()

    async def churn() -> None:
        await asyncio.sleep(1.0)  # let the watcher subscribe first
        async with RegistryClient(registry_url, key) as client:
            await client.register(_card(key))
            await client.deregister()

    thread = threading.Thread(target=lambda: asyncio.run(churn()))
    thread.start()
    try:
        result = runner.invoke(app, ["agents", "watch", "-r", registry_url, "--count", "2"])
    finally:
        thread.join(20)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if key.did in line]
    assert "joined" in lines[0]
    assert "OCR agent" in lines[0]
    assert "left" in lines[1]
    as_json = runner.invoke(
        app, ["agents", "watch", "-r", registry_url, "--since", "0", "--count", "2", "--json"]
    )
    kinds = [json.loads(line)["kind"] for line in as_json.output.splitlines()]
    assert kinds == ["registered", "deregistered"]

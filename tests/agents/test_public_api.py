from __future__ import annotations

import pytest

from tests.agents.public_api import check_all


@pytest.mark.parametrize(
    "module",
    [
        "woa_agents",
        "woa_agents.tasks",
        "woa_agents.jsonrpc",
        "woa_agents.endpoint",
        "woa_agents.client",
        "woa_agents.errors",
        "woa_agents.http",
        "woa_agents.content",
        "woa_agents.state_client",
    ],
)
def test_all_is_sorted_and_importable(module: str) -> None:
    check_all(module)


def test_sdk_does_not_import_the_registry_server() -> None:
    import subprocess
    import sys

    code = "import sys, woa_agents; print(any(m.startswith('woa_registry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


SERVER_MODULES = ("starlette", "uvicorn", "fastapi", "sse_starlette", "prometheus_client")


@pytest.mark.parametrize("module", ["woa_agents.client", "woa_agents"])
def test_importing_the_clients_loads_no_server_module(module: str) -> None:
    import subprocess
    import sys

    code = (
        f"import sys, {module}\n"
        "from woa_agents import AgentClient, RegistryClient, StateClient\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {SERVER_MODULES!r}"
        " or m.startswith(('woa_agents.server', 'woa_agents.agent', 'woa_agents.jsonrpc',"
        " 'woa_agents.tasks', 'woa_agents.signing'))]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_agent_runtime_still_imports_from_the_package() -> None:
    import woa_agents
    from woa_agents.agent import Agent

    assert woa_agents.Agent is Agent
    with pytest.raises(AttributeError):
        _ = woa_agents.NoSuchName  # type: ignore[attr-defined]


def test_every_client_error_derives_from_the_protocol_root() -> None:
    import woa_agents
    from woa_protocol import WoaError

    for name in (
        "AgentCallError",
        "AgentIdentityError",
        "AgentUnreachableError",
        "NoAgentAvailableError",
        "PeerError",
        "RegistryError",
        "RpcError",
        "SkillOutputError",
        "StateClientError",
        "TransportError",
        "UpdateConflictError",
    ):
        assert issubclass(getattr(woa_agents, name), WoaError), name
    assert woa_agents.WoaError is WoaError
    assert issubclass(woa_agents.AgentUnreachableError, woa_agents.TransportError)

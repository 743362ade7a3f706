from __future__ import annotations

import pytest
from typer.testing import CliRunner

from woa_cli.main import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip()[0].isdigit()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["keys"],
        ["keys", "new"],
        ["keys", "show"],
        ["card"],
        ["card", "sign"],
        ["card", "verify"],
        ["spec"],
        ["spec", "check"],
        ["spec", "generate"],
        ["bench"],
        ["bench", "protocol"],
        ["canon"],
        ["run"],
        ["up"],
        ["demo"],
    ],
)
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_spec_check_passes_on_the_committed_spec() -> None:
    result = runner.invoke(app, ["spec", "check"])
    assert result.exit_code == 0, result.output


def test_spec_schema_prints_and_rejects_unknown() -> None:
    assert (
        '"$id": "urn:woa:schema:v1:agent-card"'
        in runner.invoke(app, ["spec", "schema", "agent-card"]).output
    )
    assert runner.invoke(app, ["spec", "schema", "nope"]).exit_code == 1


def test_bench_protocol_prints_a_ratio() -> None:
    result = runner.invoke(app, ["bench", "protocol", "--iterations", "50", "--rounds", "1"])
    assert result.exit_code == 0, result.output
    assert "signed/raw ratio" in result.output
    assert "OpenSSL" in result.output  # the reference baseline is shown beside the real one

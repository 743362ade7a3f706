from __future__ import annotations

import pytest
from typer.testing import CliRunner

from woa_cli.main import app

runner = CliRunner()


@pytest.mark.req("JCS-001")
def test_canon_prints_rfc8785_bytes() -> None:
    result = runner.invoke(app, ["canon"], input='{ "b": 2, "a": [1, 2.50, "é"], "c": null }')
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == '{"a":[1,2.5,"é"],"b":2,"c":null}'.encode()


@pytest.mark.req("JCS-002")
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[NaN]", "NaN"),
        ('{"n": 9007199254740993}', "I-JSON"),
        ("{not json", "not JSON"),
    ],
)
def test_canon_rejects_what_jcs_cannot_represent(text: str, message: str) -> None:
    result = runner.invoke(app, ["canon"], input=text)
    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.req("JCS-006")
def test_canon_refuses_duplicate_member_names_with_their_path() -> None:
    result = runner.invoke(app, ["canon"], input='{"a":1,"b":{"c":1,"c":2}}')
    assert result.exit_code == 1
    assert "$.b" in result.output
    assert "'c'" in result.output
    assert result.stdout_bytes.count(b"{") == 0  # nothing canonical was printed

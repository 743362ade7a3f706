"""The CLI's console helpers: whole cells in a pipe, one error form, progress on terminals."""

from __future__ import annotations

import io

import pytest
import typer
from rich.console import Console

from woa_cli import _console
from woa_cli._console import PIPE_WIDTH, peer_error, print_table, progress, table


class ProblemError(Exception):
    def __init__(self, status: int, body: dict[str, str]) -> None:
        self.status, self.body = status, body


def test_peer_error_names_the_url_once() -> None:
    url = "http://127.0.0.1:1"
    plain = peer_error(ProblemError(404, {"type": "about:blank", "detail": "gone"}), url)
    assert plain == f"{url}: gone (HTTP 404)"
    typed = ProblemError(403, {"type": "urn:woa:problem:state-forbidden", "detail": f"{url} no"})
    assert peer_error(typed, url) == f"{url} no (HTTP 403, urn:woa:problem:state-forbidden)"


def test_tables_in_a_pipe_keep_every_character(capsys: pytest.CaptureFixture[str]) -> None:
    long = "did:key:z6Mk" + "x" * 200
    rows = table("did")
    rows.add_row(long)
    print_table(rows)
    assert long in capsys.readouterr().out
    assert len(long) < PIPE_WIDTH


def test_progress_spins_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=80)
    monkeypatch.setattr(_console, "err_console", terminal)
    with progress("listing agents at http://x"):
        terminal.file.flush()
    assert "listing agents at http://x" in out.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(_console, "err_console", Console(file=piped, force_terminal=False))
    with progress("quiet"):
        pass
    assert piped.getvalue() == ""


def test_fail_escapes_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        _console.fail("cannot listen on [::1]:8470")
    assert "[::1]:8470" in capsys.readouterr().err

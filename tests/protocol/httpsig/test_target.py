"""Rebuilding the signed ``@target-uri`` from an ASGI scope, and refusing two Host lines."""

from __future__ import annotations

from typing import Any

import pytest

from woa_protocol import AmbiguousHostError
from woa_protocol.httpsig import request_host, target_uri


def scope(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "path": "/v1/agents/a b",
        "raw_path": b"/v1/agents/a%20b",
        "query_string": b"x=1",
        "headers": [(b"host", b"reg.example:8470")],
    }
    return {**base, **overrides}


@pytest.mark.req("MSG-011")
def test_the_raw_path_and_query_are_kept_as_sent() -> None:
    assert target_uri(scope()) == "http://reg.example:8470/v1/agents/a%20b?x=1"
    slash = scope(path="/a/b", raw_path=b"/a%2Fb", query_string=b"")
    assert target_uri(slash) == "http://reg.example:8470/a%2Fb"


@pytest.mark.req("MSG-011")
def test_a_public_url_gives_scheme_and_authority() -> None:
    assert target_uri(scope(), "https://public.example/") == (
        "https://public.example/v1/agents/a%20b?x=1"
    )


def test_without_raw_path_or_host_the_scope_decides() -> None:
    bare = scope(raw_path=None, headers=[], server=("10.0.0.1", 8080), query_string=b"")
    assert target_uri(bare) == "http://10.0.0.1:8080/v1/agents/a b"
    assert target_uri(scope(headers=[], server=None)) == "http://localhost/v1/agents/a%20b?x=1"


def test_a_websocket_upgrade_has_the_http_scheme() -> None:
    assert target_uri(scope(type="websocket", scheme="wss")).startswith("https://reg.example")


def test_a_mount_prefix_taken_off_by_a_proxy_is_put_back() -> None:
    mounted = scope(root_path="/agents", raw_path=b"/x", path="/x", query_string=b"")
    assert target_uri(mounted) == "http://reg.example:8470/agents/x"
    already = scope(root_path="/agents", raw_path=b"/agents/x", path="/agents/x")
    assert target_uri(already) == "http://reg.example:8470/agents/x?x=1"


@pytest.mark.req("MSG-011")
def test_two_host_lines_have_no_single_authority() -> None:
    two = [(b"host", b"a.example"), (b"accept", b"*/*"), (b"host", b"b.example")]
    with pytest.raises(AmbiguousHostError, match="more than one Host") as caught:
        request_host(two)
    assert caught.value.problem.status == 400
    assert caught.value.problem.uri == "urn:woa:problem:ambiguous-host"
    with pytest.raises(AmbiguousHostError):
        target_uri(scope(headers=two))
    with pytest.raises(AmbiguousHostError):  # a public URL does not make it unambiguous
        target_uri(scope(headers=two), "https://public.example")
    assert request_host([(b"host", b" a.example\t")]) == "a.example"
    assert request_host([]) is None

"""Call trails (STATE-050/051): the document's shape and the tree its hops must form."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from woa_protocol.models import CallTrail, TrailError, trail_tree

AT = "2026-12-06T00:00:00Z"


def hop(id: str, parent: str | None, skill: str = "s") -> dict[str, Any]:
    return {
        "id": id,
        "parent": parent,
        "skill": skill,
        "agent": "did:a",
        "signer": "did:b",
        "at": AT,
    }


@pytest.mark.req("STATE-050")
def test_trail_shape_is_validated() -> None:
    trail = CallTrail.model_validate({"kind": "woa.trail/1", "task": "t", "hops": [hop("1", None)]})
    assert trail.hops[0].signer == "did:b"
    with pytest.raises(ValidationError):
        CallTrail.model_validate({"kind": "woa.trail/1", "task": "t", "hops": [{"id": "1"}]})
    with pytest.raises(ValidationError):
        CallTrail.model_validate({"kind": "other", "task": "t", "hops": []})


@pytest.mark.req("STATE-051")
def test_hops_become_a_tree_in_written_order() -> None:
    trail = CallTrail(
        task="t",
        hops=[hop("1", None, "plan"), hop("2", "1", "a"), hop("3", "1", "b"), hop("4", "3", "c")],
    )
    (root,) = trail_tree(trail)
    assert root.hop.skill == "plan"
    assert [c.hop.skill for c in root.children] == ["a", "b"]
    assert [c.hop.skill for c in root.children[1].children] == ["c"]


@pytest.mark.req("STATE-051")
@pytest.mark.parametrize(
    ("hops", "message"),
    [
        ([hop("1", None), hop("1", None)], "appears twice"),
        ([hop("1", None), hop("2", "9")], "unknown parent '9'"),
        ([hop("1", None), hop("2", "3"), hop("3", "2")], "cycle"),
    ],
)
def test_hops_that_are_not_a_tree_are_refused(hops: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(TrailError, match=message):
        trail_tree(CallTrail.model_validate({"task": "t", "hops": hops}))

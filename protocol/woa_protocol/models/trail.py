"""The call trail of a compound task, as a planner writes it into shared state (STATE-050).

A trail is one document, ``trails/{task}`` in a namespace, listing every hop (one signed
call from one agent to another) with the hop that caused it. :func:`trail_tree` checks that
the hops form a tree (STATE-051) and returns its roots, children in the order written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from .a2a import TaskState
from .base import A2AModel, UtcTimestamp

__all__ = ["TRAIL_KEY_PREFIX", "CallTrail", "TrailError", "TrailHop", "TrailNode", "trail_tree"]

TRAIL_KEY_PREFIX = "trails/"
"""Document keys of trails start with this prefix, followed by the task id."""


class TrailHop(A2AModel):
    """One call of the task: who asked whom for which skill, signed by whom, when."""

    id: str = Field(min_length=1, max_length=128, description="Unique within the trail.")
    parent: str | None = Field(
        default=None, description="Id of the hop whose handler made this call; null: a root."
    )
    skill: str = Field(min_length=1, max_length=256)
    agent: str = Field(min_length=1, description="DID of the called agent.")
    signer: str = Field(min_length=1, description="DID that signed the call's request.")
    at: UtcTimestamp = Field(description="When the call was sent (RFC 3339, UTC).")
    status: TaskState | None = Field(default=None, description="The call's last task state.")


class CallTrail(A2AModel):
    """The trail document's value."""

    kind: Literal["woa.trail/1"] = "woa.trail/1"
    task: str = Field(min_length=1, max_length=256, description="A2A taskId or contextId.")
    hops: list[TrailHop] = Field(max_length=10_000)


class TrailError(ValueError):
    """The hops do not form a tree (duplicate id, unknown parent or a cycle)."""


@dataclass
class TrailNode:
    """A hop with the hops it caused."""

    hop: TrailHop
    children: list[TrailNode] = field(default_factory=list)


def trail_tree(trail: CallTrail) -> list[TrailNode]:
    """Return the trail's roots; raise :class:`TrailError` unless its hops form a tree."""
    nodes: dict[str, TrailNode] = {}
    for hop in trail.hops:
        if hop.id in nodes:
            raise TrailError(f"hop id {hop.id!r} appears twice")
        nodes[hop.id] = TrailNode(hop)
    roots: list[TrailNode] = []
    for node in nodes.values():
        parent = node.hop.parent
        if parent is None:
            roots.append(node)
        elif parent not in nodes:
            raise TrailError(f"hop {node.hop.id!r} names unknown parent {parent!r}")
        else:
            nodes[parent].children.append(node)
    reached = 0
    stack = list(roots)
    while stack:
        reached += 1
        stack.extend(stack.pop().children)
    if reached != len(nodes):
        raise TrailError("some hops form a cycle and descend from no root")
    return roots

"""Build the SQL that selects one page of DIDs for a search, for either backend.

The plan is chosen here rather than left to the planner, so that its cost depends on the
page size and not on the number of agents: the most selective structured filter present
(skill id, then tag, then input/output mode, then family) *drives* the query by walking its
``(value, did)`` index from the cursor in DID order; the other filters are checked per
candidate skill; the walk stops after ``limit`` distinct DIDs. Full text alone is driven by
the full-text index (cost grows with the number of matches, not of agents) unless the text
is common and the backend has a plan for that (:attr:`Dialect.common_text_driver`); no
filter at all walks the DID primary key.

A backend may instead hand :func:`page_sql` a :class:`TextPlan` built for the one query
(SQLite does, from its DID-ordered term index): then the plan writes both the text-alone
query and the text condition on a structured walk, and the dialect's text SQL is unused.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ._shared import CheckedQuery

__all__ = ["Bind", "Dialect", "TextPlan", "binder", "page_sql"]

Bind = Callable[[Any], str]
"""Binds one parameter value and returns its placeholder."""


def binder(params: list[Any], placeholder: Callable[[int], str]) -> Bind:
    """Return a :data:`Bind` that appends to ``params`` and names the n-th placeholder."""

    def bind(value: Any) -> str:
        params.append(value)
        return placeholder(len(params))

    return bind


class TextPlan(Protocol):
    """The full-text part of one query's SQL, chosen by the backend for that query."""

    def driver(self, bind: Bind, after: str | None, limit: str) -> str:
        """``SELECT did`` of matching agents after ``after`` in DID order, ``LIMIT limit``."""
        ...  # pragma: no cover - protocol

    def condition(self, bind: Bind, key: str) -> str:
        """Condition "the agent whose DID is ``key`` matches the text"."""
        ...  # pragma: no cover - protocol


@dataclass(frozen=True)
class Dialect:
    """The few places where the two backends' SQL differs."""

    placeholder: Callable[[int], str]
    """Parameter marker for the n-th (1-based) parameter."""
    join: str
    """Join keyword that keeps the driving table outermost (SQLite: ``CROSS JOIN``)."""
    has_input_schema: str
    """Condition on ``s`` matching the partial index of skills with an input schema."""
    text_query: Callable[[list[str]], str]
    """Full-text query string for the backend's matcher, built from checked words."""
    text_filter: Callable[[str, str, bool], str]
    """Condition "agent ``did_expr`` matches full-text parameter ``param``".

    The flag says the text matches many agents, for backends that phrase the condition
    differently then (SQLite: walk the driving index rather than the list of matches).
    """
    text_driver: Callable[[str, str, str | None], str]
    """``SELECT did`` driven by the full-text index: (text param, limit param, after param)."""
    use_index: Callable[[str], str]
    """Suffix pinning the driving table to an index (SQLite ``INDEXED BY``), or nothing."""
    common_text_driver: Callable[[str, str, str | None], str] | None = None
    """Like :attr:`text_driver`, for text matching many agents; None: use ``text_driver``.

    Sorting every match by DID costs in proportion to the matches; when they are many, a
    backend may instead walk the agents in DID order and test each one (SQLite).
    """


def page_sql(
    checked: CheckedQuery,
    dialect: Dialect,
    limit: int,
    *,
    input_schema_only: bool = False,
    common_text: bool = False,
    text: TextPlan | None = None,
) -> tuple[str, list[Any]] | None:
    """Return ``(sql, params)`` selecting up to ``limit`` matching DIDs in order.

    None means the query cannot match anything (text without searchable words).
    ``common_text`` (the text matches many agents) is passed to :attr:`Dialect.text_filter`
    and, for text alone, selects :attr:`Dialect.common_text_driver` when there is one.
    ``text``, when given, replaces the dialect's full-text SQL for this query's words.
    """
    q = checked.query
    params: list[Any] = []

    p = binder(params, dialect.placeholder)

    words = checked.words
    if words is not None and not words:
        return None
    if not (checked.has_skill_filter or input_schema_only):
        if words:
            after = None if checked.after_did is None else p(checked.after_did)
            if text is not None:
                return text.driver(p, after, p(limit)), params
            query = p(dialect.text_query(words))
            driver = dialect.text_driver
            if common_text and dialect.common_text_driver is not None:
                driver = dialect.common_text_driver
            return driver(query, p(limit), after), params
        where = "" if checked.after_did is None else f"WHERE did > {p(checked.after_did)} "
        return f"SELECT did FROM agents {where}ORDER BY did LIMIT {p(limit)}", params

    join_skill = "s.did = d.did AND s.pos = d.pos"
    pin = dialect.use_index
    conds: list[str] = []
    driven_by: str
    if q.skill is not None:
        source, key, driven_by = f"skills s{pin('skills_by_skill_id')}", "s.did", "skill"
        conds.append(f"s.skill_id = {p(q.skill)}")
    elif q.tag is not None:
        source = f"skill_tags d{pin('skill_tags_by_tag')} {dialect.join} skills s ON {join_skill}"
        key, driven_by = "d.did", "tag"
        conds.append(f"d.tag = {p(q.tag)}")
    elif q.input_mode is not None or q.output_mode is not None:
        direction, mode = (
            ("in", q.input_mode) if q.input_mode is not None else ("out", q.output_mode)
        )
        source = (
            f"skill_modes d{pin('skill_modes_by_mode')} {dialect.join} skills s ON {join_skill}"
        )
        key, driven_by = "d.did", f"{direction}_mode"
        conds.append(f"d.direction = '{direction}' AND d.mode = {p(mode)}")
    elif q.family is not None:
        source, key, driven_by = f"skills s{pin('skills_by_family')}", "s.did", "family"
        conds.append(f"s.family = {p(q.family)}")
    else:
        source = f"skills s{pin('skills_with_input_schema')}"
        key, driven_by = "s.did", "input_schema"
        conds.append(dialect.has_input_schema)

    if q.family is not None and driven_by != "family":
        conds.append(f"s.family = {p(q.family)}")
    if q.tag is not None and driven_by != "tag":
        conds.append(
            "EXISTS (SELECT 1 FROM skill_tags t WHERE t.did = s.did AND t.pos = s.pos"
            f" AND t.tag = {p(q.tag)})"
        )
    for direction, mode in (("in", q.input_mode), ("out", q.output_mode)):
        if mode is not None and driven_by != f"{direction}_mode":
            conds.append(
                "EXISTS (SELECT 1 FROM skill_modes m WHERE m.did = s.did AND m.pos = s.pos"
                f" AND m.direction = '{direction}' AND m.mode = {p(mode)})"
            )
    if input_schema_only and driven_by != "input_schema":
        conds.append(dialect.has_input_schema)
    if checked.after_did is not None:
        conds.append(f"{key} > {p(checked.after_did)}")
    if words and text is not None:
        conds.append(text.condition(p, key))
    elif words:
        conds.append(dialect.text_filter(key, p(dialect.text_query(words)), common_text))
    sql = (
        f"SELECT DISTINCT {key} AS did FROM {source} WHERE {' AND '.join(conds)}"
        f" ORDER BY {key} LIMIT {p(limit)}"
    )
    return sql, params

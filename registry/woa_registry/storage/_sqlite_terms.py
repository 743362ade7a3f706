"""SQLite's DID-ordered term index: full-text search whose cost follows the page, not the matches.

FTS5 keeps each term's matches in row-id order, which is registration order, and a prefix
query merges every matching term's list in memory first; a page of 20 in DID order of a
word that 12,500 agents use therefore read all 12,500. Next to ``agents_fts`` the store
keeps (schema step 2):

* ``agent_text (did, terms)``: each agent's distinct FTS5 terms as a JSON array of strings;
  the store writes this one row per registration (deleting the agent cascades to it);
* ``agent_terms (term, did)``, a ``WITHOUT ROWID`` table whose primary key lists, for each
  term, its agents in DID order: the postings, kept by triggers on ``agent_text`` (an
  update touches only the terms that changed).

The terms are FTS5's own: :class:`TermTokenizer` runs the text through an FTS5 table of a
private in-memory database with the tokenizer of ``agents_fts`` (:data:`FTS5_TOKENIZE`)
and reads the terms back, so they are the ones the FTS5 index holds, stemmed by its
``porter`` tokenizer. A query word (already cut by :func:`._text.query_words`) goes through
the same tokenizer; when it gives one term ``s``, FTS5's ``"word"*`` matches exactly the
agents having a term that starts with ``s``, and so does the term index. A word that FTS5
splits into several tokens (a phrase) leaves the query to FTS5 (see :mod:`.sqlite`).

Plans, per query (:class:`TermPlan`). Each word's terms are found by a skip scan of the
postings (one index seek per distinct term, at most :data:`MERGE_TERMS` + 1); its postings
are counted, up to :data:`RARE_AGENTS` + 1, only when the plan must choose:

* text alone: a word whose prefix covers at most :data:`MERGE_TERMS` terms drives by
  merging those terms' postings in DID order from the cursor (SQLite's ``MERGE (UNION)``
  of index walks); the walk stops after one page, so its cost follows the page size. Of
  several words, the one with the fewest postings drives. A broader word with at most
  :data:`RARE_AGENTS` postings drives by sorting them (bounded). Other words are tested
  per candidate on its ``agent_text`` row (``instr`` of ``"<term prefix>`` in the JSON
  array: an element starts with that prefix). When no word can drive (every word broad
  and common), ``agent_text`` is walked in DID order with those tests.
* with skill filters (which drive the query): the candidate's ``agent_text`` row is tested;
  a word of at most :data:`RARE_AGENTS` postings is also offered as the list of its DIDs,
  so SQLite may drive the structured index by that list instead.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ._search_sql import Bind, binder

__all__ = [
    "FTS5_TOKENIZE",
    "MERGE_TERMS",
    "RARE_AGENTS",
    "TermPlan",
    "TermTokenizer",
    "WordTerms",
    "count_postings",
    "prefix_end",
    "terms_json",
    "word_terms",
]

FTS5_TOKENIZE = "porter unicode61 remove_diacritics 0"
"""The tokenizer of ``agents_fts`` (schema step 1); the term index must use the same."""

MERGE_TERMS = 16
"""A word whose prefix covers at most this many terms can drive a merge of their postings."""
RARE_AGENTS = 1000
"""A word of at most this many postings may drive by sorting them (cost bounded)."""
_CACHED_WORDS = 4096
"""Query words whose FTS5 terms :class:`TermTokenizer` remembers."""


def terms_json(terms: Iterable[str]) -> str:
    """Return the ``agent_text.terms`` value for ``terms``: a sorted JSON array of strings."""
    return json.dumps(sorted(set(terms)), ensure_ascii=False, separators=(",", ":"))


def term_pattern(prefix: str) -> str:
    """Return what ``instr`` finds in ``agent_text.terms`` when a term starts with ``prefix``.

    That is the JSON encoding of ``prefix`` without its closing quote. FTS5 terms hold no
    double quote (the tokenizer splits on punctuation), so an opening quote can only be the
    start of an array element.
    """
    return json.dumps(prefix, ensure_ascii=False)[:-1]


def prefix_end(prefix: str) -> str | None:
    """Return the least string above every string starting with ``prefix`` (None: none).

    Terms compare as UTF-8 bytes (``BINARY``), which is code point order, so ``term >=
    prefix AND term < prefix_end(prefix)`` selects exactly the terms starting with it.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code == 0xD800:  # surrogates are not characters: skip to the next one
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


class TermTokenizer:
    """FTS5's terms of a document or of query words, from a private in-memory FTS5 table.

    The text is inserted in a transaction that is rolled back once its terms are read, so
    the table stays empty. Safe to share between threads (one lock); the terms of recent
    query words are cached (:data:`_CACHED_WORDS`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE doc USING fts5 (name, description, skills, content = '',"
            f" tokenize = '{FTS5_TOKENIZE}')"
        )
        self._db.execute("CREATE VIRTUAL TABLE doc_terms USING fts5vocab (doc, 'instance')")
        self._word = lru_cache(maxsize=_CACHED_WORDS)(self._tokenize_word)

    def close(self) -> None:
        """Release the in-memory database."""
        with self._lock:
            self._db.close()

    def _terms(self, name: str, description: str, skills: str) -> list[str]:
        """Return the terms FTS5 makes of three column values, in offset order."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                db.execute(
                    "INSERT INTO doc (rowid, name, description, skills) VALUES (1, ?, ?, ?)",
                    (name, description, skills),
                )
                rows = db.execute("SELECT term FROM doc_terms ORDER BY offset").fetchall()
            finally:
                db.execute("ROLLBACK")
        return [term for (term,) in rows]

    def _tokenize_word(self, word: str) -> tuple[str, ...]:
        return tuple(self._terms(word, "", ""))

    def document_terms(self, name: str, description: str, skills: str) -> list[str]:
        """Return the distinct terms FTS5 indexes for an agent's three text columns, sorted."""
        return sorted(set(self._terms(name, description, skills)))

    def word_terms(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Return, for each query word, the terms FTS5 makes of it, in order."""
        return [self._word(word) for word in words]


@dataclass(frozen=True)
class WordTerms:
    """One query word's prefix and the indexed terms it covers."""

    prefix: str
    terms: tuple[str, ...]
    """The first covered terms, at most :data:`MERGE_TERMS` + 1."""
    postings: int | None = None
    """Postings of every covered term, counted up to :data:`RARE_AGENTS` + 1 (None: not yet)."""

    @property
    def matches_nothing(self) -> bool:
        """Whether no agent can match (no indexed term has this prefix)."""
        return not self.terms

    @property
    def can_merge(self) -> bool:
        """Whether the postings of its terms can be merged in DID order (few terms)."""
        return 0 < len(self.terms) <= MERGE_TERMS

    @property
    def is_rare(self) -> bool:
        """Whether few enough postings match to list or sort them all."""
        return self.postings is not None and self.postings <= RARE_AGENTS


def _binder(params: list[object]) -> Bind:
    return binder(params, lambda n: f"?{n}")


def _in_range(bind: Bind, column: str, prefix: str) -> str:
    """Condition "``column`` starts with ``prefix``", as a range the index can seek."""
    end = prefix_end(prefix)
    upper = "" if end is None else f" AND {column} < {bind(end)}"
    return f"{column} >= {bind(prefix)}{upper}"


def word_terms(db: sqlite3.Connection, prefix: str) -> WordTerms:
    """Find the first :data:`MERGE_TERMS` + 1 indexed terms starting with ``prefix``.

    A skip scan: each step seeks the next distinct term in the postings' primary key.
    """
    params: list[object] = []
    bind = _binder(params)
    first, following = _in_range(bind, "term", prefix), _in_range(bind, "a.term", prefix)
    rows = db.execute(
        "WITH RECURSIVE found (term) AS ("
        f" SELECT (SELECT term FROM agent_terms WHERE {first} ORDER BY term LIMIT 1)"
        " UNION ALL SELECT (SELECT a.term FROM agent_terms a"
        f" WHERE a.term > found.term AND {following} ORDER BY a.term LIMIT 1)"
        f" FROM found WHERE found.term IS NOT NULL LIMIT {MERGE_TERMS + 1})"
        " SELECT term FROM found WHERE term IS NOT NULL",
        params,
    ).fetchall()
    return WordTerms(prefix=prefix, terms=tuple(term for (term,) in rows))


def count_postings(db: sqlite3.Connection, word: WordTerms) -> WordTerms:
    """Return ``word`` with its postings counted, up to :data:`RARE_AGENTS` + 1."""
    params: list[object] = []
    cond = _in_range(_binder(params), "term", word.prefix)
    (count,) = db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM agent_terms WHERE {cond} LIMIT {RARE_AGENTS + 1})",
        params,
    ).fetchone()
    return replace(word, postings=count)


def _instr(bind: Bind, word: WordTerms) -> str:
    return f"instr(x.terms, {bind(term_pattern(word.prefix))}) > 0"


def _text_test(bind: Bind, key: str, words: Sequence[WordTerms]) -> str:
    tests = " AND ".join(_instr(bind, w) for w in words)
    return f"EXISTS (SELECT 1 FROM agent_text x WHERE x.did = {key} AND {tests})"


@dataclass(frozen=True)
class TermPlan:
    """The :class:`._search_sql.TextPlan` of one query over the term index."""

    words: tuple[WordTerms, ...]

    def _driving_word(self, *, rare_only: bool) -> WordTerms | None:
        candidates = [w for w in self.words if w.is_rare or (w.can_merge and not rare_only)]
        return min(
            candidates,
            key=lambda w: (RARE_AGENTS + 2 if w.postings is None else w.postings, len(w.terms)),
            default=None,
        )

    @staticmethod
    def needs_counts(words: Sequence[WordTerms], *, text_alone: bool) -> bool:
        """Whether the plan must count postings before choosing.

        It must to pick between words, to find the rare word that may drive a structured
        walk, and to know whether a broad word's postings are few enough to sort.
        """
        return not text_alone or len(words) > 1 or not words[0].can_merge

    def driver(self, bind: Bind, after: str | None, limit: str) -> str:
        """Text alone: merge (or sort) the postings of the rarest word, test the others."""
        lead = self._driving_word(rare_only=False)
        if lead is None:  # every word broad and common: walk the agents in DID order
            conds = [] if after is None else [f"x.did > {after}"]
            conds.extend(_instr(bind, w) for w in self.words)
            return (
                f"SELECT x.did FROM agent_text x WHERE {' AND '.join(conds)}"
                f" ORDER BY x.did LIMIT {limit}"
            )
        others = [w for w in self.words if w is not lead]
        extra = "" if after is None else f" AND t.did > {after}"
        if others:
            extra += f" AND {_text_test(bind, 't.did', others)}"
        if lead.can_merge:
            arms = [
                f"SELECT t.did AS did FROM agent_terms t WHERE t.term = {bind(term)}{extra}"
                for term in lead.terms
            ]
            return f"{' UNION '.join(arms)} ORDER BY did LIMIT {limit}"
        return (
            "SELECT DISTINCT t.did AS did FROM agent_terms t"
            f" WHERE {_in_range(bind, 't.term', lead.prefix)}{extra}"
            f" ORDER BY t.did LIMIT {limit}"
        )

    def condition(self, bind: Bind, key: str) -> str:
        """On a structured walk: test the candidate; offer a rare word's DIDs as a list."""
        lead = self._driving_word(rare_only=True)
        conds = []
        if lead is not None:
            conds.append(
                f"{key} IN (SELECT t.did FROM agent_terms t"
                f" WHERE {_in_range(bind, 't.term', lead.prefix)})"
            )
        others = [w for w in self.words if w is not lead]
        if others:
            conds.append(_text_test(bind, key, others))
        return " AND ".join(conds)

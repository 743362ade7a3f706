"""Turn free search text into the same list of words for every backend.

Both backends stem English words (SQLite FTS5 ``porter``, PostgreSQL ``english``) and match
each word as a prefix. So that a query means the same on both, the words are extracted
here: runs of letters and digits (what FTS5's ``unicode61`` tokenizer and PostgreSQL's
parser both split on), lower-cased, without PostgreSQL's English stop words (which its
``english`` configuration drops and FTS5 would otherwise keep).
"""

from __future__ import annotations

import re

from .base import StoreInputError

__all__ = ["MAX_TEXT_LENGTH", "MAX_TEXT_WORDS", "query_words"]

MAX_TEXT_LENGTH = 512
MAX_TEXT_WORDS = 16

_WORD = re.compile(r"[^\W_]+")

# PostgreSQL's tsearch_data/english.stop (the Snowball English stop list), verbatim.
_STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now
    """.split()  # noqa: SIM905 - the list as PostgreSQL ships it
)


def query_words(text: str) -> list[str]:
    """Return the searchable words of ``text`` (possibly none), in order, without repeats."""
    if len(text) > MAX_TEXT_LENGTH:
        raise StoreInputError(f"search text is longer than {MAX_TEXT_LENGTH} characters")
    words: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if word not in _STOP_WORDS and word not in words:
            words.append(word)
    if len(words) > MAX_TEXT_WORDS:
        raise StoreInputError(f"search text has more than {MAX_TEXT_WORDS} words")
    return words

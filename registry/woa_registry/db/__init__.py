"""Database plumbing shared by the registry's agent store and its state store.

Both stores keep their own SQL and semantics; what is the same lives here: versioned
migration runners (:mod:`.migrations`), SQLite connection set-up in WAL mode
(:mod:`.sqlite`), the PostgreSQL pool, schema and LISTEN connection (:mod:`.postgres`),
and the parsing of ``sqlite://`` and ``postgresql://`` database URLs (:mod:`.urls`).
``.postgres`` needs the ``postgres`` extra, so it is not imported here.
"""

from __future__ import annotations

from .migrations import Migration, SchemaTooNewError, check_sequence, pending

__all__ = ["Migration", "SchemaTooNewError", "check_sequence", "pending"]

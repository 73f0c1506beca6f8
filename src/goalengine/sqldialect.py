"""The one helper that knows the SQL dialect: a schema prefix and the placeholder style.

Statements are written once, for SQLite, with ``{p}`` before every table name and ``?`` for each
parameter; :meth:`Dialect.sql` turns them into what the database at hand expects (PostgreSQL: the
quoted schema and ``%s``). The store, the read models and the integrity chain all use it.
"""

from __future__ import annotations

import re

from attrs import field, frozen

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@frozen
class Dialect:
    """``prefix`` is ``""`` (SQLite) or ``'"schema".'`` (PostgreSQL)."""

    prefix: str = ""
    postgres: bool = False
    _cache: dict[str, str] = field(factory=dict, eq=False, repr=False)

    @classmethod
    def for_schema(cls, schema: str) -> Dialect:
        """PostgreSQL in ``schema`` (an identifier: letters, digits and ``_``)."""
        if not _IDENTIFIER.match(schema):
            raise ValueError(f"{schema!r} is not a schema name (letters, digits and _)")
        return cls(f'"{schema}".', postgres=True)

    def sql(self, statement: str) -> str:
        found = self._cache.get(statement)
        if found is None:
            found = statement.replace("{p}", self.prefix)
            if self.postgres:
                found = found.replace("?", "%s")
            self._cache[statement] = found
        return found

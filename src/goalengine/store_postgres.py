"""The PostgreSQL recorder: imported only for ``postgresql://`` stores.

Kept apart from :mod:`goalengine.store` because eventsourcing's PostgreSQL module imports psycopg,
which only the ``postgres`` extra installs: SQLite and memory stores must work without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from goalengine.sqldialect import Dialect
from goalengine.store import apply_readmodel, chain_metas, chain_writer, event_rows


class PostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, also writing read-model rows in the same transaction."""

    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        apply_readmodel(curs, self.dialect, kwargs)

    @property
    def dialect(self) -> Dialect:
        found: Dialect | None = self.__dict__.get("_goalengine_dialect")
        if found is None:
            found = self.__dict__["_goalengine_dialect"] = Dialect.for_schema(self.datastore.schema)
        return found

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Runs after the table lock and the event insert, in the same transaction: the chain
        # rows are computed from a head no other writer can move until this one commits.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        try:
            chain = chain_writer(self, self.dialect)
            metas = chain_metas(stored_events, kwargs)
            chain.insert(curs, chain.rows(curs, event_rows(stored_events), metas, ids or []))
        except BaseException:
            # eventsourcing commits after catching errors raised here: make sure the
            # transaction is aborted, so that no event is ever stored without its links.
            curs.execute("SELECT 1/0")
            raise
        return ids

"""The PostgreSQL recorder: imported only for ``postgresql://`` stores.

Kept apart from :mod:`goalengine.store` because eventsourcing's PostgreSQL module imports psycopg,
which only the ``postgres`` extra installs: SQLite and memory stores must work without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from goalengine.store import _chain_writer, _events, _metas, _row_params, _upsert


class PostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, also writing read-model rows in the same transaction."""

    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        prefix = f'"{self.datastore.schema}".'
        for row in kwargs.get("readmodel", ()):
            curs.execute(_upsert(prefix, row.table).replace("?", "%s"), _row_params(row))

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Runs after the table lock and the event insert, in the same transaction: the chain
        # rows are computed from a head no other writer can move until this one commits.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        try:
            chain = _chain_writer(self, f'"{self.datastore.schema}".', postgres=True)
            metas = _metas(stored_events, kwargs)
            chain.insert(curs, chain.rows(curs, _events(stored_events), metas, ids or []))
        except BaseException:
            # eventsourcing commits after catching errors raised here: make sure the
            # transaction is aborted, so that no event is ever stored without its links.
            curs.execute("SELECT 1/0")
            raise
        return ids

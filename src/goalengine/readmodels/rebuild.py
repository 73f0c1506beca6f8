"""Rebuilding the read models from the event log alone.

The log is streamed in pages; each goal and client event is fed to the same projection the live
writes use (:mod:`goalengine.readmodels.projection`), and each goal and client row is written from
the aggregate as loaded (snapshots keep that flat). Store-level records (audit accesses, and
whatever later issues add at store level) have no read-model rows and are passed over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from goalengine.aggregates import Client, Goal
from goalengine.errors import Conflict
from goalengine.readmodels.projection import Write, series_writes, summary_write
from goalengine.readmodels.tables import CLIENTS, GOALS, RATINGS, REVIEWS, SESSIONS, TABLES
from goalengine.results import RebuildCounts

if TYPE_CHECKING:
    from goalengine.store import Store

PAGE = 1000
#: ``progress(done, total)``: events read so far, events in the log.
Progress = Callable[[int, int], None]


def project_log(store: Store, progress: Progress | None = None) -> tuple[list[Write], int]:
    """Every read-model write the log implies, and the log position it was read up to."""
    app = store.app
    recorder: Any = app.recorder
    total = store.max_notification_id()
    owners: dict[UUID, str] = {}
    aggregates: dict[UUID, type[Any]] = {}
    series: list[Write] = []
    start, done = 1, 0
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE, stop=total or None)
        if not page:
            break
        for n in page:
            if ":Goal." not in n.topic and ":Client." not in n.topic:
                continue  # a store-level record: no read-model rows
            event: Any = app.mapper.to_domain_event(n)
            oid = UUID(str(event.originator_id))
            if isinstance(event, Goal.Created):
                owners[oid] = str(event.client_id)
                aggregates[oid] = Goal
            elif isinstance(event, Client.Registered):
                aggregates[oid] = Client
            series.extend(series_writes(event, owners.get(oid)))
        done += len(page)
        start = page[-1].id + 1
        if progress is not None:
            progress(done, total)
    rows = []
    for oid in aggregates:
        write = summary_write(app.repository.get(oid))
        if write is not None:
            rows.append(write)
    return rows + series, total


def rebuild(store: Store, progress: Progress | None = None, attempts: int = 5) -> RebuildCounts:
    """Empty every read-model table and refill it from the log, in one transaction; returns the
    row counts and the number of events read. Retried when writers append meanwhile."""
    for _attempt in range(attempts):
        writes, position = project_log(store, progress)
        if store.max_notification_id() != position:
            continue
        with store.transaction(commit=True) as cur:
            for table in TABLES:
                cur.execute(store.dialect.sql(f"DELETE FROM {{p}}{table}"))
            for w in writes:
                cur.execute(store.dialect.sql(w.statement), w.params)
        counts = store.query(
            " UNION ALL ".join(f"SELECT '{t}' AS t, COUNT(*) AS n FROM {{p}}{t}" for t in TABLES)
        )
        n = {str(r["t"]): int(r["n"]) for r in counts}
        return {
            "goals": n[GOALS],
            "clients": n[CLIENTS],
            "ratings": n[RATINGS],
            "reviews": n[REVIEWS],
            "sessions": n[SESSIONS],
            "events": position,
        }
    raise Conflict("the store kept changing while rebuilding; run the rebuild again")

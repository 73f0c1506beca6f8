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


#: Each read-model table's columns in the order its :class:`Write` gives them, and its key.
COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    GOALS: (("id", "client_id", "status", "created_at", "doc"), 1),
    CLIENTS: (("id", "client_id", "status", "created_at", "doc"), 1),
    RATINGS: (
        (
            "goal_id",
            "version",
            "client_id",
            "rater",
            "value",
            "note",
            "session",
            "occurred_on",
            "day",
            "recorded_at",
            "actor",
        ),
        2,
    ),
    REVIEWS: (
        (
            "goal_id",
            "version",
            "client_id",
            "outcome",
            "value_alignment",
            "note",
            "occurred_on",
            "day",
            "recorded_at",
            "actor",
        ),
        2,
    ),
    SESSIONS: (("client_id", "version", "number", "day", "recorded_at", "actor"), 2),
}


def _table_of(statement: str) -> str:
    head = statement.split("(", 1)[0]
    for table in TABLES:
        if head.rstrip().endswith(table):
            return table
    raise ValueError(f"not a read-model write: {head}")  # pragma: no cover - a projection bug


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, str)) or value is None:
        return value
    return str(value)


def _rows(table: str, row: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    _, key = COLUMNS[table]
    values = tuple(_norm(v) for v in row)
    if table in (RATINGS, REVIEWS, SESSIONS):
        values = (values[0], int(values[1]), *values[2:])
    return values[:key], values


def compare(store: Store, attempts: int = 3) -> dict[str, Any]:
    """Compare the read-model rows with what a rebuild would write, writing nothing.

    Returns ``rows`` (the rows a rebuild gives), ``differ`` (rows missing, extra or changed),
    ``tables`` (differences per table), ``examples`` (the first few keys) and ``events`` (the log
    position compared at). Retried when writers append meanwhile."""
    for _attempt in range(attempts):
        writes, position = project_log(store)
        expected: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {t: {} for t in TABLES}
        for w in writes:
            table = _table_of(w.statement)
            key, values = _rows(table, w.params)
            expected[table][key] = values
        live: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
        with store.transaction(commit=False) as cur:
            for table in TABLES:
                columns, _ = COLUMNS[table]
                cur.execute(store.dialect.sql(f"SELECT {', '.join(columns)} FROM {{p}}{table}"))
                found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
                for r in cur.fetchall():
                    key, values = _rows(table, tuple(r[c] for c in columns))
                    found[key] = values
                live[table] = found
        if store.max_notification_id() != position:
            continue
        differ: dict[str, int] = {}
        examples: list[dict[str, Any]] = []
        for table in TABLES:
            want, have = expected[table], live[table]
            bad = [k for k in want.keys() | have.keys() if want.get(k) != have.get(k)]
            bad = [k for k in bad if not _same_doc(want.get(k), have.get(k))]
            if bad:
                differ[table] = len(bad)
                for k in sorted(bad, key=str)[: max(0, 10 - len(examples))]:
                    what = "missing" if k not in have else "extra" if k not in want else "changed"
                    examples.append({"table": table, "key": list(k), "problem": what})
        return {
            "rows": sum(len(v) for v in expected.values()),
            "differ": sum(differ.values()),
            "tables": differ,
            "examples": examples,
            "events": position,
        }
    raise Conflict("the store kept changing while comparing its read models; run verify again")


def _same_doc(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    """Rows equal but for the formatting of their JSON ``doc`` (the last column)."""
    import json

    if a is None or b is None or len(a) != 5 or a[:-1] != b[:-1]:
        return False
    try:
        return bool(json.loads(a[-1]) == json.loads(b[-1]))
    except (TypeError, ValueError):
        return False

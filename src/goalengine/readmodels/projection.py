"""The projection: what each event and each changed aggregate writes to the read models.

Pure functions from domain objects to :class:`Write` statements. The same functions serve the live
write (the recorder runs the writes in the events' own transaction) and ``admin rebuild`` (which
feeds them the stored events again), so the two can never disagree.

- :func:`series_writes` — one row per rating, review and session, from the *event* alone;
- :func:`summary_write` — one row per goal and client, from the aggregate's (small) state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from attrs import frozen

from goalengine.aggregates import Client, Goal
from goalengine.readmodels.tables import CLIENTS, GOALS, RATINGS, REVIEWS, SESSIONS
from goalengine.when import utc_text


@frozen
class Write:
    """One statement for :class:`goalengine.sqldialect.Dialect` and its parameters."""

    statement: str
    params: tuple[Any, ...]


def _upsert(table: str) -> str:
    return (
        f"INSERT INTO {{p}}{table} (id, client_id, status, created_at, doc) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, "
        "status = excluded.status, created_at = excluded.created_at, doc = excluded.doc"
    )


_UPSERT_GOAL = _upsert(GOALS)
_UPSERT_CLIENT = _upsert(CLIENTS)
_INSERT_RATING = (
    f"INSERT INTO {{p}}{RATINGS} (goal_id, version, client_id, rater, value, note, session, "
    "occurred_on, day, recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_REVIEW = (
    f"INSERT INTO {{p}}{REVIEWS} (goal_id, version, client_id, outcome, value_alignment, note, "
    "occurred_on, day, recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_SESSION = (
    f"INSERT INTO {{p}}{SESSIONS} (client_id, version, number, day, recorded_at, actor) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def encode_doc(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def summary_write(aggregate: object) -> Write | None:
    """The goal's or client's row (its whole state as ``doc``); None for other aggregates."""
    state: Mapping[str, Any]
    if isinstance(aggregate, Goal):
        state = aggregate.state()
        table = _UPSERT_GOAL
        client_id, status = state["client_id"], state["status"]
    elif isinstance(aggregate, Client):
        state = aggregate.state()
        table = _UPSERT_CLIENT
        client_id, status = state["id"], "active"
    else:
        return None
    return Write(
        table, (state["id"], client_id, status, state["created_at"], encode_doc(dict(state)))
    )


def _day(occurred_on: date | None, timestamp: datetime) -> str:
    return (occurred_on or timestamp.astimezone(UTC).date()).isoformat()


def _dated(event: Any) -> tuple[Any, ...]:
    """The last columns of a rating's or review's row: the day given, the day it counts on, when
    it was recorded and by whom."""
    on = event.occurred_on
    recorded = (utc_text(event.timestamp), str(event.actor))
    return (on.isoformat() if on else None, _day(on, event.timestamp), *recorded)


def series_writes(event: Any, client_id: str | None) -> list[Write]:
    """The series rows of one domain event. ``client_id`` is the goal's client (a goal's events
    other than ``Created`` do not carry it)."""
    key = (str(event.originator_id), event.originator_version)
    if isinstance(event, Goal.Scaled):
        rating = (client_id, event.rater.value, event.value, event.note, event.session)
        return [Write(_INSERT_RATING, (*key, *rating, *_dated(event)))]
    if isinstance(event, Goal.Reviewed):
        review = (client_id, event.outcome.value, event.value_alignment, event.note)
        return [Write(_INSERT_REVIEW, (*key, *review, *_dated(event)))]
    if isinstance(event, Client.SessionRecorded):
        session = (event.number, event.on.isoformat(), utc_text(event.timestamp), str(event.actor))
        return [Write(_INSERT_SESSION, (*key, *session))]
    return []


def writes_for(aggregates: Sequence[object], events: Sequence[Any]) -> list[Write]:
    """Everything one save writes to the read models: each aggregate's row, then each event's
    series rows."""
    owners = {a.id: str(a.client_id) for a in aggregates if isinstance(a, Goal)}
    out = [w for w in map(summary_write, aggregates) if w is not None]
    for event in events:
        out.extend(series_writes(event, owners.get(event.originator_id)))
    return out

"""The results about events: a goal's or client's history, the audit feed, the event feed."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from goalengine.results.common import (
    AggregateTypeName,
    ChangeResult,
    FindingResult,
    OutcomeName,
    RaterName,
)


class _EventHead(TypedDict):
    version: int
    event: str
    recorded_at: str
    actor: str


class _EventCommon(_EventHead):
    findings: list[FindingResult]


class _EventFields(TypedDict, total=False):
    """The event classes' own fields (each event has some of them; see docs/events.md)."""

    # Goal.Created / Client.Registered
    spec: dict[str, Any]
    parent_id: str | None
    name: str
    modality: str | None
    values: list[str]
    review_every: int
    # Chained / StepsReordered
    step_id: str
    position: int
    steps: list[str]
    # Scaled / Reviewed / the status changes
    value: int
    rater: RaterName
    note: str | None
    session: int | None
    occurred_on: str | None
    outcome: OutcomeName
    value_alignment: int | None
    # Revised
    changes: list[ChangeResult]
    reason: str
    # SessionRecorded / GoalsPrioritized
    number: int
    on: str
    order: list[str]
    reasons: list[str]
    # AuditAccess.Recorded
    action: str
    subject: str
    detail: dict[str, Any]


class _StorePlace(TypedDict):
    """Where an event stands in the store: its position and what it belongs to (``client_id``:
    the client it belongs to, None for store-level records)."""

    seq: int
    aggregate_type: AggregateTypeName
    aggregate_id: str
    client_id: str | None


class HistoryEntry(_EventCommon, _EventFields):
    """One event of a goal or client (``goal history --json``): the common keys, then the
    event's own fields."""

    client_id: NotRequired[str]


class FeedEntry(_StorePlace, _EventCommon, _EventFields):
    """One event in the store-wide audit feed (``audit log --json``): its store position, what
    it belongs to, then the history entry's keys."""


class StoreEvent(_StorePlace, _EventHead):
    """One event of :meth:`GoalEngine.events` (``audit log --after N --json``): store position,
    what it belongs to, and the event's own fields (and findings) under ``data``."""

    data: dict[str, Any]

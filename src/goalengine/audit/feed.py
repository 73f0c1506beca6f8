"""The store-wide feeds: the audit log (filtered, by recording time), the event feed (by store
position, for embedders that follow the store) and the event log in notification order
(:class:`PagedNotifications`, which ``audit verify`` merges with the chain).

Every function takes the engine's :class:`~goalengine.store.Store`; reads stream the log in
pages (never the whole store in memory).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Notification

from goalengine.audit.chain import CHAIN_TABLE, COLUMNS, recorded_at
from goalengine.audit.entries import event_fields, history_entry
from goalengine.results import AggregateTypeName, FeedEntry, StoreEvent
from goalengine.serialization import unstructure
from goalengine.store import Store
from goalengine.when import utc_text

PAGE = 1000


def chain_rows(
    store: Store, where: str = "", params: Sequence[Any] = (), after: int = 0
) -> list[dict[str, Any]]:
    clause = f" AND {where}" if where else ""
    return store.query(
        f"SELECT {COLUMNS} FROM {{p}}{CHAIN_TABLE} WHERE seq > ?{clause} ORDER BY seq "
        f"LIMIT {int(PAGE)}",
        (after, *params),
    )


def aggregate_type(topic: str) -> str:
    if ":Goal." in topic:
        return "goal"
    if ":Client." in topic:
        return "client"
    if ":AuditAccess." in topic:
        return "access"
    return topic.rsplit(":", 1)[-1].split(".", 1)[0].lower()


def feed(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    client: UUID | None = None,
    access: bool = False,
) -> Iterator[FeedEntry]:
    """The store-wide event feed in recording order, filtered; pages of :data:`PAGE` rows.

    The chain table answers the time and client filters before any event is read; events are
    then fetched by notification id and decoded one page at a time.
    """
    where, params = [], []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(recorded_at(since))
    if until is not None:
        where.append("recorded_at <= ?")
        params.append(recorded_at(until))
    if client is not None:
        where.append("owner = ?")
        params.append(str(client))
    where.append("topic LIKE ?" if access else "topic NOT LIKE ?")
    params.append("%:AuditAccess.%")
    wanted_actor = actor.strip().lower() if actor else None
    mapper = store.app.mapper
    recorder = store.app.recorder
    after = 0
    while True:
        rows = chain_rows(store, " AND ".join(where), params, after)
        if not rows:
            return
        after = int(rows[-1]["seq"])
        by_nid = {int(r["notification_id"]): r for r in rows}
        lo, hi = min(by_nid), max(by_nid)
        for n in notifications(recorder, lo, hi):
            row = by_nid.get(n.id)
            if row is None:
                continue
            event: Any = mapper.to_domain_event(n)
            if wanted_actor and not _actor_matches(str(event.actor), wanted_actor):
                continue
            entry = history_entry(event)
            feed_entry = {
                "seq": int(row["seq"]),
                "aggregate_type": aggregate_type(n.topic),
                "aggregate_id": str(n.originator_id),
                "client_id": row["owner"] or None,
                **entry,
            }
            yield cast(FeedEntry, feed_entry)


def event_feed(store: Store, *, after: int = 0, limit: int = PAGE) -> list[StoreEvent]:
    """The next ``limit`` events after position ``after``, in store order.

    Positions are the chain's gap-free ``seq``, assigned inside each write transaction while it
    holds the store's write lock, so they are committed in order: a consumer that stores the last
    position it handled and asks for what follows never misses or reorders an event, however many
    writers run. Store-level records (audit accesses) are included with their own
    ``aggregate_type``. Each entry has ``audit log``'s keys with the event's own fields (and its
    findings) under ``data``.
    """
    rows = store.query(
        f"SELECT {COLUMNS} FROM {{p}}{CHAIN_TABLE} WHERE seq > ? ORDER BY seq LIMIT {int(limit)}",
        (after,),
    )
    if not rows:
        return []
    by_nid = {int(r["notification_id"]): r for r in rows}
    mapper = store.app.mapper
    out: list[StoreEvent] = []
    for n in notifications(store.app.recorder, min(by_nid), max(by_nid)):
        row = by_nid.get(n.id)
        if row is None:
            continue
        event: Any = mapper.to_domain_event(n)
        out.append(
            {
                "seq": int(row["seq"]),
                "aggregate_type": cast(AggregateTypeName, aggregate_type(n.topic)),
                "aggregate_id": str(n.originator_id),
                "client_id": row["owner"] or None,
                "version": int(n.originator_version),
                "event": type(event).__name__,
                "recorded_at": utc_text(event.timestamp),
                "actor": str(event.actor),
                "data": {
                    **event_fields(event),
                    "findings": [unstructure(f) for f in event.findings],
                },
            }
        )
    out.sort(key=lambda e: int(e["seq"]))
    return out


def _actor_matches(actor: str, wanted: str) -> bool:
    actor = actor.lower()
    return actor == wanted or (":" not in wanted and (actor.split(":", 1)[-1] == wanted))


def notifications(recorder: Any, lo: int, hi: int) -> Iterator[Notification]:
    start = lo
    while start <= hi:
        page = recorder.select_notifications(start=start, limit=PAGE, stop=hi)
        if not page:
            return
        yield from page
        start = page[-1].id + 1


class PagedNotifications:
    """The event log in notification order, read a page at a time, consumed by id."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.page: list[Notification] = []
        self.i = 0
        self.next_start = 1
        self.done = False

    def peek(self) -> Notification | None:
        """The next notification, not consumed (``self.i += 1`` consumes it)."""
        if self.i < len(self.page):
            return self.page[self.i]
        return self._peek()

    def _peek(self) -> Notification | None:
        if self.i >= len(self.page):
            if self.done:
                return None
            self.page = list(self.recorder.select_notifications(start=self.next_start, limit=PAGE))
            self.i = 0
            if not self.page:
                self.done = True
                return None
            self.next_start = self.page[-1].id + 1
        return self.page[self.i]

    def until(self, nid: int | None) -> Iterator[Notification]:
        """Consume and yield every notification with id ≤ ``nid`` (all when None)."""
        while True:
            n = self._peek()
            if n is None or (nid is not None and n.id > nid):
                return
            self.i += 1
            yield n

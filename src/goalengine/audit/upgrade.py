"""Upgrading a format-1 store (no integrity chain) to format 2: the chain is backfilled on open.

(Format 2 → 3 rebuilds the read models; :mod:`goalengine.engine.core` runs it on open.)

The backfill runs in one transaction holding the write lock, links every stored event in
notification order exactly as the recorders would have, and then records the new format. The
chain then vouches for the events *as they were found at the upgrade*, not for their earlier past:
``audit verify`` reports the upgrade time (``goalengine_meta`` key ``chain_backfilled_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from goalengine.audit.chain import STORE_OWNER, ChainWriter, EventMeta, recorded_at

if TYPE_CHECKING:
    from goalengine.store import Store

PAGE = 1000


def events_table(store: Store) -> str:
    """The stored-events table, qualified for the store's database."""
    name = store.app.recorder.events_table_name  # type: ignore[attr-defined]
    if store.config.kind == "postgres":
        return f'"{store.config.schema}"."{name}"'
    return str(name)


def notification_column(store: Store) -> str:
    return "notification_id" if store.config.kind == "postgres" else "rowid"


def backfill_chain(store: Store) -> None:
    """Link every stored event of a format-1 store, in one transaction; the store is then at
    format 2 (the next upgrade step takes it on)."""
    from_version = 1
    postgres = store.config.kind == "postgres"
    table, nid = events_table(store), notification_column(store)
    writer = ChainWriter(store.dialect)
    mapper = store.app.mapper
    owners: dict[str, str] = {}
    with store.transaction(commit=True) as cur:
        if postgres:
            cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        else:
            # Take the write lock first: nobody may append while the chain is built.
            cur.execute(writer.sql("UPDATE {p}goalengine_meta SET value = value WHERE key = 'x'"))
        cur.execute(writer.sql("SELECT COUNT(*) AS n FROM {p}goalengine_chain"))
        if int(cur.fetchone()["n"]) == 0:
            after = 0
            while True:
                cur.execute(
                    writer.sql(
                        f"SELECT {nid} AS nid, originator_id, originator_version, topic, state "
                        f"FROM {table} WHERE {nid} > ? ORDER BY {nid} LIMIT {PAGE}"
                    ),
                    (after,),
                )
                page = [dict(r) for r in cur.fetchall()]
                if not page:
                    break
                events, metas, ids = [], [], []
                for r in page:
                    stored = _stored(r)
                    event: Any = mapper.to_domain_event(stored)
                    oid = str(stored.originator_id)
                    owner = _owner(event, oid, owners)
                    events.append((oid, stored.originator_version, stored.topic, stored.state))
                    metas.append(EventMeta(owner, recorded_at(event.timestamp)))
                    ids.append(int(r["nid"]))
                writer.insert(cur, writer.rows(cur, events, metas, ids))
                after = int(page[-1]["nid"])
        for key, value in (
            ("format", "2"),
            ("chain_backfilled_at", datetime.now(UTC).isoformat()),
            ("chain_backfilled_from_format", str(from_version)),
        ):
            cur.execute(writer.sql("DELETE FROM {p}goalengine_meta WHERE key = ?"), (key,))
            cur.execute(
                writer.sql("INSERT INTO {p}goalengine_meta (key, value) VALUES (?, ?)"),
                (key, value),
            )


def _stored(row: dict[str, Any]) -> Any:
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    oid = row["originator_id"]
    return StoredEvent(
        originator_id=oid if isinstance(oid, UUID) else UUID(str(oid)),
        originator_version=int(row["originator_version"]),
        topic=str(row["topic"]),
        state=bytes(row["state"]),
    )


def _owner(event: Any, oid: str, owners: dict[str, str]) -> str:
    from goalengine.aggregates import Client, Goal

    if isinstance(event, Client.Event):
        return oid
    if isinstance(event, Goal.Created):
        owners[oid] = str(event.client_id)
    if isinstance(event, Goal.Event):
        return owners.get(oid, STORE_OWNER)
    return STORE_OWNER

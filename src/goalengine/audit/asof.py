"""Any past state: which version of an aggregate was current at a moment.

The chain table records every event's recording time, so "as of" is an indexed lookup; the state
itself is then replayed from the nearest snapshot by the repository.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from goalengine.audit.chain import CHAIN_TABLE, recorded_at
from goalengine.errors import NotFound
from goalengine.readmodels import tree_order
from goalengine.results import GoalEntry
from goalengine.values import Status
from goalengine.when import parse_when

if TYPE_CHECKING:
    from goalengine.store import Store


def version_at(store: Store, aggregate_id: UUID, when: datetime) -> int | None:
    """The aggregate's last version recorded at or before ``when`` (None: it did not exist)."""
    rows = store.query(
        f"SELECT MAX(originator_version) AS v FROM {{p}}{CHAIN_TABLE} "
        "WHERE originator_id = ? AND recorded_at <= ?",
        (str(aggregate_id), recorded_at(when)),
    )
    v = rows[0]["v"] if rows else None
    return None if v is None else int(v)


def first_recorded(store: Store, aggregate_id: UUID) -> str | None:
    rows = store.query(
        f"SELECT recorded_at FROM {{p}}{CHAIN_TABLE} WHERE originator_id = ? "
        "AND originator_version = 1",
        (str(aggregate_id),),
    )
    return str(rows[0]["recorded_at"]) if rows else None


def moment_and_version(
    store: Store, aggregate_id: UUID, what: str, when: datetime | date | str
) -> tuple[datetime, int]:
    """The moment ``when`` means (a bare date: the end of that local day) and the version of
    ``aggregate_id`` current then; NotFound before it existed."""
    moment = parse_when(when, end_of_day=True, what="--as-of")
    version = version_at(store, aggregate_id, moment)
    if version is None:
        created = first_recorded(store, aggregate_id)
        since = f"; it was recorded first at {created}" if created else ""
        raise NotFound(
            f"{what} {str(aggregate_id)[:8]} did not exist yet at {moment.isoformat()}{since}",
            id=str(aggregate_id),
            as_of=moment.isoformat(),
        )
    return moment, version


def resolve_version(
    store: Store, aggregate_id: UUID, what: str, when: datetime | date | str
) -> int:
    """The version of ``aggregate_id`` current at ``when``; NotFound before it existed."""
    return moment_and_version(store, aggregate_id, what, when)[1]


def goals_then(states: Sequence[Mapping[str, Any]]) -> list[GoalEntry]:
    """A client's goals as they stood at a moment, in tree order (voided ones left out)."""
    docs = [s for s in states if s["status"] != Status.VOIDED.value]
    return tree_order(sorted(docs, key=lambda d: (d["created_at"], d["id"])))

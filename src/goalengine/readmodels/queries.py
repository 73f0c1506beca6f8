"""Queries on the read models: id lookup, goal trees, client lists and the paged series.

Every list the engine answers comes from here; nothing loads an aggregate. Series are ordered by
when they happened (``day``), then recording time, then version, newest first unless asked for
oldest first; ``after`` is a version cursor (the last version a page ended on).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, cast
from uuid import UUID

from goalengine.errors import AmbiguousId, InvalidInput, NotFound
from goalengine.readmodels.tables import CLIENTS, DUMP_ORDER, GOALS, RATINGS, REVIEWS, SESSIONS
from goalengine.results import ClientEntry, GoalEntry, Order, RatingRow, ReviewRow, SessionRow
from goalengine.values import Status
from goalengine.when import utc_text

if TYPE_CHECKING:
    from goalengine.store import Store

Kind = Literal["goal", "client"]

MIN_PREFIX = 4
MAX_PAGE = 1000
_PREFIX = re.compile(r"^[0-9a-f-]+$")
_TABLE: dict[str, str] = {"goal": GOALS, "client": CLIENTS}
_LABEL: dict[str, str] = {"goal": "title", "client": "name"}


class ReadModels:
    """The read side of one open store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self._store.query(statement, params)

    # -- ids --------------------------------------------------------------------------------------

    def ids_with_prefix(self, kind: Kind, prefix: str, limit: int = 11) -> list[str]:
        rows = self._rows(
            f"SELECT id FROM {{p}}{_TABLE[kind]} WHERE id LIKE ? ORDER BY id LIMIT {int(limit)}",
            (prefix + "%",),
        )
        return [r["id"] for r in rows]

    def resolve(self, kind: Kind, ref: str | UUID) -> UUID:
        """A full id, or the one id starting with ``ref`` (at least 4 hex characters)."""
        if isinstance(ref, UUID):
            return ref
        if not isinstance(ref, str):
            raise InvalidInput(f"a {kind} id is text or a UUID, not {type(ref).__name__}")
        text = ref.strip().lower()
        try:
            return UUID(text)
        except ValueError:
            pass
        if len(text) < MIN_PREFIX or not _PREFIX.match(text):
            raise InvalidInput(
                f"{kind} id {ref!r} is not an id or a prefix of at least {MIN_PREFIX} hex characters"
            )
        found = self.ids_with_prefix(kind, text)
        if not found:
            raise NotFound(f"no {kind} has an id starting with {text!r}", id=text)
        if len(found) > 1:
            label = _LABEL[kind]
            docs = {d["id"]: d for d in self.docs(kind, "id LIKE ?", (text + "%",))}
            candidates: list[dict[str, Any]] = [
                {"id": i, label: docs.get(i, {}).get(label)} for i in found[:10]
            ]
            # Short ids only: the candidates' names and titles are in ``details``.
            listing = ", ".join(c["id"][:8] for c in candidates)
            raise AmbiguousId(
                f"{kind} id {text!r} is ambiguous: {listing}; type more characters",
                candidates=candidates,
            )
        return UUID(found[0])

    def kind_of(self, ref: str | UUID) -> tuple[Kind, UUID]:
        """Whether ``ref`` names a goal or a client (goals are tried first), and its id."""
        kinds: tuple[Kind, ...] = ("goal", "client")
        for kind in kinds:
            try:
                oid = self.resolve(kind, ref)
            except NotFound:
                continue
            if self.ids_with_prefix(kind, str(oid), limit=1):
                return kind, oid
        raise NotFound(
            f"no goal or client has an id starting with {str(ref).strip().lower()!r}", id=str(ref)
        )

    # -- documents ----------------------------------------------------------------------------

    def docs(self, kind: Kind, where: str = "", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The row documents of goals or clients, in creation order."""
        statement = f"SELECT doc FROM {{p}}{_TABLE[kind]}"
        if where:
            statement += f" WHERE {where}"
        statement += " ORDER BY created_at, id"
        return [json.loads(r["doc"]) for r in self._rows(statement, params)]

    def doc(self, kind: Kind, oid: UUID | str) -> dict[str, Any] | None:
        found = self.docs(kind, "id = ?", (str(oid),))
        return found[0] if found else None

    def goal_tree(
        self,
        *,
        client: UUID | None = None,
        status: Status | None = None,
        include_voided: bool = False,
        order: Sequence[str] | None = None,
    ) -> list[GoalEntry]:
        """Goals in tree order: each top-level goal (with ``client``: the goals of ``order``
        first — the engine's priority order — else the clinician's explicit order, then creation
        order) followed by its steps in chain order, with ``depth`` and 1-based ``position``
        among its parent's steps."""
        where: list[str] = []
        params: list[Any] = []
        if client is not None:
            where.append("client_id = ?")
            params.append(str(client))
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        elif not include_voided:
            where.append("status <> ?")
            params.append(Status.VOIDED.value)
        docs = self.docs("goal", " AND ".join(where), params)
        if client is not None:
            if order is None:
                owner = self.doc("client", client)
                order = owner.get("priorities", []) if owner else []
            rank = {g: i for i, g in enumerate(order)}
            docs.sort(key=lambda d: rank.get(d["id"], len(rank)))
        return tree_order(docs)

    def clients(self) -> list[ClientEntry]:
        """Every client's document with the counts of their goals by status (voided left out)."""
        clients = self.docs("client")
        counts: dict[str, dict[str, int]] = {}
        for row in self._rows(
            f"SELECT client_id, status, COUNT(*) AS n FROM {{p}}{GOALS} GROUP BY client_id, status"
        ):
            counts.setdefault(row["client_id"], {})[row["status"]] = int(row["n"])
        for doc in clients:
            doc["goals"] = {
                k: v
                for k, v in sorted(counts.get(doc["id"], {}).items())
                if k != Status.VOIDED.value
            }
        return cast(list[ClientEntry], clients)

    # -- series -------------------------------------------------------------------------------

    def ratings(self, goal: UUID, **query: Any) -> list[RatingRow]:
        """A goal's ratings (see :meth:`series` for the query keywords)."""
        rows = self.series(RATINGS, "goal_id", goal, **query)
        return [_rating(r) for r in rows]

    def rating(self, goal: UUID, version: int) -> RatingRow:
        """The rating recorded as version ``version`` of ``goal``."""
        rows = self._rows(
            f"SELECT * FROM {{p}}{RATINGS} WHERE goal_id = ? AND version = ?", (str(goal), version)
        )
        if not rows:
            raise NotFound(f"goal {str(goal)[:8]} has no rating at version {version}")
        return _rating(rows[0])

    def review(self, goal: UUID, version: int) -> ReviewRow:
        """The review recorded as version ``version`` of ``goal``."""
        rows = self._rows(
            f"SELECT * FROM {{p}}{REVIEWS} WHERE goal_id = ? AND version = ?", (str(goal), version)
        )
        if not rows:
            raise NotFound(f"goal {str(goal)[:8]} has no review at version {version}")
        return _review(rows[0])

    def reviews(self, goal: UUID, **query: Any) -> list[ReviewRow]:
        rows = self.series(REVIEWS, "goal_id", goal, **query)
        return [_review(r) for r in rows]

    def sessions(self, client: UUID, **query: Any) -> list[SessionRow]:
        rows = self.series(SESSIONS, "client_id", client, **query)
        return [_session(r) for r in rows]

    def series(
        self,
        table: str,
        key: str,
        oid: UUID,
        *,
        rater: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
        after: int | None = None,
        version: int | None = None,
        as_of: datetime | None = None,
        order: Order = "newest",
    ) -> list[dict[str, Any]]:
        """Rows of one aggregate's series, filtered: ``rater``; ``since``/``until`` (days, both
        included); ``version`` (rows of versions up to it); ``as_of`` (rows recorded by then);
        ``after`` (the rows following that version in this order); at most ``limit`` rows."""
        where: list[str] = [f"{key} = ?"]
        params: list[Any] = [str(oid)]
        for clause, value in (
            ("rater = ?", rater),
            ("day >= ?", since.isoformat() if since else None),
            ("day <= ?", until.isoformat() if until else None),
            ("version <= ?", version),
            ("recorded_at <= ?", utc_text(as_of) if as_of else None),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        direction = "DESC" if order == "newest" else "ASC"
        if after is not None:
            cursor = self._rows(
                f"SELECT day, recorded_at, version FROM {{p}}{table} WHERE {key} = ? "
                "AND version = ?",
                (str(oid), after),
            )
            if not cursor:
                raise NotFound(f"there is no entry at version {after} to continue after")
            c = cursor[0]
            cmp = "<" if order == "newest" else ">"
            where.append(
                f"(day {cmp} ? OR (day = ? AND (recorded_at {cmp} ? OR "
                f"(recorded_at = ? AND version {cmp} ?))))"
            )
            params += [c["day"], c["day"], c["recorded_at"], c["recorded_at"], c["version"]]
        statement = (
            f"SELECT * FROM {{p}}{table} WHERE {' AND '.join(where)} "
            f"ORDER BY day {direction}, recorded_at {direction}, version {direction}"
        )
        if limit is not None:
            statement += f" LIMIT {int(limit)}"
        return self._rows(statement, params)

    def session_on(self, client: UUID, day: date) -> int | None:
        """The number of the client's session on ``day``, if one was recorded."""
        rows = self._rows(
            f"SELECT number FROM {{p}}{SESSIONS} WHERE client_id = ? AND day = ? "
            "ORDER BY number LIMIT 1",
            (str(client), day.isoformat()),
        )
        return int(rows[0]["number"]) if rows else None

    def has_session(self, client: UUID, number: int) -> bool:
        rows = self._rows(
            f"SELECT 1 AS x FROM {{p}}{SESSIONS} WHERE client_id = ? AND number = ?",
            (str(client), number),
        )
        return bool(rows)

    # -- comparing ----------------------------------------------------------------------------

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every read-model row, in a stable order: for comparing stores and rebuilds."""
        return {
            table: self._rows(f"SELECT * FROM {{p}}{table} ORDER BY {order}")
            for table, order in DUMP_ORDER.items()
        }


def _rating(row: dict[str, Any]) -> RatingRow:
    return {
        "goal_id": row["goal_id"],
        "version": int(row["version"]),
        "value": int(row["value"]),
        "rater": row["rater"],
        "note": row["note"],
        "session": row["session"],
        "occurred_on": row["occurred_on"],
        "day": row["day"],
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
    }


def _review(row: dict[str, Any]) -> ReviewRow:
    return {
        "goal_id": row["goal_id"],
        "version": int(row["version"]),
        "outcome": row["outcome"],
        "value_alignment": row["value_alignment"],
        "note": row["note"],
        "occurred_on": row["occurred_on"],
        "day": row["day"],
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
    }


def _session(row: dict[str, Any]) -> SessionRow:
    return {
        "client_id": row["client_id"],
        "version": int(row["version"]),
        "number": int(row["number"]),
        "on": row["day"],
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
    }


def tree_order(docs: Sequence[Mapping[str, Any]]) -> list[GoalEntry]:
    """``docs`` with each goal's steps right after it (chain order), ``depth`` and ``position``."""
    by_id = {d["id"]: d for d in docs}
    out: list[GoalEntry] = []
    placed: set[str] = set()

    def place(doc: Mapping[str, Any], depth: int) -> None:
        if doc["id"] in placed:
            return
        placed.add(doc["id"])
        entry = {**doc, "depth": depth, "position": _position(doc, by_id)}
        out.append(cast(GoalEntry, entry))
        for step_id in doc.get("steps", []):
            if step_id in by_id:
                place(by_id[step_id], depth + 1)

    for doc in docs:
        if doc.get("parent_id") not in by_id:
            place(doc, 0)
    for doc in docs:
        place(doc, 0)
    return out


def _position(doc: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> int | None:
    parent = by_id.get(doc.get("parent_id") or "")
    if parent and doc["id"] in parent.get("steps", []):
        return int(parent["steps"].index(doc["id"])) + 1
    return None

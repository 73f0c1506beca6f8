"""The Client aggregate: who the goals belong to, their values, modality and sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from goalengine.errors import Conflict, InvalidInput
from goalengine.results import ClientState
from goalengine.values import Actor, Change, Finding, Session
from goalengine.when import utc_text

MAX_VALUES = 3


def check_values(values: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str) or any(not isinstance(v, str) for v in values):
        raise InvalidInput("values are a list of texts", param="values")
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(cleaned) > MAX_VALUES:
        raise InvalidInput(
            f"a client has at most {MAX_VALUES} ranked values (got {len(cleaned)}); "
            "keep the two or three that matter most"
        )
    if any(len(v) > 200 for v in cleaned):
        raise InvalidInput("a value is longer than 200 characters")
    return cleaned


def check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("a client needs a display name")
    if len(name.strip()) > 200:
        raise InvalidInput("a client's display name is longer than 200 characters")
    return name.strip()


def check_review_every(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 52:
        raise InvalidInput(f"the review cadence is every 1 to 52 sessions, not {n!r}")
    return n


class Client(Aggregate):
    """A client: display name, default modality, ranked values, review cadence, sessions.

    The state keeps the latest session (number, date) and the count; every session also goes to
    a read-model table. Version 2 (this one) replaced version 1's ``sessions`` list; old
    snapshots are upcast by :meth:`upcast_v1_v2`.
    """

    class_version = 2

    class Event(Aggregate.Event):
        actor: Actor
        findings: tuple[Finding, ...]

    class Registered(Event, Aggregate.Created):
        name: str
        modality: str | None
        values: tuple[str, ...]
        review_every: int

    class Revised(Event):
        changes: tuple[Change, ...]
        reason: str

        def apply(self, client: Client) -> None:
            for change in self.changes:
                after = change.after
                setattr(client, change.field, tuple(after) if change.field == "values" else after)

    class SessionRecorded(Event):
        number: int
        on: date

        def apply(self, client: Client) -> None:
            client.last_session = Session(number=self.number, on=self.on)
            client.session_count += 1

    class GoalsPrioritized(Event):
        """The clinician's explicit order of the client's goals (ids, first = top priority)."""

        order: tuple[UUID, ...]
        reasons: tuple[str, ...]

        def apply(self, client: Client) -> None:
            client.priorities = list(self.order)

    def __init__(
        self,
        name: str,
        modality: str | None,
        values: Sequence[str],
        review_every: int,
        actor: Actor,
        findings: Sequence[Finding],
    ) -> None:
        self.name = name
        self.modality = modality
        self.values = tuple(values)
        self.review_every = review_every
        self.created_by = actor
        self.last_session: Session | None = None
        self.session_count = 0
        self.priorities: list[UUID] = []

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A version-1 snapshot kept every session: keep the latest and the count."""
        sessions: list[Session] = list(state.pop("sessions", ()))
        state["last_session"] = sessions[-1] if sessions else None
        state["session_count"] = len(sessions)

    # -- commands -------------------------------------------------------------------------------

    def revise(self, changes: dict[str, Any], reason: str, actor: Actor) -> tuple[Change, ...]:
        if not reason or not reason.strip():
            raise InvalidInput("a revision needs a reason (--reason)")
        checked: dict[str, Callable[[Any], Any]] = {
            "name": check_name,
            "modality": lambda m: (m or "").strip().lower() or None,
            "values": lambda vs: list(check_values(vs)),
            "review_every": check_review_every,
        }
        diff = []
        for field, new in changes.items():
            if field not in checked:
                raise InvalidInput(f"a client has no field {field!r}")
            after = checked[field](new)
            before = getattr(self, field)
            before = list(before) if field == "values" else before
            if after != before:
                diff.append(Change(field=field, before=before, after=after))
        if not diff:
            raise InvalidInput("nothing to revise: every given value equals the current one")
        self.trigger_event(
            self.Revised, changes=tuple(diff), reason=reason.strip(), actor=actor, findings=()
        )
        return tuple(diff)

    def record_session(
        self, on: date, actor: Actor, number: int | None = None, *, known: bool = False
    ) -> Session:
        """Record session ``number`` (default: the next one) on ``on``; ``known`` says the read
        model already holds a session with that number (the client keeps only the latest)."""
        last = self.last_session
        if number is None:
            number = last.number + 1 if last else 1
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise InvalidInput("a session number is a whole number starting at 1")
        if known or (last is not None and last.number == number):
            raise Conflict(f"session {number} of client {str(self.id)[:8]} is already recorded")
        if last and (number < last.number or on < last.on):
            raise InvalidInput(
                f"session {number} on {on} comes before session {last.number} on {last.on}; "
                "sessions are recorded in order"
            )
        self.trigger_event(self.SessionRecorded, number=number, on=on, actor=actor, findings=())
        assert self.last_session is not None
        return self.last_session

    @property
    def review_due(self) -> bool:
        """The goals are due their periodic review: the latest session is a multiple of the
        client's review cadence."""
        last = self.last_session
        return last is not None and last.number % self.review_every == 0

    def prioritize(
        self,
        order: Sequence[UUID],
        reasons: Sequence[str],
        actor: Actor,
        findings: Sequence[Finding],
    ) -> None:
        self.trigger_event(
            self.GoalsPrioritized,
            order=tuple(order),
            reasons=tuple(reasons),
            actor=actor,
            findings=tuple(findings),
        )

    # -- queries --------------------------------------------------------------------------------

    def value_for(self, text: str) -> str:
        """The declared value matching ``text`` exactly (case-insensitive) or by rank (``"1"``)."""
        t = text.strip()
        if t.isdigit():
            rank = int(t)
            if 1 <= rank <= len(self.values):
                return self.values[rank - 1]
            raise InvalidInput(
                f"client {str(self.id)[:8]} has {len(self.values)} ranked value(s); there is "
                f"no value {rank}",
                client_id=str(self.id),
                values=list(self.values),
            )
        for value in self.values:
            if value.casefold() == t.casefold():
                return value
        # The message names no value (embedders log it): ``details`` has what a screen shows.
        raise InvalidInput(
            f"a value given is not one of client {str(self.id)[:8]}'s {len(self.values)} "
            "declared value(s); give one by its text or rank, or add it with "
            "`client revise --value` first",
            client_id=str(self.id),
            given=text,
            values=list(self.values),
        )

    def state(self) -> ClientState:
        """The client as JSON primitives (``client show --json`` without the goals)."""
        last = self.last_session
        return {
            "id": str(self.id),
            "name": self.name,
            "modality": self.modality,
            "values": list(self.values),
            "review_every": self.review_every,
            "session_count": self.session_count,
            "last_session": {"number": last.number, "on": last.on.isoformat()} if last else None,
            "review_due": self.review_due,
            "priorities": [str(p) for p in self.priorities],
            "created_by": str(self.created_by),
            "created_at": utc_text(self.created_on),
            "updated_at": utc_text(self.modified_on),
            "version": self.version,
        }

"""The Client aggregate: who the goals belong to, their values, modality and sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from goalengine.errors import Conflict, InvalidInput
from goalengine.serialization import unstructure
from goalengine.values import Actor, Change, Finding, Session

MAX_VALUES = 3


def check_values(values: Sequence[str]) -> tuple[str, ...]:
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
    """A client: display name, default modality, ranked values, review cadence, sessions."""

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
            client.sessions.append(Session(number=self.number, on=self.on))

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
        self.sessions: list[Session] = []
        self.priorities: list[UUID] = []

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

    def record_session(self, on: date, actor: Actor, number: int | None = None) -> Session:
        last = self.sessions[-1] if self.sessions else None
        if number is None:
            number = last.number + 1 if last else 1
        if number < 1:
            raise InvalidInput("a session number starts at 1")
        if any(s.number == number for s in self.sessions):
            raise Conflict(f"session {number} of {self.name} is already recorded")
        if last and (number < last.number or on < last.on):
            raise InvalidInput(
                f"session {number} on {on} comes before session {last.number} on {last.on}; "
                "sessions are recorded in order"
            )
        self.trigger_event(self.SessionRecorded, number=number, on=on, actor=actor, findings=())
        return self.sessions[-1]

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
                f"{self.name} has {len(self.values)} ranked value(s); there is no value {rank}"
            )
        for value in self.values:
            if value.casefold() == t.casefold():
                return value
        known = "; ".join(f"{i}. {v}" for i, v in enumerate(self.values, 1)) or "none declared"
        raise InvalidInput(
            f"{text!r} is not one of {self.name}'s values ({known}); add it with "
            "`client revise --value` first",
            values=list(self.values),
        )

    def state(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "modality": self.modality,
            "values": list(self.values),
            "review_every": self.review_every,
            "sessions": [unstructure(s) for s in self.sessions],
            "priorities": [str(p) for p in self.priorities],
            "created_by": str(self.created_by),
            "created_at": self.created_on.isoformat(),
            "updated_at": self.modified_on.isoformat(),
            "version": self.version,
        }

"""The Goal aggregate: a therapy goal whose every change is an event.

Commands (``scale``, ``revise``, …) check their invariants with small named methods, then trigger an
event. Events carry everything that was decided at command time: the actor, the findings of the rules,
the rating's values. Their ``apply`` methods only fold that data into state: replay never calls a
plugin, the clock or the network. The recording time is the event's ``timestamp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from goalengine.aggregates.latest import happened, last_review, latest_rating, with_rating
from goalengine.errors import Conflict, InvalidInput
from goalengine.results import GoalState
from goalengine.serialization import structure, unstructure
from goalengine.values import (
    RATER_ROLES,
    REVISABLE,
    Actor,
    Change,
    Finding,
    GoalSpec,
    Horizon,
    Rating,
    Review,
    ReviewOutcome,
    Role,
    Status,
)
from goalengine.when import utc_text


def _short(goal_id: UUID) -> str:
    return str(goal_id)[:8]


_DOING = {
    Status.ACTIVE: "resumed",
    Status.PAUSED: "paused",
    Status.ACHIEVED: "achieved",
    Status.ABANDONED: "abandoned",
}


class Goal(Aggregate):
    """A therapy goal of one client. Steps are goals too, chained under a long-term parent.

    The state holds what the invariants and ``goal show`` need: the spec, status, steps, parent,
    the latest rating of each rater and the last review (latest by when they happened), and
    counts. Every rating and review also goes to a read-model table; the goal never keeps the
    series, so loading and commanding it costs the same on its 10th event and its 10,000th.

    Version 2 (this one) replaced version 1's ``ratings`` and ``reviews`` lists; old snapshots
    are upcast by :meth:`upcast_v1_v2`.
    """

    class_version = 2

    class Event(Aggregate.Event):
        actor: Actor
        findings: tuple[Finding, ...]

    class Created(Event, Aggregate.Created):
        client_id: UUID
        spec: GoalSpec
        parent_id: UUID | None

    class Chained(Event):
        """A step goal was put under this goal at ``position`` (0-based)."""

        step_id: UUID
        position: int

        def apply(self, goal: Goal) -> None:
            goal.steps.insert(self.position, self.step_id)

    class StepsReordered(Event):
        steps: tuple[UUID, ...]

        def apply(self, goal: Goal) -> None:
            goal.steps = list(self.steps)

    class Scaled(Event):
        value: int
        rater: Role
        note: str | None
        session: int | None
        occurred_on: date | None

        def apply(self, goal: Goal) -> None:
            goal.rated(
                Rating(
                    value=self.value,
                    rater=self.rater,
                    actor=self.actor,
                    recorded_at=self.timestamp,
                    note=self.note,
                    session=self.session,
                    occurred_on=self.occurred_on,
                )
            )

    class Revised(Event):
        changes: tuple[Change, ...]
        reason: str

        def apply(self, goal: Goal) -> None:
            data = unstructure(goal.spec)
            for change in self.changes:
                data[change.field] = change.after
            goal.spec = structure(data, GoalSpec)

    class Reviewed(Event):
        outcome: ReviewOutcome
        value_alignment: int | None
        note: str | None
        occurred_on: date | None

        def apply(self, goal: Goal) -> None:
            goal.reviewed(
                Review(
                    outcome=self.outcome,
                    actor=self.actor,
                    recorded_at=self.timestamp,
                    value_alignment=self.value_alignment,
                    note=self.note,
                    occurred_on=self.occurred_on,
                )
            )

    class StatusChanged(Event):
        """Base of the lifecycle events; ``note`` is the reason or the remark given."""

        note: str | None
        status = Status.ACTIVE

        def apply(self, goal: Goal) -> None:
            goal.previous_status = goal.status
            goal.status = self.status
            goal.status_note = self.note
            goal.status_changed_at = self.timestamp

    class Paused(StatusChanged):
        status = Status.PAUSED

    class Resumed(StatusChanged):
        status = Status.ACTIVE

    class Achieved(StatusChanged):
        status = Status.ACHIEVED

    class Abandoned(StatusChanged):
        status = Status.ABANDONED

    class Voided(StatusChanged):
        status = Status.VOIDED

    def __init__(
        self,
        client_id: UUID,
        spec: GoalSpec,
        parent_id: UUID | None,
        actor: Actor,
        findings: Sequence[Finding],
    ) -> None:
        self.client_id = client_id
        self.spec = spec
        self.parent_id = parent_id
        self.created_by = actor
        self.findings = tuple(findings)
        self.status = Status.ACTIVE
        self.previous_status: Status | None = None
        self.status_note: str | None = None
        self.status_changed_at: datetime | None = None
        self.steps: list[UUID] = []
        self.latest_ratings: tuple[Rating, ...] = ()
        self.rating_count = 0
        self.last_review: Review | None = None
        self.review_count = 0

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A version-1 snapshot kept every rating and review: keep the latest and the counts."""
        ratings: list[Rating] = list(state.pop("ratings", ()))
        reviews: list[Review] = list(state.pop("reviews", ()))
        latest: tuple[Rating, ...] = ()
        for rating in ratings:
            latest = with_rating(latest, rating)
        state["latest_ratings"] = latest
        state["rating_count"] = len(ratings)
        state["last_review"] = max(reviews, key=happened) if reviews else None
        state["review_count"] = len(reviews)

    # -- folding (called by the events' apply) --------------------------------------------------

    def rated(self, rating: Rating) -> None:
        self.latest_ratings = with_rating(self.latest_ratings, rating)
        self.rating_count += 1

    def reviewed(self, review: Review) -> None:
        if self.last_review is None or happened(review) >= happened(self.last_review):
            self.last_review = review
        self.review_count += 1

    # -- invariants ---------------------------------------------------------------------------

    def _describe_closed(self, doing: str) -> str:
        when = self.status_changed_at.date().isoformat() if self.status_changed_at else "earlier"
        verb = "entered in error (voided)" if self.status is Status.VOIDED else self.status.value
        return f"goal {_short(self.id)} was {verb} on {when}; it can no longer be {doing}"

    def _require_open(self, doing: str) -> None:
        if not self.status.is_open:
            raise Conflict(
                self._describe_closed(doing), goal_id=str(self.id), status=self.status.value
            )

    # -- commands -------------------------------------------------------------------------------

    def chain(self, step_id: UUID, position: int | None, actor: Actor) -> int:
        """Put ``step_id`` under this goal; returns the 0-based position it took."""
        self._require_open("given steps")
        if self.spec.horizon is not Horizon.LONG:
            raise Conflict(
                f"goal {_short(self.id)} is a short-term goal; steps chain under long-term goals "
                "(revise its horizon to long first)"
            )
        count = len(self.steps)
        if position is None:
            position = count
        elif not 0 <= position <= count:
            raise InvalidInput(
                f"position {position + 1} is out of range; goal {_short(self.id)} has "
                f"{count} step(s), so choose 1 to {count + 1}"
            )
        self.trigger_event(
            self.Chained, step_id=step_id, position=position, actor=actor, findings=()
        )
        return position

    def reorder(self, steps: Sequence[UUID], actor: Actor) -> None:
        self._require_open("reordered")
        if sorted(map(str, steps)) != sorted(map(str, self.steps)) or len(steps) != len(self.steps):
            raise InvalidInput("a new step order must list every step of the goal exactly once")
        if list(steps) == self.steps:
            raise InvalidInput("the steps are already in that order")
        self.trigger_event(self.StepsReordered, steps=tuple(steps), actor=actor, findings=())

    def move_step(self, step_id: UUID, position: int, actor: Actor) -> None:
        """Move one of this goal's steps to 1-based ``position``."""
        if step_id not in self.steps:
            raise InvalidInput(f"goal {_short(step_id)} is not a step of goal {_short(self.id)}")
        if not 1 <= position <= len(self.steps):
            raise InvalidInput(
                f"position {position} is out of range; choose 1 to {len(self.steps)}"
            )
        order = [s for s in self.steps if s != step_id]
        order.insert(position - 1, step_id)
        self.reorder(order, actor)

    def scale(
        self,
        value: int,
        rater: Role,
        actor: Actor,
        note: str | None = None,
        session: int | None = None,
        occurred_on: date | None = None,
    ) -> None:
        self._require_open("scaled")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise InvalidInput(f"a rating is a whole number from 0 to 10, not {value!r}")
        if rater not in RATER_ROLES:
            raise InvalidInput(
                f"rater {rater.value!r} cannot rate a goal; choose client, therapist or collateral"
            )
        if session is not None and session < 1:
            raise InvalidInput("a session number starts at 1")
        self.trigger_event(
            self.Scaled,
            value=value,
            rater=rater,
            note=(note or "").strip() or None,
            session=session,
            occurred_on=occurred_on,
            actor=actor,
            findings=(),
        )

    def revise(
        self, new_spec: GoalSpec, reason: str, actor: Actor, findings: Sequence[Finding] = ()
    ) -> tuple[Change, ...]:
        self.check_reason(reason)
        self.check_revision(new_spec)
        before, after = unstructure(self.spec), unstructure(new_spec)
        changes = tuple(
            Change(field=name, before=before[name], after=after[name])
            for name in REVISABLE
            if before[name] != after[name]
        )
        if not changes:
            raise InvalidInput("nothing to revise: every given value equals the current one")
        self.trigger_event(
            self.Revised,
            changes=changes,
            reason=reason.strip(),
            actor=actor,
            findings=tuple(findings),
        )
        return changes

    def review(
        self,
        outcome: ReviewOutcome,
        actor: Actor,
        value_alignment: int | None = None,
        note: str | None = None,
        occurred_on: date | None = None,
    ) -> None:
        self._require_open("reviewed")
        if value_alignment is not None and not 0 <= value_alignment <= 10:
            raise InvalidInput(f"value alignment is 0 to 10, not {value_alignment}")
        self.trigger_event(
            self.Reviewed,
            outcome=outcome,
            value_alignment=value_alignment,
            note=(note or "").strip() or None,
            occurred_on=occurred_on,
            actor=actor,
            findings=(),
        )

    def check_revision(self, new_spec: GoalSpec) -> None:
        """Raise if the goal cannot take ``new_spec`` (closed; short-term while it has steps)."""
        self._require_open("revised")
        if new_spec.horizon is not Horizon.LONG and self.steps:
            raise Conflict(
                f"goal {_short(self.id)} has {len(self.steps)} step(s); it stays long-term while "
                "it has steps"
            )

    @staticmethod
    def check_reason(reason: str) -> None:
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("a revision needs a reason (--reason): why is the goal changing?")

    def check_transition(self, to: Status, note: str | None) -> None:
        """Raise if the goal cannot move to ``to`` now (with ``note`` as its reason)."""
        if to is Status.VOIDED:
            if self.status is Status.VOIDED:
                raise Conflict(f"goal {_short(self.id)} is already voided")
            if not note or not note.strip():
                raise InvalidInput(
                    "voiding a goal needs a reason (--reason): why was it entered in error?"
                )
            return
        if to is self.status:
            raise Conflict(f"goal {_short(self.id)} is already {to.value}")
        self._require_open(_DOING[to])
        if to is Status.ABANDONED and (not note or not note.strip()):
            raise InvalidInput("abandoning a goal needs a reason (--reason)")

    def transition(
        self, to: Status, actor: Actor, note: str | None = None, findings: Sequence[Finding] = ()
    ) -> None:
        """Pause, resume, achieve, abandon or void the goal (``to`` is the new status)."""
        self.check_transition(to, note)
        self.trigger_event(
            _TRANSITIONS[to],
            note=(note or "").strip() or None,
            actor=actor,
            findings=tuple(findings),
        )

    # -- queries --------------------------------------------------------------------------------

    @property
    def latest_rating(self) -> Rating | None:
        """The latest rating by when it happened, from any rater."""
        return max(self.latest_ratings, key=happened) if self.latest_ratings else None

    def state(self) -> GoalState:
        """The goal as JSON primitives (the shape ``goal show --json`` prints)."""
        spec: Any = unstructure(self.spec)
        latest = self.latest_rating
        return {
            "id": str(self.id),
            "client_id": str(self.client_id),
            "title": self.spec.title,
            "description": self.spec.description,
            "status": unstructure(self.status),
            "status_note": self.status_note,
            "horizon": spec["horizon"],
            "kind": spec["kind"],
            "domains": spec["domains"],
            "values": spec["values"],
            "anchors": spec["anchors"],
            "target": str(self.spec.target) if self.spec.target else None,
            "target_detail": spec["target"],
            "due": spec["due"],
            "authorship": spec["authorship"],
            "client_agreed": self.spec.client_agreed,
            "modality": self.spec.modality,
            "attributes": dict(self.spec.attributes),
            "scale": latest.value if latest else None,
            "rated_at": utc_text(latest.recorded_at) if latest else None,
            "latest_ratings": {r.rater.value: latest_rating(r) for r in self.latest_ratings},
            "rating_count": self.rating_count,
            "last_review": last_review(self.last_review) if self.last_review else None,
            "review_count": self.review_count,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "steps": [str(s) for s in self.steps],
            "created_by": str(self.created_by),
            "created_at": utc_text(self.created_on),
            "updated_at": utc_text(self.modified_on),
            "version": self.version,
        }


_TRANSITIONS: dict[Status, type[Goal.StatusChanged]] = {
    Status.ACTIVE: Goal.Resumed,
    Status.PAUSED: Goal.Paused,
    Status.ACHIEVED: Goal.Achieved,
    Status.ABANDONED: Goal.Abandoned,
    Status.VOIDED: Goal.Voided,
}

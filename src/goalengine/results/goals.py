"""The results about goals: a goal's state, after a command, in a list; its ratings and reviews."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from goalengine.results.common import (
    AuthorshipName,
    ChangeResult,
    DomainName,
    FindingResult,
    HorizonName,
    KindName,
    OutcomeName,
    RaterName,
    StatusName,
)


class Anchors(TypedDict):
    low: str | None
    high: str | None


class TargetDetail(TypedDict):
    measure: str
    comparator: Literal["<", "<=", ">", ">=", "="]
    value: float
    per: str | None


class DatedEntry(TypedDict):
    """What a rating and a review both record: who, when, the note and the day it counts on."""

    actor: str
    recorded_at: str
    note: str | None
    occurred_on: str | None
    #: The day it counts on: ``occurred_on``, else the UTC day it was recorded.
    day: str


class LatestRating(DatedEntry):
    """A rater's latest rating as a goal keeps it (``goal show``)."""

    value: int
    rater: RaterName
    session: int | None


class LastReview(DatedEntry):
    outcome: OutcomeName
    value_alignment: int | None


class GoalState(TypedDict):
    """A goal (``goal show --json``): what it is, where it stands, its latest ratings."""

    id: str
    client_id: str
    title: str
    description: str | None
    status: StatusName
    status_note: str | None
    horizon: HorizonName
    kind: KindName
    domains: list[DomainName]
    values: list[str]
    anchors: Anchors
    target: str | None
    target_detail: TargetDetail | None
    due: str | None
    authorship: AuthorshipName
    client_agreed: bool
    modality: str | None
    attributes: dict[str, str]
    #: The latest rating by when it happened, from any rater (None: not rated yet).
    scale: int | None
    rated_at: str | None
    latest_ratings: dict[str, LatestRating]
    rating_count: int
    last_review: LastReview | None
    review_count: int
    parent_id: str | None
    steps: list[str]
    created_by: str
    created_at: str
    updated_at: str
    version: int


class GoalEntry(GoalState):
    """A goal in a list (``goal list --json``): ``depth`` 1 for a step, its 1-based
    ``position`` among its parent's steps."""

    depth: int
    position: int | None
    #: With ``list_goals(client=...)``: why an open top-level goal is in its place (exactly as
    #: ``prioritized_goals`` gives it); None for steps and closed goals.
    priority_reason: NotRequired[str | None]


class GoalChanged(GoalState):
    """A goal after a command that evaluated the rules (create, chain, pause … void)."""

    findings: list[FindingResult]


class GoalRevised(GoalChanged):
    changes: list[ChangeResult]


class GoalReviewed(GoalState):
    """A goal after its periodic review, with the review recorded (``review``)."""

    review: ReviewRow


class RatingRow(LatestRating):
    """One rating (``goal ratings --json``; what ``scale`` returns): the rating with its goal
    and the goal's version that recorded it."""

    goal_id: str
    version: int


class ReviewRow(LastReview):
    """One periodic review of a goal (``goal reviews --json``)."""

    goal_id: str
    version: int

"""Which rating and review count as a goal's latest, and how they read in its state.

"Latest" is by when it happened — the day given with ``--on``, else the UTC day it was recorded,
then the recording time — so a backfilled older rating never replaces a newer one. Replay folds
every rating through :func:`with_rating`: it stays cheap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TypedDict

from goalengine.results import LastReview, LatestRating
from goalengine.serialization import unstructure
from goalengine.values import RATER_ROLES, Rating, Review
from goalengine.when import utc_text


def happened(item: Rating | Review) -> tuple[date, datetime]:
    """When a rating or review happened, for ordering: its day (the UTC day it was recorded when
    none was given), then its recording time."""
    at = item.recorded_at
    day = item.occurred_on or (at if at.utcoffset() == _NO_OFFSET else at.astimezone(UTC)).date()
    return day, at


_NO_OFFSET = timedelta(0)
_RANK = {role: i for i, role in enumerate(RATER_ROLES)}


class _When(TypedDict):
    actor: str
    recorded_at: str
    note: str | None
    occurred_on: str | None
    day: str


def _when(item: Rating | Review) -> _When:
    return {
        "actor": str(item.actor),
        "recorded_at": utc_text(item.recorded_at),
        "note": item.note,
        "occurred_on": item.occurred_on.isoformat() if item.occurred_on else None,
        "day": happened(item)[0].isoformat(),
    }


def latest_rating(r: Rating) -> LatestRating:
    """A rating as the goal shows it: the actor as ``role:name``, the day it counts on."""
    return {"value": r.value, "rater": unstructure(r.rater), "session": r.session, **_when(r)}


def last_review(r: Review) -> LastReview:
    return {
        "outcome": unstructure(r.outcome),
        "value_alignment": r.value_alignment,
        **_when(r),
    }


def with_rating(latest: tuple[Rating, ...], rating: Rating) -> tuple[Rating, ...]:
    """``latest`` (one rating per rater) after ``rating``: it replaces its rater's rating unless
    that one happened later (a backfilled older rating never replaces a newer one)."""
    # Replay folds every rating through here: keep it cheap (at most three raters, in rank order).
    for i, current in enumerate(latest):
        if current.rater is rating.rater:
            if happened(current) > happened(rating):
                return latest
            return (*latest[:i], rating, *latest[i + 1 :])
    rank = _RANK[rating.rater]
    before = tuple(r for r in latest if _RANK[r.rater] < rank)
    return (*before, rating, *latest[len(before) :])

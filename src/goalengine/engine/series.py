"""Checking the keywords of a series query (ratings, reviews, sessions) before it runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict

from goalengine.engine import checks
from goalengine.errors import InvalidInput
from goalengine.readmodels.queries import MAX_PAGE
from goalengine.results import Order, RaterName
from goalengine.values import Role, parse_rater
from goalengine.when import parse_day, parse_when


class SeriesQuery(TypedDict, total=False):
    rater: str | None
    since: date | None
    until: date | None
    limit: int | None
    after: int | None
    version: int | None
    as_of: datetime | None
    order: Order


def _whole(value: Any, name: str, low: int, high: int | None = None) -> int | None:
    return checks.opt_integer(value, name, low=low, high=high)


def series_query(
    *,
    rater: Role | RaterName | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    limit: int | None = None,
    after: int | None = None,
    version: int | None = None,
    as_of: datetime | date | str | None = None,
    order: Order = "newest",
) -> SeriesQuery:
    """The checked query: days parsed, numbers in range, ``rater`` one who rates goals."""
    since, until = checks.day(since, "since"), checks.day(until, "until")
    as_of = checks.moment(as_of, "as_of")
    if rater is not None and not isinstance(rater, Role):
        rater = checks.text(rater, "rater", max_len=100)  # type: ignore[assignment]
    if order not in ("newest", "oldest"):
        raise InvalidInput(
            f"order is 'newest' or 'oldest', not {order!r}", param="order", accepts="newest, oldest"
        )
    role = None
    if rater is not None:
        role = parse_rater(rater)
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if first and last and first > last:
        raise InvalidInput(f"--since {first} is after --until {last}")
    return SeriesQuery(
        rater=role.value if role else None,
        since=first,
        until=last,
        limit=_whole(limit, "limit", 1, MAX_PAGE),
        after=_whole(after, "after", 1),
        version=_whole(version, "version", 1),
        as_of=None if as_of is None else parse_when(as_of, end_of_day=True, what="--as-of"),
        order="newest" if order == "newest" else "oldest",
    )

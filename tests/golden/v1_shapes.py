"""The v1 → current adapter: what goalengine 0.1.0 returned, in the shapes returned today.

The golden files (``expected-v1.json``, ``expected-snapshots.json``) are frozen: they hold what
0.1.0 answered. Every deliberate change of a result's shape since then is one conversion here,
so that the golden tests keep comparing *everything* with the frozen answers. The changes (also
in CHANGELOG.md, "0.2.0"):

- a goal no longer carries its ``ratings`` and ``reviews`` (they are queries now): it carries
  ``latest_ratings`` (the latest rating of each rater, by when it happened), ``rating_count``,
  ``last_review`` (by when it happened), ``review_count`` and ``rated_at``; ``scale`` is the
  latest rating by when it happened (0.1.0: the last one recorded). A rating or review reads with
  its actor as ``role:name`` and the ``day`` it counts on (``occurred_on``, else the UTC day it was
  recorded);
- a list entry of a goal is the goal's whole state (plus ``depth`` and ``position``);
- a client no longer carries its ``sessions``: it carries ``session_count``, ``last_session``
  (``{number, on}``) and ``review_due``; a list entry of a client is its whole state plus the goal
  counts;
- in a history (and the audit feed) a target reads as its text (``phq9<10``) in a revision's
  changes and in a created goal's spec.

A 0.1.0 goal *summary* (a list entry, or a goal inside a client's state) did not carry the ratings
needed to re-derive ``scale`` and ``rated_at`` under the new rule; where the full 0.1.0 state of
that goal at that version is in the golden file it is converted instead, otherwise those two keys
are left out of the comparison and every other key is compared (:class:`Partial`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from goalengine.audit.entries import target_text

#: The full 0.1.0 state of goal ``id`` at ``version``, where the golden file has it.
Lookup = Callable[[str, int], dict[str, Any] | None]


class Partial(dict[str, Any]):
    """An expected entry of which only the keys present are compared (see the module doc)."""


def _happened(item: dict[str, Any]) -> tuple[date, datetime]:
    at = datetime.fromisoformat(item["recorded_at"])
    day = date.fromisoformat(item["occurred_on"]) if item.get("occurred_on") else None
    return day or at.astimezone(UTC).date(), at


def _with_day(item: dict[str, Any]) -> dict[str, Any]:
    actor = item["actor"]
    return {
        **item,
        "actor": f"{actor['role']}:{actor['name']}" if isinstance(actor, dict) else actor,
        "day": _happened(item)[0].isoformat(),
    }


def goal(v1: dict[str, Any]) -> dict[str, Any]:
    """A 0.1.0 goal state → today's."""
    state = {k: v for k, v in v1.items() if k not in ("ratings", "reviews")}
    ratings, reviews = v1["ratings"], v1["reviews"]
    latest: dict[str, dict[str, Any]] = {}
    for r in ratings:
        current = latest.get(r["rater"])
        if current is None or _happened(current) <= _happened(r):
            latest[r["rater"]] = r
    newest = max(latest.values(), key=_happened) if latest else None
    order = ("client", "therapist", "collateral")
    state["latest_ratings"] = {
        rater: _with_day(latest[rater]) for rater in order if rater in latest
    }
    state["rating_count"] = len(ratings)
    state["scale"] = newest["value"] if newest else None
    state["rated_at"] = newest["recorded_at"] if newest else None
    state["last_review"] = _with_day(max(reviews, key=_happened)) if reviews else None
    state["review_count"] = len(reviews)
    return state


def goal_entry(v1: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """A 0.1.0 goal list entry (a summary with ``depth``/``position``) → today's entry."""
    full = lookup(v1["id"], v1["version"])
    if full is not None:
        return {**goal(full), "depth": v1.get("depth"), "position": v1.get("position")}
    return Partial({k: v for k, v in v1.items() if k not in ("scale", "rated_at")})


def client(v1: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """A 0.1.0 client state (``get_client``, with or without ``as_of``) → today's."""
    state = {k: v for k, v in v1.items() if k != "sessions"}
    sessions = v1.get("sessions") or []
    state["session_count"] = len(sessions)
    state["last_session"] = sessions[-1] if sessions else None
    last = state["last_session"]
    state["review_due"] = bool(last) and last["number"] % v1["review_every"] == 0
    if "goals" in v1:
        state["goals"] = [goal_entry(g, lookup) for g in v1["goals"]]
    return state


def client_entry(v1: dict[str, Any], v1_now: dict[str, Any]) -> dict[str, Any]:
    """A 0.1.0 ``list_clients`` entry → today's: the client's whole state plus goal counts.
    ``v1_now`` is the client's full 0.1.0 state (``get_client``) at the same time."""
    state = client({k: v for k, v in v1_now.items() if k != "goals"}, lambda _i, _v: None)
    return {**state, "goals": v1["goals"]}


def history_entry(v1: dict[str, Any]) -> dict[str, Any]:
    """A 0.1.0 history or feed entry → today's: targets as text."""
    entry = dict(v1)
    if "changes" in entry:
        entry["changes"] = [
            {**c, **{s: target_text(c[s]) if c[s] else None for s in ("before", "after")}}
            if c["field"] == "target"
            else c
            for c in entry["changes"]
        ]
    if isinstance(entry.get("spec"), dict) and isinstance(entry["spec"].get("target"), dict):
        entry["spec"] = {**entry["spec"], "target": target_text(entry["spec"]["target"])}
    return entry


def matches(current: Any, expected: Any) -> bool:
    """``current`` equals ``expected``, where a :class:`Partial` is compared on its keys only."""
    if isinstance(expected, Partial):
        return isinstance(current, dict) and all(
            k in current and matches(current[k], v) for k, v in expected.items()
        )
    if isinstance(expected, dict):
        return (
            isinstance(current, dict)
            and current.keys() == expected.keys()
            and all(matches(current[k], v) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(current, list)
            and len(current) == len(expected)
            and all(matches(c, e) for c, e in zip(current, expected, strict=True))
        )
    return bool(current == expected)

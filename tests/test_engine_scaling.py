"""Scaling (0-10 ratings by client, therapist or collateral) and the periodic review.

Narrated through the public API on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from goalengine import Conflict, GoalEngine, InvalidInput

#: The keys of a rating as the goal keeps it in ``latest_ratings``.
LATEST_KEYS = ("value", "rater", "actor", "recorded_at", "note", "session", "occurred_on", "day")


def test_weeks_of_ratings_with_raters_notes_sessions_and_dates(
    engine: GoalEngine, refuses: Any
) -> None:
    alex = engine.add_client("Alex", values=["being a present parent"])
    goal = engine.create_goal(
        alex["id"],
        "Play with the kids after work",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        anchor_low="I go straight to my phone",
        anchor_high="Half an hour of play most days",
    )
    # Alex's sessions are recorded as they happen.
    s1 = engine.record_session(alex["id"], on="2026-10-05")
    s2 = engine.record_session(alex["id"], on="2026-10-12")
    assert (s1["number"], s2["number"]) == (1, 2)
    assert s2["on"] == "2026-10-12"

    # Week one: Dr Lee records the rating (the rater defaults to the actor's role); the engine
    # returns the rating it recorded.
    first = engine.scale(goal["id"], 2, on="2026-10-05")
    assert first["goal_id"] == goal["id"]
    assert first["version"] == 2
    assert first["value"] == 2
    assert first["rater"] == "therapist"
    assert first["actor"] == "therapist:lee"
    assert first["occurred_on"] == first["day"] == "2026-10-05"
    assert first["session"] == 1  # looked up from the session recorded that day
    assert first["note"] is None
    assert engine.get_goal(goal["id"])["scale"] == 2

    # Week two: Alex rates it in session, with what moved the number.
    second = engine.scale(
        goal["id"],
        5,
        rater="client",
        note="  played lego twice  ",
        on="2026-10-12",
        actor="client:alex",
    )
    assert (second["value"], second["rater"], second["session"]) == (5, "client", 2)
    assert second["note"] == "played lego twice"
    assert second["actor"] == "client:alex"

    # Alex's partner rates it too (collateral), on a day without a session; and a rating given an
    # explicit session number keeps it (without a date it counts on the UTC day it was recorded).
    third = engine.scale(goal["id"], 4, rater="collateral", on=date(2026, 10, 14))
    assert third["session"] is None
    assert third["occurred_on"] == "2026-10-14"
    fourth = engine.scale(goal["id"], 6, session=2)
    assert fourth["session"] == 2
    assert fourth["occurred_on"] is None
    assert fourth["day"] == fourth["recorded_at"][:10]
    assert fourth["recorded_at"].endswith("+00:00")

    # The scale is the latest rating from any rater by when it happened; the goal keeps the
    # latest of each rater and the count, and every rating is kept in the series.
    shown = engine.get_goal(goal["id"])
    assert shown["scale"] == 6
    assert shown["rated_at"] == fourth["recorded_at"]
    assert shown["rating_count"] == 4
    assert shown["latest_ratings"] == {
        r["rater"]: {k: r[k] for k in LATEST_KEYS} for r in (fourth, second, third)
    }
    assert engine.ratings(goal["id"], order="oldest") == [first, second, third, fourth]
    assert engine.ratings(goal["id"]) == [fourth, third, second, first]
    assert [r["rater"] for r in engine.ratings(goal["id"], order="oldest")] == [
        "therapist",
        "client",
        "collateral",
        "therapist",
    ]
    # The read model answers lists with the same latest number.
    assert engine.list_goals()[0]["scale"] == 6
    assert engine.list_goals()[0]["rated_at"] == fourth["recorded_at"]

    # Each rating is an event with its recording time, its actor and when it happened.
    scaled = [e for e in engine.history(goal["id"]) if e["event"] == "Scaled"]
    assert [e["value"] for e in scaled] == [2, 5, 4, 6]
    assert scaled[1]["actor"] == "client:alex"
    assert scaled[1]["occurred_on"] == "2026-10-12"
    assert [e["version"] for e in scaled] == [r["version"] for r in (first, second, third, fourth)]
    assert [e["recorded_at"] for e in scaled] == [
        r["recorded_at"] for r in (first, second, third, fourth)
    ]

    # A backfilled rating of an earlier day is kept in the series (in its place by day) but does
    # not replace the therapist's newer rating, nor the scale.
    backfilled = engine.scale(goal["id"], 1, on="2026-10-06")
    after = engine.get_goal(goal["id"])
    assert after["scale"] == 6
    assert after["rated_at"] == fourth["recorded_at"]
    assert after["latest_ratings"]["therapist"]["value"] == 6
    assert after["rating_count"] == 5
    assert [r["value"] for r in engine.ratings(goal["id"], order="oldest")] == [2, 1, 5, 4, 6]
    assert engine.ratings(goal["id"], since="2026-10-06", until="2026-10-06") == [backfilled]

    # Refused, leaving the store as it was: numbers outside 0-10 or not whole, a rater who cannot
    # rate, an actor who is no rater without --rater, a date in the future or not a date.
    future = (date.today() + timedelta(days=3)).isoformat()
    for value in (-1, 11, 4.5, "7", True):
        refuses(engine, InvalidInput, engine.scale, goal["id"], value, match="0 to 10")
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, rater="supervisor", match="rater")
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, rater="neighbour", match="rater")
    refuses(
        engine,
        InvalidInput,
        engine.scale,
        goal["id"],
        5,
        actor="auditor:kim",
        match="give the rater",
    )
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, on=future, match="in the future")
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, on="last week", match="not a date")
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, session=0, match="starting at 1")
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, actor="lee", match="ROLE:NAME")

    # Sessions are recorded in order, never twice, never in the future.
    refuses(engine, InvalidInput, engine.record_session, alex["id"], on=future, match="future")
    refuses(engine, InvalidInput, engine.record_session, alex["id"], on="2026-10-01", match="order")
    refuses(engine, Conflict, engine.record_session, alex["id"], number=2, match="already recorded")
    client = engine.get_client(alex["id"])
    assert client["session_count"] == 2
    assert client["last_session"] == {"number": 2, "on": "2026-10-12"}
    assert [s["number"] for s in engine.sessions(alex["id"])] == [2, 1]


def test_sessions_mark_when_a_review_is_due(engine: GoalEngine) -> None:
    jo = engine.add_client("Jo", review_every=2)
    assert engine.record_session(jo["id"], on="2026-10-01")["review_due"] is False
    assert engine.record_session(jo["id"], on="2026-10-08")["review_due"] is True
    assert engine.get_client(jo["id"])["review_due"] is True
    assert engine.record_session(jo["id"], on="2026-10-15")["review_due"] is False
    client = engine.get_client(jo["id"])
    assert client["session_count"] == 3
    assert client["last_session"] == {"number": 3, "on": "2026-10-15"}
    assert [s["number"] for s in engine.sessions(jo["id"], order="oldest")] == [1, 2, 3]
    assert [s["on"] for s in engine.sessions(jo["id"])] == [
        "2026-10-15",
        "2026-10-08",
        "2026-10-01",
    ]


def test_reviewing_whether_a_goal_is_still_the_right_one(engine: GoalEngine, refuses: Any) -> None:
    jo = engine.add_client("Jo", values=["creativity"])
    goal = engine.create_goal(
        jo["id"], "Paint on Sundays", horizon="short", kind="process", domains=["behavioral"]
    )
    reviewed = engine.record_goal_review(
        goal["id"], "keep", value_alignment=8, note="  still matters  ", on="2026-10-20"
    )
    first = {
        "outcome": "keep",
        "actor": "therapist:lee",
        "recorded_at": reviewed["updated_at"],
        "value_alignment": 8,
        "note": "still matters",
        "occurred_on": "2026-10-20",
        "day": "2026-10-20",
    }
    assert reviewed["last_review"] == first
    assert reviewed["review_count"] == 1
    engine.record_goal_review(goal["id"], "ADJUST", actor="client:jo")
    shown = engine.get_goal(goal["id"])
    assert shown["review_count"] == 2
    # The review without a date counts on the day it was recorded: today, after 2026-10-20.
    assert shown["last_review"]["outcome"] == "adjust"
    assert shown["last_review"]["day"] == shown["last_review"]["recorded_at"][:10]
    reviews = engine.reviews(goal["id"], order="oldest")
    assert [r["outcome"] for r in reviews] == ["keep", "adjust"]
    assert {k: reviews[0][k] for k in first} == first
    assert reviews[0]["version"] == reviewed["version"]
    assert reviews[1]["value_alignment"] is None
    assert reviews[1]["actor"] == "client:jo"
    assert {k: reviews[1][k] for k in shown["last_review"]} == shown["last_review"]
    assert engine.reviews(goal["id"]) == reviews[::-1]
    entry = engine.history(goal["id"])[-1]
    assert (entry["event"], entry["outcome"], entry["actor"]) == ("Reviewed", "adjust", "client:jo")

    # A review backfilled to an earlier day is kept (and returned as the review recorded) but
    # does not become the last review.
    backfilled = engine.record_goal_review(goal["id"], "keep", value_alignment=6, on="2026-10-21")
    assert backfilled["review"] == {
        **backfilled["review"],
        "goal_id": goal["id"],
        "version": backfilled["version"],
        "outcome": "keep",
        "value_alignment": 6,
        "day": "2026-10-21",
    }
    assert backfilled["last_review"] == shown["last_review"]
    assert backfilled["review_count"] == 3
    assert [r["outcome"] for r in engine.reviews(goal["id"], order="oldest")] == [
        "keep",
        "keep",
        "adjust",
    ]
    assert engine.reviews(goal["id"], since="2026-10-21", until="2026-10-21") == [
        backfilled["review"]
    ]

    future = (date.today() + timedelta(days=5)).isoformat()
    refuses(
        engine,
        InvalidInput,
        engine.record_goal_review,
        goal["id"],
        "forget",
        match="review outcome",
    )
    refuses(engine, InvalidInput, engine.record_goal_review, goal["id"], "keep", value_alignment=11)
    refuses(
        engine,
        InvalidInput,
        engine.record_goal_review,
        goal["id"],
        "keep",
        on=future,
        match="future",
    )
    engine.achieve(goal["id"])
    refuses(
        engine,
        Conflict,
        engine.record_goal_review,
        goal["id"],
        "retire",
        match="no longer be reviewed",
    )


def test_the_old_name_review_still_records_a_review_and_warns(engine: GoalEngine) -> None:
    jo = engine.add_client("Jo")
    goal = engine.create_goal(
        jo["id"], "Paint on Sundays", horizon="short", kind="process", domains=["behavioral"]
    )
    with pytest.warns(DeprecationWarning, match="record_goal_review"):
        reviewed = engine.review(goal["id"], "keep", value_alignment=7, on="2026-10-20")
    assert reviewed["review_count"] == 1
    assert reviewed["last_review"]["outcome"] == "keep"
    assert [(r["outcome"], r["value_alignment"]) for r in engine.reviews(goal["id"])] == [
        ("keep", 7)
    ]

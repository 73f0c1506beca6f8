"""Scaling (0-10 ratings by client, therapist or collateral) and the periodic review.

Narrated through the public API on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from goalengine import Conflict, GoalEngine, InvalidInput


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

    # Week one: Dr Lee records the rating (the rater defaults to the actor's role).
    rated = engine.scale(goal["id"], 2, on="2026-10-05")
    assert rated["scale"] == 2
    first = rated["ratings"][0]
    assert first["rater"] == "therapist"
    assert first["actor"] == {"role": "therapist", "name": "lee"}
    assert first["occurred_on"] == "2026-10-05"
    assert first["session"] == 1  # looked up from the session recorded that day
    assert first["note"] is None

    # Week two: Alex rates it in session, with what moved the number.
    rated = engine.scale(
        goal["id"],
        5,
        rater="client",
        note="  played lego twice  ",
        on="2026-10-12",
        actor="client:alex",
    )
    second = rated["ratings"][1]
    assert (second["value"], second["rater"], second["session"]) == (5, "client", 2)
    assert second["note"] == "played lego twice"
    assert second["actor"] == {"role": "client", "name": "alex"}

    # Alex's partner rates it too (collateral), on a day without a session; and a rating given an
    # explicit session number keeps it.
    third = engine.scale(goal["id"], 4, rater="collateral", on=date(2026, 10, 14))["ratings"][2]
    assert third["session"] is None
    assert third["occurred_on"] == "2026-10-14"
    fourth = engine.scale(goal["id"], 6, session=2)["ratings"][3]
    assert fourth["session"] == 2
    assert fourth["occurred_on"] is None

    # The scale is the latest rating from any rater; all of them are kept in order.
    shown = engine.get_goal(goal["id"])
    assert shown["scale"] == 6
    assert [r["value"] for r in shown["ratings"]] == [2, 5, 4, 6]
    assert [r["rater"] for r in shown["ratings"]] == [
        "therapist",
        "client",
        "collateral",
        "therapist",
    ]
    # The read model answers lists with the same latest number.
    assert engine.list_goals()[0]["scale"] == 6
    assert engine.list_goals()[0]["rated_at"] == shown["ratings"][-1]["recorded_at"]

    # Each rating is an event with its recording time, its actor and when it happened.
    scaled = [e for e in engine.history(goal["id"]) if e["event"] == "Scaled"]
    assert [e["value"] for e in scaled] == [2, 5, 4, 6]
    assert scaled[1]["actor"] == "client:alex"
    assert scaled[1]["occurred_on"] == "2026-10-12"
    assert [e["recorded_at"] for e in scaled] == [r["recorded_at"] for r in shown["ratings"]]

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
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, session=0, match="starts at 1")
    refuses(engine, InvalidInput, engine.scale, goal["id"], 5, actor="lee", match="ROLE:NAME")

    # Sessions are recorded in order, never twice, never in the future.
    refuses(engine, InvalidInput, engine.record_session, alex["id"], on=future, match="future")
    refuses(engine, InvalidInput, engine.record_session, alex["id"], on="2026-10-01", match="order")
    refuses(engine, Conflict, engine.record_session, alex["id"], number=2, match="already recorded")
    assert len(engine.get_client(alex["id"])["sessions"]) == 2


def test_sessions_mark_when_a_review_is_due(engine: GoalEngine) -> None:
    jo = engine.add_client("Jo", review_every=2)
    assert engine.record_session(jo["id"], on="2026-10-01")["review_due"] is False
    assert engine.record_session(jo["id"], on="2026-10-08")["review_due"] is True
    assert engine.get_client(jo["id"])["review_due"] is True
    assert engine.record_session(jo["id"], on="2026-10-15")["review_due"] is False
    assert [s["number"] for s in engine.get_client(jo["id"])["sessions"]] == [1, 2, 3]


def test_reviewing_whether_a_goal_is_still_the_right_one(engine: GoalEngine, refuses: Any) -> None:
    jo = engine.add_client("Jo", values=["creativity"])
    goal = engine.create_goal(
        jo["id"], "Paint on Sundays", horizon="short", kind="process", domains=["behavioral"]
    )
    reviewed = engine.review(
        goal["id"], "keep", value_alignment=8, note="  still matters  ", on="2026-10-20"
    )
    assert reviewed["reviews"] == [
        {
            "outcome": "keep",
            "actor": {"role": "therapist", "name": "lee"},
            "recorded_at": reviewed["updated_at"],
            "value_alignment": 8,
            "note": "still matters",
            "occurred_on": "2026-10-20",
        }
    ]
    engine.review(goal["id"], "ADJUST", actor="client:jo")
    reviews = engine.get_goal(goal["id"])["reviews"]
    assert [r["outcome"] for r in reviews] == ["keep", "adjust"]
    assert reviews[1]["value_alignment"] is None
    assert reviews[1]["actor"] == {"role": "client", "name": "jo"}
    entry = engine.history(goal["id"])[-1]
    assert (entry["event"], entry["outcome"], entry["actor"]) == ("Reviewed", "adjust", "client:jo")

    future = (date.today() + timedelta(days=5)).isoformat()
    refuses(engine, InvalidInput, engine.review, goal["id"], "forget", match="review outcome")
    refuses(engine, InvalidInput, engine.review, goal["id"], "keep", value_alignment=11)
    refuses(engine, InvalidInput, engine.review, goal["id"], "keep", on=future, match="future")
    engine.achieve(goal["id"])
    refuses(engine, Conflict, engine.review, goal["id"], "retire", match="no longer be reviewed")

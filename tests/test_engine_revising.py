"""Revising a goal: any field, with a reason; the event keeps each field before and after.

Narrated through the public API on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from goalengine import Conflict, GoalEngine, InvalidInput


def test_revising_keeps_before_and_after_and_the_reason(engine: GoalEngine, refuses: Any) -> None:
    alex = engine.add_client("Alex", values=["being a present parent", "health", "learning"])
    goal = engine.create_goal(
        alex["id"],
        "Feel less low",
        horizon="long",
        kind="outcome",
        domains=["emotional"],
        values=["health"],
        target="phq9<10",
        due="2027-01-31",
    )

    # Three weeks in, the goal is made more specific: new title, a different target, the values
    # it serves (by rank and by text, any case), a second domain and a scale anchor.
    revised = engine.revise(
        goal["id"][:8],
        reason="  made it measurable with Alex  ",
        title="Get PHQ-9 under 5",
        target="phq9 < 5",
        values=["1", "LEARNING"],
        domains=["emotional", "cognitive"],
        anchor_high="I wake up wanting to do things",
        actor="therapist:kim",
    )
    assert revised["title"] == "Get PHQ-9 under 5"
    assert revised["target"] == "phq9<5"
    assert revised["values"] == ["being a present parent", "learning"]
    assert revised["domains"] == ["emotional", "cognitive"]
    assert revised["anchors"] == {"low": None, "high": "I wake up wanting to do things"}
    assert revised["due"] == "2027-01-31"  # untouched
    assert revised["version"] == 2
    assert all(f["severity"] != "error" for f in revised["findings"])

    entry = engine.history(goal["id"])[-1]
    assert entry["event"] == "Revised"
    assert entry["findings"] == revised["findings"]
    assert entry["reason"] == "made it measurable with Alex"
    assert entry["actor"] == "therapist:kim"
    assert {c["field"]: (c["before"], c["after"]) for c in entry["changes"]} == {
        "title": ("Feel less low", "Get PHQ-9 under 5"),
        "target": ("phq9<10", "phq9<5"),  # a target reads as its text
        "values": (["health"], ["being a present parent", "learning"]),
        "domains": (["emotional"], ["emotional", "cognitive"]),
        "anchors": (
            {"low": None, "high": None},
            {"low": None, "high": "I wake up wanting to do things"},
        ),
    }

    # Only the fields that really change are recorded.
    engine.revise(goal["id"], reason="a rate target", title="Get PHQ-9 under 5", kind="process")
    changes = engine.history(goal["id"])[-1]["changes"]
    assert changes == [{"field": "kind", "before": "outcome", "after": "process"}]

    # The target and the due date can be cleared.
    cleared = engine.revise(goal["id"], reason="no fixed date any more", target="", due="")
    assert (cleared["target"], cleared["target_detail"], cleared["due"]) == (None, None, None)
    assert {c["field"]: c["after"] for c in engine.history(goal["id"])[-1]["changes"]} == {
        "target": None,
        "due": None,
    }

    # A long-term goal with steps stays long-term; without steps it can become short-term.
    step = engine.chain(goal["id"], "Walk every morning")
    refuses(
        engine,
        Conflict,
        engine.revise,
        goal["id"],
        reason="simpler",
        horizon="short",
        match="1 step",
    )
    refuses(engine, Conflict, engine.revise, goal["id"], reason="x", horizon="SHORT")
    engine.revise(step["id"], reason="a bigger step", horizon="long")
    assert engine.get_goal(step["id"])["horizon"] == "long"
    engine.revise(step["id"], reason="back to a step", horizon="short")

    # Refused, leaving the store as it was.
    gid = goal["id"]
    refuses(engine, InvalidInput, engine.revise, gid, reason="", title="X", match="needs a reason")
    refuses(engine, InvalidInput, engine.revise, gid, reason="   ", title="X", match="reason")
    refuses(
        engine, InvalidInput, engine.revise, gid, reason="same", kind="process", match="nothing"
    )
    refuses(engine, InvalidInput, engine.revise, gid, reason="none", match="nothing to revise")
    refuses(
        engine, InvalidInput, engine.revise, gid, reason="r", values=["money"], match="not one of"
    )
    refuses(engine, InvalidInput, engine.revise, gid, reason="r", values=["4"], match="no value 4")
    refuses(engine, InvalidInput, engine.revise, gid, reason="r", title=" ", match="empty")
    refuses(engine, InvalidInput, engine.revise, gid, reason="r", horizon="mid", match="horizon")
    refuses(engine, InvalidInput, engine.revise, gid, reason="r", domains=[], match="domain")
    refuses(engine, InvalidInput, engine.revise, gid, reason="r", target="phq9", match="target")
    refuses(engine, InvalidInput, engine.revise, gid, reason="r", due="soon", match="not a date")
    # A field revise does not take (the status changes by its own commands) is a Python error
    # of the call, before anything is loaded or recorded.
    refuses(engine, TypeError, engine.revise, gid, reason="r", colour="blue", match="colour")
    refuses(engine, TypeError, engine.revise, gid, reason="r", status="achieved", match="status")

    # A closed goal is no longer revised.
    engine.abandon(gid, reason="replaced by a clearer goal")
    refuses(
        engine, Conflict, engine.revise, gid, reason="r", title="Y", match="no longer be revised"
    )


def test_revising_a_client(engine: GoalEngine, refuses: Any) -> None:
    jo = engine.add_client("Jo", values=["art"])
    revised = engine.revise_client(
        jo["id"], reason="ranked in session 3", values=["family", "art"], review_every=6
    )
    assert revised["values"] == ["family", "art"]
    assert revised["review_every"] == 6
    entry = engine.client_history(jo["id"])[-1]
    assert entry["event"] == "Revised"
    assert entry["reason"] == "ranked in session 3"
    assert entry["changes"] == [
        {"field": "values", "before": ["art"], "after": ["family", "art"]},
        {"field": "review_every", "before": 4, "after": 6},
    ]
    # The new values can be linked to goals at once.
    goal = engine.create_goal(
        jo["id"],
        "Call mum weekly",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["family"],
    )
    assert goal["values"] == ["family"]
    refuses(engine, InvalidInput, engine.revise_client, jo["id"], reason="r", match="nothing")
    refuses(engine, InvalidInput, engine.revise_client, jo["id"], reason="", name="Joanne")
    refuses(engine, InvalidInput, engine.revise_client, jo["id"], reason="r", name="Jo")
    refuses(engine, InvalidInput, engine.revise_client, jo["id"], reason="r", review_every=99)

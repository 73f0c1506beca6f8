"""Chaining: a long-term goal broken into a ladder of short-term steps.

Narrated through the public API on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from goalengine import Conflict, GoalEngine, InvalidInput

LADDER = [
    "Stay 15 minutes at a gathering",
    "Have one conversation",
    "Stay an hour",
    "Share something personal",
    "Attend without a safety behaviour",
]


def titles(engine: GoalEngine, goal_id: str) -> list[str]:
    return [engine.get_goal(s)["title"] for s in engine.get_goal(goal_id)["steps"]]


def test_a_five_step_ladder_under_a_long_term_goal(engine: GoalEngine, refuses: Any) -> None:
    sam = engine.add_client("Sam", modality="cbt", values=["friendship"])
    goal = engine.create_goal(
        sam["id"],
        "Feel at ease at social gatherings",
        horizon="long",
        kind="outcome",
        domains=["emotional", "behavioral"],
        values=["friendship"],
        modality="cbt",
        target="gad7<10",
        due="2027-06-30",
    )

    # The ladder is built out of order: the last rung first, the others placed by position.
    last = engine.chain(goal["id"], LADDER[4])
    assert last["parent_id"] == goal["id"]
    engine.chain(goal["id"], LADDER[0], position=1)
    engine.chain(goal["id"], LADDER[2], position=2)
    engine.chain(goal["id"], LADDER[1], position=2)
    engine.chain(goal["id"], LADDER[3], position=4)
    assert titles(engine, goal["id"]) == LADDER

    # Each step is a short-term process goal of the same client, inheriting the parent's domains,
    # values and modality.
    parent = engine.get_goal(goal["id"])
    assert parent["version"] == 6  # Created + five Chained
    for step_id in parent["steps"]:
        step = engine.get_goal(step_id)
        assert step["client_id"] == sam["id"]
        assert step["parent_id"] == goal["id"]
        assert step["horizon"] == "short"
        assert step["kind"] == "process"
        assert step["domains"] == ["emotional", "behavioral"]
        assert step["values"] == ["friendship"]
        assert step["modality"] == "cbt"
        assert step["version"] == 1

    # Chaining is recorded on the parent with the position each step took (0-based in the event).
    chained = [e for e in engine.history(goal["id"]) if e["event"] == "Chained"]
    assert [e["position"] for e in chained] == [0, 0, 1, 1, 3]
    assert chained[0]["step_id"] == last["id"]

    # The goal list shows the parent followed by its steps in ladder order.
    listed = engine.list_goals(client=sam["id"])
    assert [g["title"] for g in listed] == [goal["title"], *LADDER]
    assert [g["depth"] for g in listed] == [0, 1, 1, 1, 1, 1]
    assert [g["position"] for g in listed] == [None, 1, 2, 3, 4, 5]

    # Sam finds "share something personal" easier than "stay an hour": the step moves up.
    steps = parent["steps"]
    moved = engine.move_step(steps[3][:8], 3)
    assert moved["id"] == goal["id"]
    assert titles(engine, goal["id"]) == [LADDER[0], LADDER[1], LADDER[3], LADDER[2], LADDER[4]]
    assert engine.history(goal["id"])[-1]["event"] == "StepsReordered"
    assert engine.history(goal["id"])[-1]["steps"] == engine.get_goal(goal["id"])["steps"]
    engine.move_step(steps[3], 4)  # and back again
    assert titles(engine, goal["id"]) == LADDER

    # Refused: a position out of range, moving a step to where it already is, moving a goal that
    # is not a step, and chaining under a short-term goal (a step is one).
    refuses(engine, InvalidInput, engine.chain, goal["id"], "Too far", position=7, match="1 to 6")
    refuses(engine, InvalidInput, engine.chain, goal["id"], "Too near", position=0)
    refuses(engine, InvalidInput, engine.move_step, steps[0], 6, match="choose 1 to 5")
    refuses(engine, InvalidInput, engine.move_step, steps[0], 1, match="already in that order")
    refuses(engine, InvalidInput, engine.move_step, goal["id"], 1, match="not a step")
    refuses(
        engine, Conflict, engine.chain, steps[0], "Sub-step", match="short-term goal; steps chain"
    )
    refuses(engine, InvalidInput, engine.chain, goal["id"], "  ", match="title must not be empty")


def test_create_goal_with_a_parent_is_a_chain_too(engine: GoalEngine, refuses: Any) -> None:
    alex = engine.add_client("Alex", values=["health", "family"])
    jo = engine.add_client("Jo")
    goal = engine.create_goal(
        alex["id"], "Run a 5k", horizon="long", kind="outcome", domains=["behavioral"]
    )
    first = engine.create_goal(
        alex["id"],
        "Walk 20 minutes three times a week",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["family"],
        parent=goal["id"][:6],
    )
    second = engine.create_goal(
        alex["id"],
        "Walk 10 minutes daily",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        parent=goal["id"],
        position=1,
    )
    assert first["values"] == ["family"]  # given explicitly, not inherited
    parent = engine.get_goal(goal["id"])
    assert parent["steps"] == [second["id"], first["id"]]
    assert [e["event"] for e in engine.history(goal["id"])] == ["Created", "Chained", "Chained"]

    # A step belongs to its parent's client: a goal of Jo's cannot be chained under Alex's goal.
    refuses(
        engine,
        InvalidInput,
        engine.create_goal,
        jo["id"],
        "Jo's step",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        parent=goal["id"],
        match="belongs to another client",
    )
    # A step is short-term: nothing chains under it.
    refuses(
        engine,
        Conflict,
        engine.create_goal,
        alex["id"],
        "Sub-step",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        parent=first["id"],
        match="short-term",
    )
    # Once the parent is closed it takes no more steps, and its steps can no longer be reordered.
    engine.achieve(goal["id"])
    refuses(engine, Conflict, engine.chain, goal["id"], "Late step", match="no longer be given")
    refuses(engine, Conflict, engine.move_step, first["id"], 1, match="no longer be reordered")

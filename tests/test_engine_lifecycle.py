"""The lifecycle: active ⇄ paused → achieved | abandoned (terminal); void from any state.

Narrated through the public API on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from goalengine import Conflict, GoalEngine, InvalidInput


def new_goal(engine: GoalEngine, client_id: str, title: str) -> dict[str, Any]:
    return engine.create_goal(
        client_id, title, horizon="long", kind="process", domains=["behavioral"]
    )


def test_pausing_resuming_achieving_and_abandoning(engine: GoalEngine, refuses: Any) -> None:
    alex = engine.add_client("Alex")
    walk = new_goal(engine, alex["id"], "Walk after lunch")

    # Alex is ill for a fortnight: the goal is paused, and resumed when Alex is back.
    paused = engine.pause(walk["id"], note="flu")
    assert (paused["status"], paused["status_note"]) == ("paused", "flu")
    refuses(engine, Conflict, engine.pause, walk["id"], match="already paused")
    resumed = engine.resume(walk["id"])
    assert (resumed["status"], resumed["status_note"]) == ("active", None)
    refuses(engine, Conflict, engine.resume, walk["id"], match="already active")

    # A paused goal is still open: it can be achieved straight from pause.
    engine.pause(walk["id"])
    achieved = engine.achieve(walk["id"], note="walked daily for a month")
    assert achieved["status"] == "achieved"
    assert achieved["findings"] == []
    events = [e["event"] for e in engine.history(walk["id"])]
    assert events == ["Created", "Paused", "Resumed", "Paused", "Achieved"]

    # Achieved is terminal. The refusal says which goal, what became of it and when.
    today = datetime.now(UTC).date().isoformat()
    short = walk["id"][:8]
    for call, args, doing in (
        (engine.scale, (walk["id"], 7), "scaled"),
        (engine.resume, (walk["id"],), "resumed"),
        (engine.pause, (walk["id"],), "paused"),
        (engine.chain, (walk["id"], "One more step"), "given steps"),
        (engine.revise, (walk["id"],), "revised"),
    ):
        kwargs = {"reason": "r", "title": "T"} if call == engine.revise else {}
        error = refuses(engine, Conflict, call, *args, **kwargs)
        assert error.message == (
            f"goal {short} was achieved on {today}; it can no longer be {doing}"
        ), error.message
        assert error.exit_code == 1
    refuses(engine, Conflict, engine.achieve, walk["id"], match="already achieved")
    refuses(engine, Conflict, engine.abandon, walk["id"], reason="r", match="was achieved")

    # Abandoning needs a reason, and is terminal too.
    gym = new_goal(engine, alex["id"], "Join a gym")
    refuses(engine, InvalidInput, engine.abandon, gym["id"], reason="", match="needs a reason")
    refuses(engine, InvalidInput, engine.abandon, gym["id"], reason="  ", match="needs a reason")
    abandoned = engine.abandon(gym["id"], reason="  prefers walking outside ")
    assert (abandoned["status"], abandoned["status_note"]) == (
        "abandoned",
        "prefers walking outside",
    )
    error = refuses(engine, Conflict, engine.scale, gym["id"], 3)
    assert (
        error.message
        == f"goal {gym['id'][:8]} was abandoned on {today}; it can no longer be scaled"
    )
    assert error.details == {"goal_id": gym["id"], "status": "abandoned"}
    refuses(engine, Conflict, engine.resume, gym["id"], match="was abandoned")
    refuses(engine, Conflict, engine.achieve, gym["id"], match="was abandoned")

    # Every transition is an event with its actor and note.
    entry = engine.history(gym["id"])[-1]
    assert (entry["event"], entry["note"], entry["actor"]) == (
        "Abandoned",
        "prefers walking outside",
        "therapist:lee",
    )
    assert [g["status"] for g in engine.list_goals()] == ["achieved", "abandoned"]
    assert [g["title"] for g in engine.list_goals(status="abandoned")] == ["Join a gym"]
    refuses(engine, InvalidInput, engine.list_goals, status="finished", match="unknown status")


@pytest.mark.parametrize("before", ["active", "paused", "achieved", "abandoned"])
def test_void_from_any_state_is_kept_in_history_and_left_out_of_lists(
    engine: GoalEngine, refuses: Any, before: str
) -> None:
    alex = engine.add_client("Alex")
    kept = new_goal(engine, alex["id"], "A real goal")
    mistake = new_goal(engine, alex["id"], "Entered for the wrong client")
    step = engine.chain(mistake["id"], "A step of the mistake")
    engine.scale(mistake["id"], 3)
    if before == "paused":
        engine.pause(mistake["id"])
    elif before == "achieved":
        engine.achieve(mistake["id"])
    elif before == "abandoned":
        engine.abandon(mistake["id"], reason="gave up")

    refuses(engine, InvalidInput, engine.void, mistake["id"], reason="", match="needs a reason")
    voided = engine.void(mistake["id"][:6], reason="belongs to Alex B., not Alex A.")
    assert voided["status"] == "voided"
    assert voided["status_note"] == "belongs to Alex B., not Alex A."

    # Kept: the goal, its ratings and every earlier event are still there.
    shown = engine.get_goal(mistake["id"])
    assert shown["status"] == "voided"
    assert shown["scale"] == 3
    history = engine.history(mistake["id"])
    assert history[-1]["event"] == "Voided"
    assert history[-1]["note"] == "belongs to Alex B., not Alex A."
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))

    # Left out of lists unless asked for.
    ids = {g["id"] for g in engine.list_goals()}
    assert ids == {kept["id"], step["id"]}  # its step was not voided
    assert [g["id"] for g in engine.list_goals(status="voided")] == [mistake["id"]]
    all_ids = [g["id"] for g in engine.list_goals(include_voided=True)]
    assert sorted(all_ids) == sorted([kept["id"], mistake["id"], step["id"]])
    assert engine.list_clients()[0]["goals"] == {"active": 2}

    # Nothing more happens to a voided goal, and it is not voided twice.
    refuses(engine, Conflict, engine.void, mistake["id"], reason="again", match="already voided")
    error = refuses(engine, Conflict, engine.scale, mistake["id"], 5)
    assert "entered in error (voided)" in error.message
    refuses(engine, Conflict, engine.resume, mistake["id"], match="voided")

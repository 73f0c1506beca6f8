"""History, as-of versions, read-model rebuilds and snapshots.

Narrated through the public API on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from goalengine import GoalEngine, InvalidInput, NotFound
from goalengine.store import SNAPSHOT_INTERVAL


def build_case(engine: GoalEngine) -> dict[str, Any]:
    """A small but complete case: every kind of goal event."""
    sam = engine.add_client("Sam", modality="cbt", values=["friendship", "courage"])
    goal = engine.create_goal(
        sam["id"],
        "Feel at ease at gatherings",
        horizon="long",
        kind="outcome",
        domains=["emotional"],
        values=["1"],
        target="gad7<10",
        due="2027-06-30",
        attributes={"technique": "exposure"},
    )
    a = engine.chain(goal["id"], "Stay 15 minutes")
    b = engine.chain(goal["id"], "Have one conversation")
    engine.move_step(b["id"], 1)
    engine.record_session(sam["id"], on="2026-10-01")
    engine.scale(goal["id"], 2, on="2026-10-01", note="dreading it")
    engine.scale(goal["id"], 3, rater="client", actor="client:sam")
    engine.revise(goal["id"], reason="measurable", target="gad7<=5", values=["courage"])
    engine.record_goal_review(goal["id"], "adjust", value_alignment=7, note="closer to courage")
    engine.pause(goal["id"], note="exams")
    engine.resume(goal["id"])
    engine.achieve(a["id"], note="did it twice")
    engine.abandon(b["id"], reason="too big a step for now")
    return {"client": sam, "goal": goal, "steps": [a, b]}


def test_history_lists_every_event_with_who_when_and_what(engine: GoalEngine) -> None:
    case = build_case(engine)
    history = engine.history(case["goal"]["id"][:8])
    assert [e["event"] for e in history] == [
        "Created",
        "Chained",
        "Chained",
        "StepsReordered",
        "Scaled",
        "Scaled",
        "Revised",
        "Reviewed",
        "Paused",
        "Resumed",
    ]
    assert [e["version"] for e in history] == list(range(1, 11))
    assert [e["actor"] for e in history].count("client:sam") == 1
    times = [datetime.fromisoformat(e["recorded_at"]) for e in history]
    assert all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)
    assert times == sorted(times)
    assert all(isinstance(e["findings"], list) for e in history)
    created = history[0]
    assert created["client_id"] == case["client"]["id"]
    assert created["spec"]["title"] == "Feel at ease at gatherings"
    assert created["spec"]["attributes"] == [["technique", "exposure"]]
    assert created["spec"]["target"] == "gad7<10"  # a target reads as its text
    assert created["parent_id"] is None
    revised = history[6]
    assert revised["reason"] == "measurable"
    assert [c["field"] for c in revised["changes"]] == ["values", "target"]
    assert revised["changes"][1] == {"field": "target", "before": "gad7<10", "after": "gad7<=5"}
    assert revised["changes"][0] == {
        "field": "values",
        "before": ["friendship"],
        "after": ["courage"],
    }
    # The audit feed reads each event the same way (a target as its text there too).
    feed = [e for e in engine.audit_log() if e["aggregate_id"] == case["goal"]["id"]]
    assert [e["event"] for e in feed] == [e["event"] for e in history]
    assert feed[0]["spec"] == created["spec"]
    assert feed[6]["changes"] == revised["changes"]
    # A client's history is kept the same way.
    client_events = [e["event"] for e in engine.client_history(case["client"]["id"])]
    assert client_events == ["Registered", "SessionRecorded"]


def test_a_goal_as_it_was_at_each_version(
    engine: GoalEngine, refuses: Any, fold_history: Any, fold_series: Any
) -> None:
    case = build_case(engine)
    goal_id = case["goal"]["id"]
    history = engine.history(goal_id)
    # The state at version N is the state just after the N-th event: replaying the first N
    # entries of the history gives it.
    # The series up to version N are the ratings and reviews among those entries.
    for n in range(1, len(history) + 1):
        assert engine.get_goal(goal_id, version=n) == fold_history(goal_id, history[:n])
        ratings, reviews = fold_series(goal_id, history[:n])
        assert engine.ratings(goal_id, version=n, order="oldest") == ratings
        assert engine.reviews(goal_id, version=n, order="oldest") == reviews
    assert engine.get_goal(goal_id) == fold_history(goal_id, history)
    ratings, reviews = fold_series(goal_id, history)
    assert [r["value"] for r in ratings] == [2, 3]
    assert engine.ratings(goal_id) == ratings[::-1]
    assert engine.reviews(goal_id) == reviews[::-1] != []
    assert engine.get_goal(goal_id, version=4)["steps"] == [s["id"] for s in case["steps"]][::-1]
    assert engine.get_goal(goal_id, version=5)["scale"] == 2
    assert engine.get_goal(goal_id, version=6)["target"] == "gad7<10"
    assert engine.get_goal(goal_id, version=7)["target"] == "gad7<=5"
    assert engine.get_goal(goal_id, version=9)["status"] == "paused"
    refuses(
        engine,
        InvalidInput,
        engine.get_goal,
        goal_id,
        version=0,
        match="whole number starting at 1",
    )
    refuses(engine, NotFound, engine.get_goal, goal_id, version=11, match="no version 11")
    for step in case["steps"]:
        assert engine.get_goal(step["id"]) == fold_history(step["id"], engine.history(step["id"]))


def test_rebuilding_the_read_models_gives_identical_results(engine: GoalEngine) -> None:
    case = build_case(engine)
    engine.void(case["steps"][1]["id"], reason="duplicate")
    before = engine.fingerprint()
    listed, clients = engine.list_goals(include_voided=True), engine.list_clients()
    counts = engine.rebuild_read_models()
    assert counts == {
        "goals": 3,
        "clients": 1,
        "ratings": 2,
        "reviews": 1,
        "sessions": 1,
        "events": before["events"],
    }
    assert set(before["read_models"]) == {
        "goalengine_goals",
        "goalengine_clients",
        "goalengine_ratings",
        "goalengine_reviews",
        "goalengine_sessions",
    }
    assert [len(before["read_models"][f"goalengine_{t}"]) for t in counts if t != "events"] == [
        counts[t] for t in counts if t != "events"
    ]
    series = engine.ratings(case["goal"]["id"]), engine.reviews(case["goal"]["id"])
    sessions = engine.sessions(case["client"]["id"])
    assert engine.fingerprint() == before
    assert engine.list_goals(include_voided=True) == listed
    assert engine.list_clients() == clients
    assert (engine.ratings(case["goal"]["id"]), engine.reviews(case["goal"]["id"])) == series
    assert engine.sessions(case["client"]["id"]) == sessions


def test_rebuilding_repairs_read_models_from_the_log(store_kind: str, store_url: str) -> None:
    """Read-model rows damaged behind the engine's back come back from the events alone."""
    if store_kind == "memory":
        return  # no second connection reaches an in-memory store
    with GoalEngine(store_url, actor="therapist:lee") as engine:
        build_case(engine)
        before = engine.fingerprint()
        _damage(store_url)
        damaged = engine.fingerprint()
        assert damaged["events_sha256"] == before["events_sha256"]
        assert damaged["read_models"] != before["read_models"]
        engine.rebuild_read_models()
        assert engine.fingerprint() == before


def _damage(store_url: str) -> None:
    statements = [
        "DELETE FROM {s}goalengine_clients",
        "UPDATE {s}goalengine_goals SET status = 'achieved', doc = '{{}}'",
        "INSERT INTO {s}goalengine_goals VALUES ('x', 'y', 'active', '2026', '{{}}')",
    ]
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(Path(store_url[len("sqlite:///") :])) as conn:
            for statement in statements:
                conn.execute(statement.format(s=""))
        return
    import psycopg

    dsn, _, schema = store_url.partition("?schema=")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(s=f'"{schema}".'))


def test_a_long_history_loads_the_same_from_snapshots(
    engine: GoalEngine, fold_history: Any, fold_series: Any
) -> None:
    """Snapshots are taken every SNAPSHOT_INTERVAL events; loading from one gives exactly the
    state that replaying every event gives."""
    alex = engine.add_client("Alex", values=["health"])
    goal = engine.create_goal(
        alex["id"], "Sleep by 11", horizon="long", kind="process", domains=["behavioral"]
    )
    for n in range(130):
        if n % 40 == 20:
            engine.revise(goal["id"], reason=f"week {n}", title=f"Sleep by 11 (v{n})")
        elif n % 25 == 10:
            engine.chain(goal["id"], f"Step {n}", position=1)
        elif n % 30 == 15:
            engine.pause(goal["id"], note=f"holiday {n}")
            engine.resume(goal["id"])
        else:
            engine.scale(goal["id"], n % 11, note=f"night {n}")
    history = engine.history(goal["id"])
    assert len(history) > 120 > 2 * SNAPSHOT_INTERVAL
    live = engine.get_goal(goal["id"])
    assert live == fold_history(goal["id"], history)
    assert live["version"] == len(history)
    assert live["rating_count"] == sum(e["event"] == "Scaled" for e in history)
    ratings, _ = fold_series(goal["id"], history)
    assert engine.ratings(goal["id"], order="oldest", limit=1000) == ratings
    if engine.store_url.startswith("sqlite:///"):
        # The snapshots really are there, so the load above started from the latest one.
        with sqlite3.connect(engine.store_url[len("sqlite:///") :]) as conn:
            taken = conn.execute(
                "SELECT originator_version FROM stored_snapshots WHERE originator_id = ?",
                (goal["id"].replace("-", ""),),
            ).fetchall()
        every = list(range(SNAPSHOT_INTERVAL, len(history) + 1, SNAPSHOT_INTERVAL))
        assert sorted(v for (v,) in taken) == every
    # As-of reads that start from a snapshot agree with the fold too.
    for n in (
        SNAPSHOT_INTERVAL - 1,
        SNAPSHOT_INTERVAL,
        SNAPSHOT_INTERVAL + 1,
        2 * SNAPSHOT_INTERVAL + 7,
    ):
        assert engine.get_goal(goal["id"], version=n) == fold_history(goal["id"], history[:n])

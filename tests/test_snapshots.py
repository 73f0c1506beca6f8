"""Snapshots: small, taken every SNAPSHOT_INTERVAL events, never a reason for a command to fail, and old ones
upcast.

The goal keeps the latest rating of each rater and counts, the client its last session and a
count (class version 2), so a snapshot at version 100 is the size of the one at version 50; a
snapshot loads to exactly the state folded from the events; eventsourcing's ``take_snapshot``
works for every aggregate type; a snapshot that cannot be taken is logged, never raised; and the
version-1 snapshots of the golden store (which kept every rating, review and session) are upcast
when loaded. Run on memory://, a SQLite file and PostgreSQL where the store matters.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from goalengine import GoalEngine
from goalengine.aggregates import Client, Goal
from goalengine.audit import offline
from goalengine.audit.access import AuditAccess
from goalengine.store import FORMAT_VERSION, SNAPSHOT_INTERVAL

GOLDEN = Path(__file__).resolve().parent / "golden"
RATERS = ("client", "therapist", "collateral")
VERSIONS = (50, 51, 100, 101)


# -- helpers --------------------------------------------------------------------------------------


def _intervals(versions: int) -> list[int]:
    """The versions at which a snapshot is taken, up to ``versions``."""
    return list(range(SNAPSHOT_INTERVAL, versions + 1, SNAPSHOT_INTERVAL))


def _stored_snapshots(engine: GoalEngine, oid: str) -> dict[int, bytes]:
    """The snapshots the store holds for ``oid`` (version → the stored bytes), on any store."""
    snapshots: Any = engine._store.app.snapshots
    assert snapshots is not None, "snapshotting is enabled on every store"
    return {
        s.originator_version: bytes(s.state) for s in snapshots.recorder.select_events(UUID(oid))
    }


def _sqlite_snapshots(path: Path, oid: str) -> dict[int, bytes]:
    """The same, read straight from eventsourcing's table in a SQLite store file."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT originator_version, state FROM stored_snapshots WHERE originator_id = ? "
            "ORDER BY originator_version",
            (UUID(oid).hex,),
        ).fetchall()
    finally:
        conn.close()
    return {int(v): bytes(state) for v, state in rows}


def _state_of(stored: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(stored)
    state: dict[str, Any] = doc["state"]
    return state


def _sqlite_path(engine: GoalEngine) -> Path | None:
    path = engine._store.config.path
    return Path(path) if path is not None and engine._store.config.kind == "sqlite" else None


def _folded(
    engine: GoalEngine, tmp_path: Path, oid: str, versions: tuple[int | None, ...]
) -> dict[int | None, dict[str, Any]]:
    """The aggregate's state at each of ``versions`` (None: now), folded from an export of its
    events alone: no store, no repository, no snapshot."""
    path = tmp_path / f"fold-{oid[:8]}-{uuid4().hex[:8]}.jsonl"
    engine.export(path)
    data = offline.load(path)
    mapper = offline.make_mapper()
    lines = sorted(
        (line for line in data.lines if line["originator_id"] == oid),
        key=lambda line: line["originator_version"],
    )
    assert [line["originator_version"] for line in lines] == list(range(1, len(lines) + 1))
    out: dict[int | None, dict[str, Any]] = {}
    aggregate: Any = None
    for line in lines:
        event: Any = mapper.to_domain_event(
            StoredEvent(
                originator_id=UUID(oid),
                originator_version=line["originator_version"],
                topic=line["topic"],
                state=line["_state"],
            )
        )
        aggregate = event.mutate(aggregate)
        if aggregate.version in versions:
            out[aggregate.version] = offline.state_of(aggregate)
    out[None] = offline.state_of(aggregate)
    # The whole-export replay agrees with the fold of this aggregate's lines.
    replayed, _ = offline.replay(data)
    assert offline.state_of(replayed[oid]) == out[None]
    return out


def _day(entry: dict[str, Any]) -> str:
    return str(entry["occurred_on"] or entry["recorded_at"][:10])


def _series_from_history(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """What a goal keeps of its series, computed from its history entries alone: the latest
    rating of each rater and the last review by when they happened (day, then recording time),
    the counts, the scale."""
    latest: dict[str, dict[str, Any]] = {}
    last_review: dict[str, Any] | None = None
    ratings = reviews = 0
    for e in entries:
        if e["event"] == "Scaled":
            ratings += 1
            doc = {
                "value": e["value"],
                "rater": e["rater"],
                "actor": e["actor"],
                "recorded_at": e["recorded_at"],
                "note": e["note"],
                "session": e["session"],
                "occurred_on": e["occurred_on"],
                "day": _day(e),
            }
            current = latest.get(e["rater"])
            if current is None or (current["day"], current["recorded_at"]) <= (
                doc["day"],
                doc["recorded_at"],
            ):
                latest[e["rater"]] = doc
        elif e["event"] == "Reviewed":
            reviews += 1
            doc = {
                "outcome": e["outcome"],
                "actor": e["actor"],
                "recorded_at": e["recorded_at"],
                "value_alignment": e["value_alignment"],
                "note": e["note"],
                "occurred_on": e["occurred_on"],
                "day": _day(e),
            }
            if last_review is None or (last_review["day"], last_review["recorded_at"]) <= (
                doc["day"],
                doc["recorded_at"],
            ):
                last_review = doc
    top = max(latest.values(), key=lambda r: (r["day"], r["recorded_at"])) if latest else None
    return {
        "scale": top["value"] if top else None,
        "rated_at": top["recorded_at"] if top else None,
        "latest_ratings": {r: latest[r] for r in RATERS if r in latest},
        "rating_count": ratings,
        "last_review": last_review,
        "review_count": reviews,
        "version": entries[-1]["version"],
        "updated_at": entries[-1]["recorded_at"],
    }


def _long_goal(engine: GoalEngine, ratings: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A goal rated ``ratings`` times by all three raters, with backfilled and undated ratings,
    sessions and a review every 25 ratings."""
    alex = engine.add_client("Alex", values=["being a present parent"])
    goal = engine.create_goal(
        alex["id"],
        "Play with the kids after work",
        horizon="long",
        kind="process",
        domains=["behavioral"],
    )
    start = date.today() - timedelta(days=ratings + 10)
    for i in range(ratings):
        on = None if i % 7 == 6 else start + timedelta(days=i - (5 if i % 5 == 4 else 0))
        engine.scale(
            goal["id"],
            (i * 3) % 11,
            rater=RATERS[i % 3],
            note="a short note" if i % 4 == 0 else None,
            on=on,
        )
        if i % 25 == 24:
            engine.record_goal_review(goal["id"], "keep", value_alignment=i % 11, on=on)
    return alex, goal


# -- small snapshots ------------------------------------------------------------------------------


def test_a_goal_rated_120_times_loads_as_folded_and_its_snapshots_stay_small(
    engine: GoalEngine, tmp_path: Path
) -> None:
    _, goal = _long_goal(engine, 120)
    gid = goal["id"]
    history = engine.history(gid)
    assert len(history) == 1 + 120 + 4  # created, 120 ratings, 4 reviews
    assert 100 % SNAPSHOT_INTERVAL == 0  # versions 50 and 100 are snapshots, 51 and 101 not

    # Loaded through the snapshots, now and on either side of each, the goal is the state folded
    # from its events alone: by the aggregate's own code from an export, and (what it keeps of
    # its series) by this test from its history entries.
    folded = _folded(engine, tmp_path, gid, VERSIONS)
    now = engine.get_goal(gid)
    assert now == folded[None]
    assert now["version"] == len(history)
    assert now["rating_count"] == 120
    assert now["review_count"] == 4
    assert set(now["latest_ratings"]) == set(RATERS)
    assert "ratings" not in now
    assert "reviews" not in now
    assert {k: now[k] for k in _series_from_history(history)} == _series_from_history(history)
    for version in VERSIONS:
        then = engine.get_goal(gid, version=version)
        assert then == folded[version], version
        expected = _series_from_history(history[:version])
        assert {k: then[k] for k in expected} == expected, version
    # The read model's row of the goal is the same state.
    assert next(g for g in engine.list_goals() if g["id"] == gid)["scale"] == now["scale"]
    assert len(engine.ratings(gid)) == 120

    # The stored snapshots: every SNAPSHOT_INTERVAL versions, of class version 2, without the
    # series, and the one at 100 about the size of the one at 50 (a list of ratings would double
    # it).
    stored = _stored_snapshots(engine, gid)
    assert sorted(stored) == _intervals(len(history))
    path = _sqlite_path(engine)
    if path is not None:
        assert _sqlite_snapshots(path, gid) == stored
    for version, raw in stored.items():
        state = _state_of(raw)
        assert state["class_version"] == 2, version
        assert "ratings" not in state, version
        assert "reviews" not in state, version
        assert {"latest_ratings", "rating_count", "last_review", "review_count"} <= set(state)
        assert state["rating_count"] == sum(1 for e in history[:version] if e["event"] == "Scaled")
        assert len(state["latest_ratings"]) == 3
    assert abs(len(stored[100]) - len(stored[50])) <= 0.1 * len(stored[50]), (
        len(stored[50]),
        len(stored[100]),
    )

    # The engine's own check compares every stored snapshot with the replayed state.
    report = engine.verify()
    assert report["ok"], report["problems"]


def test_a_client_with_110_sessions_loads_as_folded_and_its_snapshots_stay_small(
    engine: GoalEngine, tmp_path: Path
) -> None:
    jo = engine.add_client("Jo", review_every=4)
    cid = jo["id"]
    first = date(2026, 1, 5)
    for i in range(110):
        engine.record_session(cid, on=first + timedelta(days=i))
    history = engine.client_history(cid)
    assert len(history) == 111

    folded = _folded(engine, tmp_path, cid, VERSIONS)
    now = engine.get_client(cid)
    assert {k: v for k, v in now.items() if k != "goals"} == folded[None]
    assert now["session_count"] == 110
    assert now["last_session"] == {"number": 110, "on": (first + timedelta(days=109)).isoformat()}
    assert "sessions" not in now
    for version in VERSIONS:
        then = engine.audit_show(cid, version=version)
        assert then == folded[version], version
        assert then["session_count"] == version - 1
        assert then["last_session"] == {
            "number": version - 1,
            "on": (first + timedelta(days=version - 2)).isoformat(),
        }
    assert [s["number"] for s in engine.sessions(cid, limit=3)] == [110, 109, 108]

    stored = _stored_snapshots(engine, cid)
    assert sorted(stored) == _intervals(len(history))
    path = _sqlite_path(engine)
    if path is not None:
        assert _sqlite_snapshots(path, cid) == stored
    for version, raw in stored.items():
        state = _state_of(raw)
        assert state["class_version"] == 2, version
        assert "sessions" not in state, version
        assert state["session_count"] == version - 1
        assert "last_session" in state
        assert state["last_session"] is not None
    assert abs(len(stored[100]) - len(stored[50])) <= 0.1 * len(stored[50])
    report = engine.verify()
    assert report["ok"], report["problems"]


# -- take_snapshot for every aggregate type -------------------------------------------------------


def test_a_snapshot_can_be_taken_of_every_aggregate_type(
    engine: GoalEngine, tmp_path: Path
) -> None:
    alex, goal = _long_goal(engine, 7)
    gid, cid = goal["id"], alex["id"]
    engine.record_session(cid, on=date.today() - timedelta(days=1))
    engine.record_goal_review(gid, "adjust", note="smaller steps")
    engine.audit_history(gid)
    access = list(engine.audit_log(access=True))[-1]
    assert access["aggregate_type"] == "access"
    aid = access["aggregate_id"]

    app: Any = engine._store.app
    goal_before = engine.get_goal(gid)
    client_before = engine.get_client(cid)
    access_before = app.repository.get(UUID(aid))
    assert isinstance(access_before, AuditAccess)
    events_before = engine.fingerprint()

    # This is eventsourcing's own method (the engine takes snapshots through it every
    # SNAPSHOT_INTERVAL events).
    for oid in (gid, cid, aid):
        app.take_snapshot(UUID(oid))
    assert sorted(_stored_snapshots(engine, gid)) == [goal_before["version"]]
    assert sorted(_stored_snapshots(engine, cid)) == [client_before["version"]]
    assert sorted(_stored_snapshots(engine, aid)) == [1]
    assert _state_of(_stored_snapshots(engine, gid)[goal_before["version"]])["class_version"] == 2
    assert _state_of(_stored_snapshots(engine, cid)[client_before["version"]])["class_version"] == 2
    # A snapshot records no event and no read-model row.
    assert engine.fingerprint() == events_before

    # Loaded from those snapshots, each is what it was.
    assert engine.get_goal(gid) == goal_before
    assert engine.get_client(cid) == client_before
    loaded = app.repository.get(UUID(aid))
    assert isinstance(loaded, AuditAccess)
    assert (loaded.id, loaded.version) == (access_before.id, 1)
    assert (loaded.action, loaded.subject, loaded.detail, loaded.actor) == (
        access_before.action,
        access_before.subject,
        access_before.detail,
        access_before.actor,
    )
    assert isinstance(app.repository.get(UUID(gid)), Goal)
    assert isinstance(app.repository.get(UUID(cid)), Client)
    folded = _folded(engine, tmp_path, gid, ())
    assert goal_before == folded[None]

    # And they go on from there.
    rating = engine.scale(gid, 9, rater="client")
    assert rating["version"] == goal_before["version"] + 1
    after = engine.get_goal(gid)
    assert (after["scale"], after["rating_count"]) == (9, goal_before["rating_count"] + 1)
    session = engine.record_session(cid)
    assert session["number"] == client_before["session_count"] + 1
    report = engine.verify()
    assert report["ok"], report["problems"]


# -- a failing snapshot ---------------------------------------------------------------------------


def test_a_snapshot_that_fails_never_fails_the_command(
    engine: GoalEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alex = engine.add_client("Alex")
    goal = engine.create_goal(
        alex["id"], "Walk daily", horizon="short", kind="process", domains=["behavioral"]
    )
    gid = goal["id"]

    def broken(cls: Any, aggregate: Any) -> Any:
        raise RuntimeError("the snapshot store is full")

    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.WARNING):
        patch.setattr(Snapshot, "take", classmethod(broken))
        with pytest.raises(RuntimeError):  # the patch is in place
            Snapshot.take(object())
        # Every rating across two snapshot intervals is recorded and returned.
        for i in range(1, 61):
            rating = engine.scale(gid, i % 11)
            assert rating["version"] == i + 1
            assert rating["value"] == i % 11
    assert "snapshot not taken" in caplog.text
    assert "the snapshot store is full" in caplog.text

    assert len(engine.history(gid)) == 61
    shown = engine.get_goal(gid)
    assert (shown["version"], shown["rating_count"], shown["scale"]) == (61, 60, 60 % 11)
    assert len(engine.ratings(gid)) == 60
    assert _stored_snapshots(engine, gid) == {}  # none was taken at any interval
    report = engine.verify()
    assert report["ok"], report["problems"]

    # Without the fault, the next interval takes one again.
    for i in range(61, 100):
        engine.scale(gid, i % 11)
    assert sorted(_stored_snapshots(engine, gid)) == [v for v in _intervals(100) if v > 61]
    assert engine.get_goal(gid) == _folded(engine, tmp_path, gid, ())[None]
    assert engine.get_goal(gid)["version"] == 100
    report = engine.verify()
    assert report["ok"], report["problems"]


# -- version-1 snapshots of the golden store ------------------------------------------------------


def _golden_copy(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    shutil.copy(GOLDEN / "golden-snapshots.sqlite", path)
    return path


def test_version_1_snapshots_are_upcast_when_loaded(tmp_path: Path) -> None:
    path = _golden_copy(tmp_path, "golden.db")
    # Without snapshots, the same store loads every version by replaying all of its events.
    bare = _golden_copy(tmp_path, "bare.db")
    conn = sqlite3.connect(bare)
    with conn:
        conn.execute("DELETE FROM stored_snapshots")
    conn.close()

    with (
        GoalEngine(f"sqlite:///{path}", actor="therapist:kim") as engine,
        GoalEngine(f"sqlite:///{bare}", actor="therapist:kim") as replayed,
    ):
        assert engine.store_info()["format"] == FORMAT_VERSION  # upgraded on open
        goals = engine.list_goals(include_voided=True)
        gid = max(goals, key=lambda g: len(engine.history(g["id"])))["id"]
        cid = max(engine.list_clients(), key=lambda c: len(engine.client_history(c["id"])))["id"]
        assert len(engine.history(gid)) == 125

        # The snapshots are the ones goalengine 0.1.0 wrote: class version 1, every rating kept.
        old = _sqlite_snapshots(path, gid)
        assert sorted(old) == [50, 100]
        for raw in old.values():
            state = _state_of(raw)
            assert "class_version" not in state
            assert "ratings" in state
            assert "reviews" in state
        old_client = _sqlite_snapshots(path, cid)
        assert sorted(old_client) == [50, 100]
        assert all("sessions" in _state_of(raw) for raw in old_client.values())

        # Loaded through them (upcast), the goal is what its events fold to, at each version.
        folded = _folded(engine, tmp_path, gid, VERSIONS)
        for version in (*VERSIONS, None):
            got = engine.get_goal(gid, version=version)
            assert got == folded[version], version
            assert got == replayed.get_goal(gid, version=version), version
            assert "ratings" not in got
            assert "reviews" not in got
        history = engine.history(gid)
        for version in (*VERSIONS, len(history)):
            then = engine.get_goal(gid, version=version)
            expected = _series_from_history(history[:version])
            assert {k: then[k] for k in expected} == expected, version

        # So is the client, whose version-1 snapshots kept every session.
        folded_client = _folded(engine, tmp_path, cid, VERSIONS)
        for version in VERSIONS:
            assert engine.audit_show(cid, version=version) == folded_client[version], version
        now = {k: v for k, v in engine.get_client(cid).items() if k != "goals"}
        assert now == folded_client[None]
        assert now == {k: v for k, v in replayed.get_client(cid).items() if k != "goals"}

        # The engine's check upcasts the stored snapshots before comparing them.
        report = engine.verify()
        assert report["ok"], report["problems"]

        # Going on, the next snapshots are version 2, without the series; the old stay as they
        # were and still load.
        version = engine.get_goal(gid)["version"]
        while version < 150:
            version = engine.scale(gid, 5, rater="therapist")["version"]
        new = _sqlite_snapshots(path, gid)
        assert sorted(new) == sorted({50, 100, *(v for v in _intervals(150) if v > 125)})
        assert new[50] == old[50]
        assert new[100] == old[100]
        state = _state_of(new[150])
        assert state["class_version"] == 2
        assert "ratings" not in state
        assert "reviews" not in state
        assert len(new[150]) < len(old[100])
        assert engine.get_goal(gid) == _folded(engine, tmp_path, gid, ())[None]
        assert engine.get_goal(gid, version=101) == folded[101]
        report = engine.verify()
        assert report["ok"], report["problems"]

"""Audit through the public API: past states, the feed, the access log, checkpoints, upgrades."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import make_store_url
from goalengine import GoalEngine, InvalidInput, NotFound
from goalengine.audit import feed
from goalengine.errors import IntegrityFailure
from goalengine.store import FORMAT_VERSION


def _case(engine: GoalEngine) -> dict[str, Any]:
    client = engine.add_client("Alex", values=["being a present parent", "health"])
    goal = engine.create_goal(
        client["id"], "Walk after lunch", horizon="long", kind="process", domains=["behavioral"]
    )
    engine.scale(goal["id"], 2)
    engine.revise(goal["id"], reason="make it concrete", title="Walk 20 minutes after lunch")
    step = engine.chain(goal["id"], "Walk 5 minutes")
    engine.scale(goal["id"], 5, actor="client:alex")
    engine.pause(goal["id"], note="holiday")
    engine.record_session(client["id"])
    return {"client": client["id"], "goal": goal["id"], "step": step["id"]}


def _times(engine: GoalEngine, goal_id: str) -> list[datetime]:
    return [datetime.fromisoformat(e["recorded_at"]) for e in engine.history(goal_id)]


# -- any past state ----------------------------------------------------------------------------


def test_as_of_gives_the_state_current_at_each_moment(engine: GoalEngine) -> None:
    ids = _case(engine)
    times = _times(engine, ids["goal"])
    for version, at in enumerate(times, 1):
        expected = engine.get_goal(ids["goal"], version=version)
        assert engine.get_goal(ids["goal"], as_of=at) == expected
        # Just before the next event, it is still this version.
        if version < len(times):
            before_next = times[version] - timedelta(microseconds=1)
            if before_next >= at:
                assert engine.get_goal(ids["goal"], as_of=before_next)["version"] == version
    assert engine.get_goal(ids["goal"], as_of="now") == engine.get_goal(ids["goal"])
    # Text input: a date-time with its zone, and a bare date (the end of that local day).
    iso = times[0].astimezone(UTC).isoformat()
    assert engine.get_goal(ids["goal"], as_of=iso)["version"] == 1
    today = datetime.now().astimezone().date().isoformat()
    assert engine.get_goal(ids["goal"], as_of=today)["version"] == len(times)


def test_as_of_before_the_goal_existed_is_not_found(engine: GoalEngine, refuses: Any) -> None:
    ids = _case(engine)
    first = _times(engine, ids["goal"])[0]
    error = refuses(
        engine, NotFound, engine.get_goal, ids["goal"], as_of=first - timedelta(seconds=1)
    )
    assert "did not exist yet" in error.message
    assert ids["goal"][:8] in error.message
    refuses(engine, NotFound, engine.get_goal, ids["goal"], as_of="2001-01-01")


def test_as_of_bad_input(engine: GoalEngine, refuses: Any) -> None:
    ids = _case(engine)
    error = refuses(engine, InvalidInput, engine.get_goal, ids["goal"], as_of="last tuesday")
    assert "not a date" in error.message
    refuses(engine, InvalidInput, engine.get_goal, ids["goal"], as_of="now", version=1)


def test_client_as_of_shows_the_client_and_their_goals_then(engine: GoalEngine) -> None:
    ids = _case(engine)
    created = _times(engine, ids["goal"])[0]
    then = engine.get_client(ids["client"], as_of=created)
    assert (then["session_count"], then["last_session"], then["review_due"]) == (0, None, False)
    assert [g["id"] for g in then["goals"]] == [ids["goal"]]
    assert then["goals"][0]["version"] == 1
    assert then["goals"][0]["title"] == "Walk after lunch"
    now = engine.get_client(ids["client"], as_of="now")
    assert now["session_count"] == 1
    assert now["last_session"] == engine.get_client(ids["client"])["last_session"]
    assert now["last_session"]["number"] == 1
    assert [g["id"] for g in now["goals"]] == [ids["goal"], ids["step"]]
    assert now["goals"][0]["status"] == "paused"


# -- the feed ------------------------------------------------------------------------------------


def test_audit_log_filters_and_pages(engine: GoalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _case(engine)
    other = engine.add_client("Blake", actor="therapist:kim")
    monkeypatch.setattr(feed, "PAGE", 2)  # many small pages: paging must not skip or repeat
    everything = list(engine.audit_log())
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    assert len(everything) == engine.fingerprint()["events"]
    mine = list(engine.audit_log(client=ids["client"]))
    assert {e["client_id"] for e in mine} == {ids["client"]}
    assert len(mine) == len(everything) - 1
    assert [e["aggregate_id"] for e in engine.audit_log(actor="therapist:kim")] == [other["id"]]
    assert [e["event"] for e in engine.audit_log(actor="alex")] == ["Scaled"]
    middle = everything[3]["recorded_at"]
    since = list(engine.audit_log(since=middle))
    until = list(engine.audit_log(until=middle))
    assert since[0]["seq"] == 4
    assert until[-1]["seq"] == 4
    assert len(since) + len(until) == len(everything) + 1
    assert list(engine.audit_log(since="2001-01-01", until="2001-12-31")) == []


def test_audit_log_bad_input_is_refused(engine: GoalEngine, refuses: Any) -> None:
    _case(engine)
    refuses(engine, InvalidInput, lambda: list(engine.audit_log(since="soon")))
    refuses(engine, NotFound, lambda: list(engine.audit_log(client="ffff0000")))


# -- the access log ------------------------------------------------------------------------------


def test_audited_reads_and_exports_are_recorded(engine: GoalEngine, tmp_path: Path) -> None:
    ids = _case(engine)
    events = engine.fingerprint()["events"]
    history = engine.audit_history(ids["goal"][:6], actor="auditor:kim")
    assert history == engine.history(ids["goal"])
    shown = engine.audit_show(ids["goal"], version=2, actor="auditor:kim")
    assert shown == engine.get_goal(ids["goal"], version=2)
    client_then = engine.audit_show(ids["client"], version=1, actor="auditor:kim")
    assert client_then["version"] == 1
    engine.export(tmp_path / "out.jsonl", client=ids["client"], actor="auditor:kim")
    access = list(engine.audit_log(access=True))
    assert [(a["action"], a["subject"], a["actor"]) for a in access] == [
        ("history", ids["goal"], "auditor:kim"),
        ("show", ids["goal"], "auditor:kim"),
        ("show", ids["client"], "auditor:kim"),
        ("export", ids["client"], "auditor:kim"),
    ]
    assert access[1]["detail"]["version"] == 2
    assert access[3]["detail"]["events"] > 0
    # Access records are linked into the chain but kept out of the clinical feed.
    assert engine.fingerprint()["events"] == events + 4
    assert len(list(engine.audit_log())) == events
    assert engine.verify()["ok"]


def test_a_refused_audited_read_records_nothing(engine: GoalEngine, refuses: Any) -> None:
    ids = _case(engine)
    refuses(engine, NotFound, engine.audit_show, ids["goal"], version=99)
    refuses(engine, NotFound, engine.audit_show, "abcd0000")
    refuses(engine, NotFound, engine.audit_show, ids["goal"], as_of="2001-01-01")
    refuses(engine, NotFound, engine.audit_history, "abcd0000")


# -- checkpoints ---------------------------------------------------------------------------------


def test_checkpoints_signed_and_unsigned(engine: GoalEngine, refuses: Any) -> None:
    ids = _case(engine)
    plain = engine.checkpoint()
    signed = engine.checkpoint(key=b"auditor secret")
    assert signed["checkpoint"].startswith(plain["checkpoint"] + ":")
    assert plain["position"] == engine.fingerprint()["events"]
    engine.scale(ids["step"], 3)
    report = engine.verify(checkpoints=[signed["checkpoint"]], key=b"auditor secret")
    assert report["ok"]
    assert report["checkpoints"] == [{"checkpoint": plain["checkpoint"], "ok": True}]
    assert report["head"] != plain["checkpoint"]
    bad = refuses(
        engine, InvalidInput, engine.verify, checkpoints=[signed["checkpoint"]], key=b"wrong"
    )
    assert "bad signature" in bad.message
    refuses(engine, InvalidInput, engine.verify, checkpoints=[signed["checkpoint"]])
    refuses(engine, InvalidInput, engine.verify, checkpoints=["12:xyz"])
    assert engine.verify(checkpoints=["0:" + "0" * 64])["ok"]


def test_verify_reports_progress(engine: GoalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    _case(engine)
    monkeypatch.setattr(feed, "PAGE", 3)
    calls: list[tuple[int, int]] = []
    report = engine.verify(progress=lambda done, total: calls.append((done, total)))
    total = report["events"]
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) == -(-total // 3)


# -- the integrity chain: written with the events, atomically ------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_chain_row_that_cannot_be_written_leaves_no_event(kind: str, tmp_path: Path) -> None:
    url = make_store_url(kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as e:
        ids = _case(e)
        step_version = e.get_goal(ids["step"])["version"]
        # Occupy the chain entry of the step's next event, so that its insert fails.
        with e._store.transaction(commit=True) as cur:
            cur.execute(
                e._store._sql(
                    "INSERT INTO {p}goalengine_chain (seq, originator_id, originator_version, "
                    "notification_id, topic, recorded_at, owner, content, link, digest) "
                    "VALUES (-1, ?, ?, 0, 't', 'r', '', 'c', 'l', 'd')"
                ),
                (ids["step"], step_version + 1),
            )
        before = e.fingerprint()["events"]
        # No other writer caused the clash: not a retryable Conflict but an inconsistent
        # history (issue 8), pointing to `audit verify`; nothing was saved either way.
        with pytest.raises(IntegrityFailure, match="run `goalengine audit verify`"):
            e.scale(ids["step"], 4)
        assert e.fingerprint()["events"] == before


def test_a_format_1_store_is_upgraded_by_backfilling_the_chain(tmp_path: Path) -> None:
    url = make_store_url("sqlite", tmp_path)
    with GoalEngine(url, actor="therapist:lee") as e:
        ids = _case(e)
        states = {g: e.get_goal(g) for g in (ids["goal"], ids["step"])}
        series = {g: (e.ratings(g), e.reviews(g)) for g in states}
        sessions = e.sessions(ids["client"])
        fingerprint = e.fingerprint()
        count = fingerprint["events"]
    # A format-1 store: no chain, and none of the series tables format 3 added.
    conn = sqlite3.connect(tmp_path / "goals.db")
    conn.execute("DELETE FROM goalengine_chain")
    conn.execute("DELETE FROM goalengine_salts")
    for table in ("goalengine_ratings", "goalengine_reviews", "goalengine_sessions"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE goalengine_meta SET value = '1' WHERE key = 'format'")
    conn.commit()
    conn.close()
    with GoalEngine(url, actor="therapist:lee") as e:
        # Upgraded through format 2 (the chain backfilled) to this one (read models rebuilt).
        assert e.store_info()["format"] == FORMAT_VERSION
        report = e.verify()
        assert report["ok"], report["problems"]
        assert report["events"] == count
        assert report["chain_backfilled_at"] is not None
        assert {g: e.get_goal(g) for g in states} == states
        assert {g: (e.ratings(g), e.reviews(g)) for g in states} == series
        assert e.sessions(ids["client"]) == sessions
        assert e.fingerprint() == fingerprint
        # As-of reads work on the backfilled chain (recording times come from the events).
        first = e.history(ids["goal"])[0]["recorded_at"]
        assert e.get_goal(ids["goal"], as_of=first)["version"] == 1
        e.scale(ids["step"], 6)
        assert e.verify()["ok"]
    with GoalEngine(url) as e:
        assert e.store_info()["format"] == FORMAT_VERSION


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_concurrent_writers_keep_one_gap_free_chain(kind: str, tmp_path: Path) -> None:
    """Two engines (two connections) writing at once: the chain stays one gap-free sequence."""
    import threading

    url = make_store_url(kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as e:
        client = e.add_client("Alex")
        goals = [
            e.create_goal(
                client["id"], f"G{i}", horizon="short", kind="process", domains=["behavioral"]
            )["id"]
            for i in range(2)
        ]
    errors: list[BaseException] = []

    def write(goal_id: str) -> None:
        try:
            with GoalEngine(url, actor="therapist:kim") as mine:
                for i in range(25):
                    mine.scale(goal_id, i % 11)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(g,)) for g in goals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with GoalEngine(url) as e:
        report = e.verify()
        assert report["ok"], report["problems"]
        assert report["events"] == 3 + 50
        assert report["head"].startswith("53:")

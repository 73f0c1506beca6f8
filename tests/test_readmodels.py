"""The read models: rebuilt from the log they equal what the live writes made, on every store.

``admin rebuild`` empties the read-model tables (goals, clients and the ratings, reviews and
sessions series) and refills them from the events alone. These tests narrate it after audited
reads (whose records are store-level events with no rows), after a long realistic case, twice in a
row and page by page; they check the series rows themselves (version, recording time, day), the
CLI command, and that a concurrent write refused with ``ConcurrentWrite`` leaves no trace.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import make_store_url
from goalengine import Conflict, GoalEngine
from goalengine.aggregates import Goal
from goalengine.errors import ConcurrentWrite
from goalengine_cli.main import cli

COUNT_KEYS = {"goals", "clients", "ratings", "reviews", "sessions", "events"}
SHORT = {"horizon": "short", "kind": "process", "domains": ["behavioral"]}


def build_case(engine: GoalEngine) -> dict[str, Any]:
    """A few months of work with two clients: sessions, dated and undated ratings by different
    raters, reviews, revisions, a chain with a moved step, status changes and two voided goals."""
    sam = engine.add_client("Sam", modality="cbt", values=["friendship", "courage"])
    alex = engine.add_client("Alex", values=["health", "family"], review_every=2)
    ease = engine.create_goal(
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
    stay = engine.chain(ease["id"], "Stay 15 minutes", anchor_low="left at once")
    talk = engine.chain(ease["id"], "Have one conversation")
    ask = engine.chain(ease["id"], "Ask one question", position=1)
    engine.move_step(talk["id"], 1)
    walk = engine.create_goal(alex["id"], "Walk 20 minutes after lunch", **SHORT)
    sleep = engine.create_goal(alex["id"], "In bed by 11 on weeknights", **SHORT)
    typo = engine.create_goal(alex["id"], "Wlak after lunch", **SHORT)
    for n, day in enumerate(("2026-09-03", "2026-09-10", "2026-09-17", "2026-10-01"), 1):
        engine.record_session(sam["id"], on=day)
        engine.scale(ease["id"], n + 1, on=day, note=f"session {n}")
        engine.scale(stay["id"], 2 * n, rater="client", actor="client:sam", on=day)
        engine.record_session(alex["id"], on=day)
        engine.scale(walk["id"], n, on=day)
        engine.scale(walk["id"], n + 2, rater="collateral", on=day, note="partner says")
    engine.scale(ease["id"], 6, note="no date: counts on the day it was recorded")
    engine.scale(sleep["id"], 3, rater="client", actor="client:alex")
    engine.scale(sleep["id"], 4, session=2, on="2026-09-12")
    engine.record_goal_review(ease["id"], "adjust", value_alignment=7, on="2026-09-17")
    engine.record_goal_review(ease["id"], "keep", value_alignment=8, note="closer to courage")
    engine.record_goal_review(walk["id"], "keep", on="2026-10-01")
    engine.revise(ease["id"], reason="measurable", target="gad7<=5", values=["courage"])
    engine.revise(walk["id"], reason="client's words", title="Walk 20 minutes after lunch daily")
    engine.revise_client(alex["id"], reason="review every session", review_every=1)
    engine.pause(sleep["id"], note="night shifts")
    engine.resume(sleep["id"])
    engine.achieve(stay["id"], note="did it twice")
    engine.abandon(talk["id"], reason="too big a step for now")
    engine.scale(typo["id"], 1)
    engine.void(typo["id"], reason="duplicate of the walk goal, misspelt")
    engine.void(ask["id"], reason="entered for the wrong client")
    return {
        "clients": [sam, alex],
        "goals": [ease, stay, talk, ask, walk, sleep, typo],
    }


def read_everything(engine: GoalEngine, case: dict[str, Any]) -> dict[str, Any]:
    """Every read the read models answer, for comparing before and after a rebuild."""
    out: dict[str, Any] = {
        "goals": engine.list_goals(include_voided=True),
        "clients": engine.list_clients(),
    }
    for g in case["goals"]:
        for order in ("newest", "oldest"):
            out[f"ratings {g['id']} {order}"] = engine.ratings(g["id"], order=order)
            out[f"reviews {g['id']} {order}"] = engine.reviews(g["id"], order=order)
    for c in case["clients"]:
        out[f"client {c['id']}"] = engine.get_client(c["id"])
        out[f"sessions {c['id']}"] = engine.sessions(c["id"], order="oldest")
    return out


def rows_counted(fingerprint: dict[str, Any]) -> dict[str, int]:
    return {
        table.removeprefix("goalengine_"): len(rows)
        for table, rows in fingerprint["read_models"].items()
    }


def test_rebuilding_after_audited_reads_and_an_export_changes_no_row(
    engine: GoalEngine, tmp_path: Path
) -> None:
    """Audited reads record store-level events (no client, no read-model rows): the rebuild
    passes over them and every row comes back exactly as the live writes made it."""
    case = build_case(engine)
    ease, sam = case["goals"][0], case["clients"][0]
    engine.audit_history(ease["id"])
    engine.audit_show(ease["id"], version=1)
    engine.audit_history(sam["id"], actor="auditor:ann")
    engine.audit_show(sam["id"], version=1, actor="auditor:ann")
    manifest = engine.export(tmp_path / "x.jsonl", actor="auditor:ann")
    assert (tmp_path / "x.jsonl").exists()
    assert manifest["counts"]["events"] > 0
    before = engine.fingerprint()
    assert sum(e["aggregate_type"] == "access" for e in engine.events()) == 5

    counts = engine.rebuild_read_models()

    after = engine.fingerprint()
    assert after["read_models"] == before["read_models"]
    assert after == before  # and the rebuild recorded nothing
    assert set(counts) == COUNT_KEYS
    assert counts == {**rows_counted(before), "events": before["events"]}
    assert counts["goals"] == 7
    assert counts["clients"] == 2


def test_a_rebuild_equals_the_live_read_models_after_a_long_case(engine: GoalEngine) -> None:
    case = build_case(engine)
    before = engine.fingerprint()
    reads = read_everything(engine, case)
    calls: list[tuple[int, int]] = []

    counts = engine.rebuild_read_models(progress=lambda done, total: calls.append((done, total)))

    assert engine.fingerprint() == before
    assert read_everything(engine, case) == reads
    # The counts are the rows of each table, and agree with the events themselves.
    events = engine.events()
    assert counts == {**rows_counted(before), "events": before["events"]}
    assert counts["events"] == len(events)
    assert counts["goals"] == sum(e["event"] == "Created" for e in events) == 7
    assert counts["clients"] == sum(e["event"] == "Registered" for e in events) == 2
    assert counts["ratings"] == sum(e["event"] == "Scaled" for e in events) == 20
    assert counts["reviews"] == sum(e["event"] == "Reviewed" for e in events) == 3
    assert counts["sessions"] == sum(e["event"] == "SessionRecorded" for e in events) == 8
    # Voided goals keep their rows (left out of lists, kept for the record).
    voided = [g for g in reads["goals"] if g["status"] == "voided"]
    assert sorted(g["id"] for g in voided) == sorted(
        g["id"] for g in (case["goals"][3], case["goals"][6])
    )
    assert all(g["id"] not in [x["id"] for x in engine.list_goals()] for g in voided)
    # Progress: after each page, done counting up to the total, which it reaches at the end.
    assert calls
    assert calls[-1] == (before["events"], before["events"])
    assert all(total == before["events"] for _, total in calls)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})

    # Rebuilding again is idempotent: the same counts, the same rows, nothing recorded.
    assert engine.rebuild_read_models() == counts
    assert engine.fingerprint() == before
    assert read_everything(engine, case) == reads


def test_a_rebuild_reads_the_log_page_by_page(engine: GoalEngine) -> None:
    """More than one page (1000 events): progress is reported after each."""
    alex = engine.add_client("Alex", values=["health"])
    goals = []
    for k in range(80):  # many short histories: each command loads a small goal
        goal = engine.create_goal(alex["id"], f"Walk 20 minutes after lunch, route {k}", **SHORT)
        for n in range(12):
            engine.scale(goal["id"], n % 11, note=f"day {n}")
        goals.append(goal)
    engine.audit_history(goals[0]["id"])  # one store-level record, read and passed over
    before = engine.fingerprint()
    total = before["events"]
    assert total == 1 + 80 * 13 + 1
    calls: list[tuple[int, int]] = []

    counts = engine.rebuild_read_models(progress=lambda done, of: calls.append((done, of)))

    assert calls == [(1000, total), (total, total)]
    assert counts == {
        "goals": 80,
        "clients": 1,
        "ratings": 80 * 12,
        "reviews": 0,
        "sessions": 0,
        "events": total,
    }
    assert engine.fingerprint() == before
    oldest = engine.ratings(goals[-1]["id"], order="oldest", limit=3)
    assert [r["version"] for r in oldest] == [2, 3, 4]


def _utc_day(recorded_at: str) -> str:
    return datetime.fromisoformat(recorded_at).astimezone(UTC).date().isoformat()


def test_each_series_row_carries_its_version_recording_time_and_day(engine: GoalEngine) -> None:
    """A rating's row: the goal version its event is, when it was recorded, and ``day`` — the
    date given with ``on``, else the UTC day it was recorded. ``order="oldest"`` sorts by day,
    then recording time, then version."""
    sam = engine.add_client("Sam", values=["courage"])
    goal = engine.create_goal(sam["id"], "Stay 15 minutes at the party", **SHORT)
    engine.record_session(sam["id"], on="2026-10-01")
    engine.scale(goal["id"], 2, on="2026-10-01", note="at the session")  # v2
    engine.scale(goal["id"], 5, note="today, no date given")  # v3
    engine.scale(goal["id"], 3, on="2026-09-15", note="remembered late")  # v4
    engine.scale(goal["id"], 4, rater="client", actor="client:sam", on="2026-10-01")  # v5
    engine.record_goal_review(goal["id"], "keep", value_alignment=6, on="2026-09-20")  # v6
    engine.record_goal_review(goal["id"], "adjust", note="today")  # v7
    history = {e["version"]: e for e in engine.history(goal["id"])}

    oldest = engine.ratings(goal["id"], order="oldest")
    assert [r["version"] for r in oldest] == [4, 2, 5, 3]
    assert [r["value"] for r in oldest] == [3, 2, 4, 5]
    for row in oldest:
        event = history[row["version"]]
        assert event["event"] == "Scaled"
        assert row["value"] == event["value"]
        assert row["rater"] == event["rater"]
        assert row["occurred_on"] == event["occurred_on"]
        assert row["actor"] == event["actor"]
        assert datetime.fromisoformat(row["recorded_at"]) == datetime.fromisoformat(
            event["recorded_at"]
        )
        assert row["day"] == (row["occurred_on"] or _utc_day(row["recorded_at"]))
    assert [r["day"] for r in oldest[:3]] == ["2026-09-15", "2026-10-01", "2026-10-01"]
    assert oldest[3]["occurred_on"] is None
    assert oldest[3]["day"] == _utc_day(history[3]["recorded_at"])
    assert oldest[1]["session"] == 1  # the session recorded that day was linked
    # Newest first is the exact reverse.
    assert engine.ratings(goal["id"]) == oldest[::-1]

    reviews = engine.reviews(goal["id"], order="oldest")
    assert [r["version"] for r in reviews] == [6, 7]
    assert reviews[0]["day"] == "2026-09-20"
    assert reviews[1]["day"] == _utc_day(history[7]["recorded_at"])
    for row in reviews:
        assert datetime.fromisoformat(row["recorded_at"]) == datetime.fromisoformat(
            history[row["version"]]["recorded_at"]
        )
    (session,) = engine.sessions(sam["id"])
    assert (session["number"], session["on"], session["version"]) == (1, "2026-10-01", 2)

    # The rebuilt rows are the same rows.
    before = engine.fingerprint()
    engine.rebuild_read_models()
    assert engine.fingerprint() == before
    assert engine.ratings(goal["id"], order="oldest") == oldest


# -- the CLI --------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store that outlives one invocation."""
    return make_store_url(str(request.param), tmp_path)


def run(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--store", url, "--as", "auditor:ann", *args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_admin_rebuild_on_the_command_line_after_audited_reads(url: str, tmp_path: Path) -> None:
    with GoalEngine(url, actor="therapist:lee") as engine:
        case = build_case(engine)
    ease, sam = case["goals"][0], case["clients"][0]
    run(url, "audit", "history", ease["id"])
    run(url, "audit", "show", ease["id"], "--version", "1")
    run(url, "audit", "history", sam["id"][:8])
    run(url, "audit", "export", "--out", str(tmp_path / "x.jsonl"))
    with GoalEngine(url) as engine:
        before = engine.fingerprint()
    assert before["events"] > 50

    shown = run(url, "admin", "rebuild").stdout
    assert shown.startswith(f"Rebuilt the read models from {before['events']} event(s): ")
    for count in ("7 goal(s)", "2 client(s)", "20 rating(s)", "3 review(s)", "8 session(s)"):
        assert count in shown, shown

    result = run(url, "admin", "rebuild", "--json")
    counts = json.loads(result.stdout)  # exactly one JSON document
    assert counts == {**rows_counted(before), "events": before["events"]}
    assert set(counts) == COUNT_KEYS
    assert counts["ratings"] == 20
    with GoalEngine(url) as engine:
        assert engine.fingerprint() == before


# -- a concurrent write ---------------------------------------------------------------------------


class Meeting:
    """While ``on``, two ``scale`` commands meet after loading the goal and before saving it
    (the way tests/test_stores.py makes two writers collide)."""

    def __init__(self) -> None:
        self.on = True
        self.barrier = threading.Barrier(2, timeout=20)


@pytest.fixture
def scales_meet() -> Iterator[Meeting]:
    meeting = Meeting()
    original = Goal.scale

    def scale(self: Goal, *args: Any, **kwargs: Any) -> None:
        if meeting.on:
            meeting.barrier.wait()
        original(self, *args, **kwargs)

    Goal.scale = scale  # type: ignore[method-assign]
    try:
        yield meeting
    finally:
        Goal.scale = original  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "store_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_refused_concurrent_write_is_a_retryable_conflict_and_records_nothing(
    store_kind: str, tmp_path: Path, scales_meet: Meeting
) -> None:
    url = make_store_url(store_kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as engine:
        client = engine.add_client("Alex")
        goal = engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
        before = engine.fingerprint()
    results: dict[str, Any] = {}

    def rate(actor: str, value: int) -> None:
        # Two engines on one store, each loading the goal at version 1.
        with GoalEngine(url, actor=actor) as engine:
            try:
                results[actor] = engine.scale(goal["id"], value, note=f"by {actor}")
            except Exception as e:
                results[actor] = e

    threads = [
        threading.Thread(target=rate, args=("therapist:lee", 3)),
        threading.Thread(target=rate, args=("client:alex", 8)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    refused = {a: r for a, r in results.items() if isinstance(r, Exception)}
    saved = {a: r for a, r in results.items() if not isinstance(r, Exception)}
    assert len(refused) == 1, results
    assert len(saved) == 1, results
    [(loser, error)] = refused.items()
    [(winner, rating)] = saved.items()
    assert isinstance(error, ConcurrentWrite), repr(error)
    assert isinstance(error, Conflict)
    assert error.retryable is True
    assert Conflict("x").retryable is False  # only a concurrent write says "try again"
    assert error.exit_code == 1
    assert error.type == "ConcurrentWrite"
    assert "someone else changed this record at the same moment" in error.message
    # The record it lost on, and the version this writer had (it loaded version 1, as did the
    # winner).
    assert error.details["aggregates"] == {goal["id"]: 1}
    assert rating["version"] == 2

    with GoalEngine(url, actor="therapist:lee") as engine:
        after = engine.fingerprint()
        # Exactly the winner's event and row were recorded; nothing of the refused one.
        assert after["events"] == before["events"] + 1
        (only,) = after["read_models"]["goalengine_ratings"]
        assert only["note"] == f"by {winner}"
        assert [e["data"].get("note") for e in engine.events(after=before["events"])] == [
            f"by {winner}"
        ]
        assert [e["event"] for e in engine.history(goal["id"])] == ["Created", "Scaled"]
        assert engine.store_info()["events"] == after["events"]
        # The read models agree with the log.
        assert engine.rebuild_read_models()["events"] == after["events"]
        assert engine.fingerprint() == after

    # Retrying, as the error says, works: it reloads the goal and saves after the winner.
    scales_meet.on = False
    with GoalEngine(url, actor=loser) as engine:
        value = 8 if loser.startswith("client") else 3
        assert engine.scale(goal["id"], value, note=f"by {loser}")["version"] == 3
        assert [r["note"] for r in engine.ratings(goal["id"], order="oldest")] == [
            f"by {winner}",
            f"by {loser}",
        ]
        assert engine.get_goal(goal["id"])["version"] == 3

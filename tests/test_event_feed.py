"""The store-wide event feed (``GoalEngine.events``): what a consumer that follows the store sees.

A consumer keeps the last position (``seq``) it handled and asks for what follows. These tests
narrate that loop on a realistic case on every store, check the shape of each entry, that bad
cursors are refused without writing anything, and — the point of the feed — that the loop sees
every event exactly once, in order and without gaps, while four writer *processes* append to the
same SQLite file or PostgreSQL schema and fight over one shared goal.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import make_store_url
from goalengine import GoalEngine, InvalidInput
from goalengine.aggregates import Goal

ENTRY_KEYS = {
    "seq",
    "aggregate_type",
    "aggregate_id",
    "client_id",
    "version",
    "event",
    "recorded_at",
    "actor",
    "data",
}


def build_case(engine: GoalEngine) -> dict[str, Any]:
    """Two clients, a long-term goal with a chain, ratings (one dated, one by the client), a
    revision, a review, a pause, an achieved step, a revised client and one audited read."""
    sam = engine.add_client("Sam", modality="cbt", values=["friendship", "courage"])
    alex = engine.add_client("Alex", values=["health"])
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
    walk = engine.create_goal(
        alex["id"],
        "Walk 20 minutes after lunch",
        horizon="short",
        kind="process",
        domains=["behavioral"],
    )
    engine.scale(walk["id"], 4, note="twice this week")
    engine.pause(goal["id"], note="exams")
    engine.resume(goal["id"])
    engine.achieve(a["id"], note="did it twice")
    engine.revise_client(alex["id"], reason="asked to add one", values=["health", "family"])
    engine.audit_history(goal["id"])
    return {"clients": [sam, alex], "goals": [goal, a, b, walk]}


def follow(engine: GoalEngine, limit: int, after: int = 0) -> list[dict[str, Any]]:
    """The consumer loop: keep the last ``seq`` handled, ask for what follows, until nothing."""
    seen: list[dict[str, Any]] = []
    while True:
        page = engine.events(after=after, limit=limit)
        if not page:
            return seen
        assert len(page) <= limit
        assert [e["seq"] for e in page] == list(range(after + 1, after + 1 + len(page)))
        seen.extend(page)
        after = page[-1]["seq"]


def as_history_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A feed entry in the shape of ``engine.history`` (the event's fields at the top level)."""
    return {
        "version": entry["version"],
        "event": entry["event"],
        "recorded_at": entry["recorded_at"],
        "actor": entry["actor"],
        **entry["data"],
    }


def test_a_consumer_loop_sees_every_event_once_in_store_order(engine: GoalEngine) -> None:
    case = build_case(engine)
    total = engine.fingerprint()["events"]
    assert engine.store_info()["events"] == total

    # Page by page, whatever the page size: the same events, positions 1..n without gaps.
    seen = follow(engine, limit=1)
    assert [e["seq"] for e in seen] == list(range(1, total + 1))
    assert follow(engine, limit=3) == seen
    assert follow(engine, limit=1000) == seen
    assert engine.events() == seen  # the defaults: from the start, up to 1000

    # Each event exactly once, and each entry has exactly the documented keys.
    assert len({(e["aggregate_id"], e["version"]) for e in seen}) == total
    assert all(set(e) == ENTRY_KEYS for e in seen)
    assert {e["aggregate_type"] for e in seen} == {"client", "goal", "access"}

    # Nothing missing: for each goal and client the feed holds exactly its history, in order.
    for goal in case["goals"]:
        mine = [as_history_entry(e) for e in seen if e["aggregate_id"] == goal["id"]]
        assert all(e["aggregate_type"] == "goal" for e in seen if e["aggregate_id"] == goal["id"])
        assert mine == engine.history(goal["id"])
    for client in case["clients"]:
        mine = [as_history_entry(e) for e in seen if e["aggregate_id"] == client["id"]]
        assert mine == engine.client_history(client["id"])
    # A goal's events name its client; a client's events name the client itself.
    owners = {g["id"]: g["client_id"] for g in case["goals"]}
    owners.update({c["id"]: c["id"] for c in case["clients"]})
    for e in seen:
        if e["aggregate_type"] != "access":
            assert e["client_id"] == owners[e["aggregate_id"]], e

    # ``data`` holds the event's own fields: a rating's value, rater, note, session and day.
    sam, goal = case["clients"][0], case["goals"][0]
    scaled = [e for e in seen if e["event"] == "Scaled" and e["aggregate_id"] == goal["id"]]
    assert [e["data"] for e in scaled] == [
        {
            "value": 2,
            "rater": "therapist",
            "note": "dreading it",
            "session": 1,  # the session recorded that day was linked
            "occurred_on": "2026-10-01",
            "findings": [],
        },
        {
            "value": 3,
            "rater": "client",
            "note": None,
            "session": None,
            "occurred_on": None,
            "findings": [],
        },
    ]
    assert [e["actor"] for e in scaled] == ["therapist:lee", "client:sam"]
    assert all(e["client_id"] == sam["id"] for e in scaled)
    (revised,) = [e for e in seen if e["event"] == "Revised" and e["aggregate_type"] == "goal"]
    assert revised["data"]["reason"] == "measurable"
    assert [c["field"] for c in revised["data"]["changes"]] == ["values", "target"]
    created = next(e for e in seen if e["event"] == "Created")
    assert created["data"]["spec"]["title"] == "Feel at ease at gatherings"
    times = [datetime.fromisoformat(e["recorded_at"]) for e in seen]
    assert all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)

    # Reading the feed is not an audited read: it recorded nothing.
    assert engine.fingerprint()["events"] == total
    # Past the end there is nothing (yet); the cursor just waits there.
    assert engine.events(after=total) == []
    assert engine.events(after=total + 50) == []
    assert engine.events(after=total - 1, limit=1) == seen[-1:]


def test_audit_accesses_are_store_level_entries_of_the_feed(
    engine: GoalEngine, tmp_path: Path
) -> None:
    case = build_case(engine)
    goal, sam = case["goals"][0], case["clients"][0]
    engine.audit_show(goal["id"], version=1, actor="auditor:ann")
    rating = engine.scale(goal["id"], 5, note="between two audited reads")
    engine.audit_history(sam["id"], actor="auditor:ann")
    engine.export(tmp_path / "case.jsonl", actor="auditor:ann")
    seen = follow(engine, limit=1000)
    assert len(seen) == engine.fingerprint()["events"] == engine.store_info()["events"]

    accesses = [e for e in seen if e["aggregate_type"] == "access"]
    assert [e["data"]["action"] for e in accesses] == ["history", "show", "history", "export"]
    assert [e["data"]["subject"] for e in accesses] == [goal["id"], goal["id"], sam["id"], "store"]
    for e in accesses:
        assert set(e) == ENTRY_KEYS
        assert e["client_id"] is None
        assert e["version"] == 1
        assert e["event"] == "Recorded"
        assert set(e["data"]) == {"action", "subject", "detail", "findings"}
    assert [e["actor"] for e in accesses] == ["therapist:lee"] + ["auditor:ann"] * 3
    assert accesses[1]["data"]["detail"] == {"type": "goal", "version": 1, "shown_version": 1}
    # The export counted every event before it, and its own record comes last in the store.
    assert accesses[-1] == seen[-1]
    assert accesses[-1]["data"]["detail"]["events"] == len(seen) - 1
    # Access records sit at the position they were recorded, between the clinical events.
    (between,) = [e for e in seen if accesses[1]["seq"] < e["seq"] < accesses[2]["seq"]]
    assert (between["event"], between["version"]) == ("Scaled", rating["version"])
    assert between["aggregate_type"] == "goal"
    assert between["data"]["note"] == "between two audited reads"
    # The audit log keeps them apart; the feed has both, in one order.
    assert len(list(engine.audit_log(access=True))) == len(accesses)
    assert len(list(engine.audit_log())) == len(seen) - len(accesses)


#: Each bad keyword, and what the message must show: the keyword and the value given.
BAD_CURSORS: list[dict[str, Any]] = [
    {"after": -1},
    {"after": True},
    {"after": "3"},
    {"after": 2.0},
    {"after": None},
    {"limit": 0},
    {"limit": -5},
    {"limit": 1001},
    {"limit": False},
    {"limit": True},
    {"limit": "10"},
    {"after": 0, "limit": 10**6},
]


def test_bad_cursors_are_refused_and_change_nothing(engine: GoalEngine, refuses: Any) -> None:
    build_case(engine)
    before = engine.fingerprint()
    for kwargs in BAD_CURSORS:
        name, value = next((k, v) for k, v in kwargs.items() if (k, v) != ("after", 0))
        error = refuses(engine, InvalidInput, engine.events, **kwargs)
        assert error.message.startswith(f"{name} is "), (kwargs, error.message)
        assert (repr(value) if isinstance(value, str) else str(value)) in error.message, (
            kwargs,
            error.message,
        )
        assert error.exit_code == 2
    assert "limit is 1 to 1000" in refuses(engine, InvalidInput, engine.events, limit=0).message
    assert engine.fingerprint() == before
    # The limits themselves are fine.
    assert len(engine.events(limit=1)) == 1
    assert len(engine.events(after=0, limit=1000)) == before["events"]


# -- why a time cursor is not enough ----------------------------------------------------------


@pytest.mark.parametrize(
    "store_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_time_cursor_can_miss_what_a_position_cursor_sees(
    store_kind: str, tmp_path: Path
) -> None:
    """Why a consumer follows ``events(after=seq)`` and not ``audit_log(since=time)``.

    An event's recording time is taken when the command decides (the aggregate triggers the
    event), *before* the save takes the store's write lock; its position is assigned *under* the
    lock. So a slow writer can commit an event whose time is earlier than that of an event another
    writer committed first. A consumer that remembered "the last time I saw" then asks
    ``audit_log(since=that time)`` and never sees the slow writer's event; one that remembered the
    last position asks ``events(after=that position)`` and gets it.
    """
    url = make_store_url(store_kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as setup:
        alex = setup.add_client("Alex")
        slow_goal, fast_goal = (
            setup.create_goal(
                alex["id"], title, horizon="short", kind="process", domains=["behavioral"]
            )
            for title in ("Walk after lunch", "Sleep by 11")
        )
    decided, release = threading.Event(), threading.Event()
    original = Goal.scale

    def scale(self: Goal, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)  # the event, and its recording time, exist now
        if threading.current_thread().name == "slow":
            decided.set()
            assert release.wait(20)

    failures: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with GoalEngine(url, actor="therapist:kim") as kim:
                kim.scale(slow_goal["id"], 3, note="decided first, saved last")
        except BaseException as e:  # reported by the main thread
            failures.append(e)

    Goal.scale = scale  # type: ignore[method-assign]
    try:
        with GoalEngine(url, actor="auditor:ann") as consumer:
            start = consumer.events()[-1]["seq"]
            slow = threading.Thread(target=slow_writer, name="slow")
            slow.start()
            assert decided.wait(20)
            time.sleep(0.01)  # the fast writer's clock is surely later
            with GoalEngine(url, actor="therapist:lee") as lee:
                lee.scale(fast_goal["id"], 7, note="decided last, saved first")
            # The consumer handles what is there now: the fast writer's event.
            (fast,) = consumer.events(after=start)
            time_cursor = datetime.fromisoformat(fast["recorded_at"])
            position_cursor = fast["seq"]
            release.set()
            slow.join(20)
            assert not slow.is_alive()
            assert not failures, failures

            # By position, the slow writer's event comes next and is not missed.
            (late,) = consumer.events(after=position_cursor)
            assert late["aggregate_id"] == slow_goal["id"]
            assert late["seq"] == position_cursor + 1
            # By time it is *earlier* than what the consumer already handled ...
            assert datetime.fromisoformat(late["recorded_at"]) < time_cursor
            # ... so asking the audit log for what happened since then passes over it.
            since = list(consumer.audit_log(since=time_cursor))
            assert [
                e["version"] for e in since if e.get("note") == "decided last, saved first"
            ] == [2]
            assert not any(e.get("note") == "decided first, saved last" for e in since)
    finally:
        Goal.scale = original  # type: ignore[method-assign]


# -- four writer processes and one consumer ---------------------------------------------------

WRITERS = 4
COMMANDS = 60  # per writer: a third on the shared goal, the rest on its own two goals
ATTEMPTS = 25  # tries per shared-goal command when another writer got there first

WRITER = r"""
import json, os, sys, time
from goalengine import GoalEngine
from goalengine.errors import ConcurrentWrite

url, name, go, shared, *own = sys.argv[1:]
COMMANDS, ATTEMPTS = int(os.environ["FEED_COMMANDS"]), int(os.environ["FEED_ATTEMPTS"])
done = {"own": 0, "shared": 0, "audits": 0, "retries": 0, "gave_up": 0}
with GoalEngine(url, actor=f"therapist:{name}") as engine:
    deadline = time.monotonic() + 60
    while not os.path.exists(go):  # all writers start together
        assert time.monotonic() < deadline, "never told to start"
        time.sleep(0.002)
    for n in range(COMMANDS):
        if n % 3 == 0:
            for attempt in range(ATTEMPTS):
                try:
                    engine.scale(shared, n % 11, note=f"{name} {n}")
                    done["shared"] += 1
                    break
                except ConcurrentWrite as e:
                    assert e.retryable and shared in e.details["aggregates"], e.details
                    done["retries"] += 1
                    time.sleep(0.001 * (attempt + 1))
            else:
                done["gave_up"] += 1
        else:
            engine.scale(own[n % len(own)], n % 11, note=f"{name} {n}")
            done["own"] += 1
        if name == "w0" and n % 15 == 7:
            engine.audit_history(shared)  # store-level records interleaved with the rest
            done["audits"] += 1
print(json.dumps(done))
"""


def _check_page(
    page: list[dict[str, Any]], after: int, seen: set[tuple[str, int]], versions: dict[str, int]
) -> None:
    """One page as a consumer gets it: contiguous positions after the cursor, no event twice,
    each aggregate's versions one after the other."""
    assert [e["seq"] for e in page] == list(range(after + 1, after + 1 + len(page))), [
        e["seq"] for e in page
    ]
    for e in page:
        assert set(e) == ENTRY_KEYS
        key = (e["aggregate_id"], e["version"])
        assert key not in seen, f"event {key} delivered twice"
        seen.add(key)
        assert e["version"] == versions.get(e["aggregate_id"], 0) + 1, (
            f"{e['aggregate_id']} version {e['version']} after {versions.get(e['aggregate_id'])}"
        )
        versions[e["aggregate_id"]] = e["version"]


def _all_events(url: str) -> Iterator[dict[str, Any]]:
    with GoalEngine(url, actor="auditor:ann") as fresh:
        after = 0
        while page := fresh.events(after=after, limit=1000):
            yield from page
            after = page[-1]["seq"]


@pytest.mark.parametrize(
    "store_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_feed_misses_nothing_while_four_processes_write(
    store_kind: str, tmp_path: Path
) -> None:
    """At-least-once delivery, made exactly-once by the cursor, under real concurrency.

    Four writer processes (one engine each) run 60 commands at once on one store: ratings of their
    own goals and of one goal they all share, retrying the shared one when another writer saved it
    first (:class:`~goalengine.errors.ConcurrentWrite`); one of them also makes audited reads.
    Meanwhile this process follows the feed the way a consumer should: it stores the last ``seq``
    it handled and polls ``events(after=last)`` (page sizes 1 to 1000) until the writers are done,
    then once more.

    ``audit_log(since=time)`` could not be used for this: an event's recording time is taken
    before its writer holds the store's write lock, while its position is assigned under the lock,
    so a writer that decided earlier but committed later records an event *older* than ones the
    consumer has already seen (see test_a_time_cursor_can_miss_what_a_position_cursor_sees).
    Positions have no gaps and commit in order, so the cursor never passes over one.
    """
    url = make_store_url(store_kind, tmp_path)
    with GoalEngine(url, actor="therapist:lee") as setup:
        shared_client = setup.add_client("Robin", values=["family"])
        shared = setup.create_goal(
            shared_client["id"],
            "Family dinner twice a week",
            horizon="short",
            kind="process",
            domains=["behavioral"],
        )
        own: list[list[str]] = []
        for w in range(WRITERS):
            client = setup.add_client(f"Client {w}", values=["health"])
            own.append(
                [
                    setup.create_goal(
                        client["id"],
                        f"Goal {w}.{k}",
                        horizon="short",
                        kind="process",
                        domains=["behavioral"],
                    )["id"]
                    for k in range(2)
                ]
            )
        setup_events = setup.fingerprint()["events"]

    go = tmp_path / "go"
    env = {**os.environ, "FEED_COMMANDS": str(COMMANDS), "FEED_ATTEMPTS": str(ATTEMPTS)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, f"w{w}", str(go), shared["id"], *own[w]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(WRITERS)
    ]
    seen_keys: set[tuple[str, int]] = set()
    versions: dict[str, int] = {}
    consumed: list[dict[str, Any]] = []
    polls = 0
    try:
        with GoalEngine(url, actor="auditor:ann") as consumer:
            # The consumer catches up with the set-up first, then the writers start.
            last = 0
            while page := consumer.events(after=last, limit=7):
                _check_page(page, last, seen_keys, versions)
                consumed.extend(page)
                last = page[-1]["seq"]
            assert last == setup_events
            go.touch()
            sizes = itertools.cycle((1, 3, 7, 50, 1000))
            deadline = time.monotonic() + 90
            while True:
                writers_done = all(p.poll() is not None for p in procs)
                page = consumer.events(after=last, limit=next(sizes))
                polls += 1
                _check_page(page, last, seen_keys, versions)
                consumed.extend(page)
                if page:
                    last = page[-1]["seq"]  # handled: store the position
                elif writers_done:
                    break  # the writers had finished before this poll, and it found nothing
                else:
                    assert time.monotonic() < deadline, "the writers did not finish in 90 s"
                    time.sleep(0.002)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        outputs = [p.communicate(timeout=30) for p in procs]

    reports = []
    for p, (stdout, stderr) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, stderr
        reports.append(json.loads(stdout))
    assert all(r["gave_up"] == 0 for r in reports), reports
    written = sum(r["own"] + r["shared"] + r["audits"] for r in reports)
    assert written == WRITERS * COMMANDS + reports[0]["audits"]

    # Everything recorded was consumed once, and nothing else: the consumer's view equals a
    # fresh full read, and the number of events in the store.
    full = list(_all_events(url))
    assert consumed == full
    assert [e["seq"] for e in consumed] == list(range(1, len(consumed) + 1))
    assert len(consumed) == len(seen_keys) == setup_events + written
    with GoalEngine(url) as check:
        assert check.fingerprint()["events"] == len(consumed)
        assert check.get_goal(shared["id"])["version"] == 1 + sum(r["shared"] for r in reports)
    # The consumer really did overlap the writers (it polled while they ran).
    assert polls > 10
    # Every writer's ratings of the shared goal are there, each once.
    shared_notes = [
        e["data"]["note"]
        for e in consumed
        if e["aggregate_id"] == shared["id"] and e["event"] == "Scaled"
    ]
    assert len(shared_notes) == len(set(shared_notes)) == sum(r["shared"] for r in reports)
    assert {n.split()[0] for n in shared_notes} == {f"w{w}" for w in range(WRITERS)}
    assert sum(e["aggregate_type"] == "access" for e in consumed) == reports[0]["audits"]

"""Write the golden store with snapshots and its expected answers — run ONCE, then commit.

    .venv/bin/python tests/golden/make_golden_snapshots.py

``golden-v1.sqlite`` holds no snapshot: every aggregate there is shorter than the snapshot interval
(50 events, ``goalengine.store.SNAPSHOT_INTERVAL``). This store (``golden-snapshots.sqlite``:
SQLite, written by goalengine 0.1.0, store format 2, every event class at version 1) has a client
and a long-term goal long enough to be snapshotted twice each (at versions 50 and 100), so loading
them goes through stored snapshots: a later release that changes an aggregate's attributes must
still read the snapshots written by this one. ``expected-snapshots.json`` holds every goal's and
client's history, its state now and at versions 1, 2, 49, 50, 51, 99, 100, 101 and its last (the
clients as of the recording time of that version's event), the goal and client lists, the feed, the
access log, the final checkpoint, the store format, the engine version and the snapshots each
aggregate has in the store. Only the built-in plugins are loaded (``GOALENGINE_PLUGINS``, as in the
tests), so the findings stored do not depend on what else is installed.

Recording times differ on every run, so the tests never regenerate them:
``tests/test_golden_snapshots.py`` copies the store, opens it with the current code and demands the
same answers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from goalengine import GoalEngine, __version__

HERE = Path(__file__).resolve().parent
STORE = HERE / "golden-snapshots.sqlite"
EXPECTED = HERE / "expected-snapshots.json"

#: The versions whose state is kept: both sides of each snapshot (taken every 50 events), the
#: first two and the last.
VERSIONS = (1, 2, 49, 50, 51, 99, 100, 101)
FIRST_SESSION = date(2026, 1, 5)
SESSIONS = 110
BUILTIN_PLUGINS = "core,act,cbt,dbt"


def _day(i: int) -> str:
    return (FIRST_SESSION + timedelta(days=i)).isoformat()


def _rate_long_goal(engine: GoalEngine, goal_id: str, i: int) -> None:
    """Day ``i``'s ratings of Robin's long-term goal: raters, actors, notes, dates and sessions
    vary with the day (some undated, some backfilled days before the latest, some with an
    explicit session number)."""
    value = min(10, 2 + i // 14 + (i % 3 == 0))
    note = (
        f"week {i // 7 + 1}: {['slept badly', 'better', 'woke twice'][i % 3]}"
        if i % 6 == 0
        else None
    )
    on: str | None = _day(i)
    if i % 9 == 4:
        on = None  # no date given
    elif i % 13 == 5:
        on = _day(i - 3)  # backfilled: older than the ratings recorded before it
    session = i + 1 if i % 8 == 2 else None
    if i % 10 == 3:  # the client rates themselves; the rater is their role
        engine.scale(goal_id, value, note=note, on=on, session=session, actor="client:robin")
    elif i % 10 == 7:  # the therapist enters the partner's rating
        engine.scale(goal_id, max(0, value - 1), rater="collateral", note=note, on=on)
    elif i % 10 == 9:  # the partner rates in person
        engine.scale(goal_id, value, rater="collateral", on=on, actor="collateral:max")
    elif i % 11 == 6:  # a second therapist, on the client's behalf
        engine.scale(goal_id, value, rater="client", note=note, on=on, actor="therapist:sue")
    else:
        engine.scale(goal_id, value, rater="therapist", note=note, on=on, session=session)
    if i in (20, 33, 45, 70, 95, 105):  # a late partner rating of a day ten days back
        engine.scale(goal_id, value, rater="collateral", on=_day(i - 10), note="partner, late")


def build(engine: GoalEngine) -> None:
    """A client and a goal past two snapshots each, by several actors, with dates in the past."""
    robin = engine.add_client("Robin", values=["health", "family"], review_every=4)
    goal = engine.create_goal(
        robin["id"],
        "Sleep through most nights",
        horizon="long",
        kind="outcome",
        domains=["behavioral", "emotional"],
        values=["1"],
        anchor_low="I lie awake most of the night",
        anchor_high="I sleep through and wake rested",
        target="isi<15",
    )
    wind = engine.chain(goal["id"], "No screens after 22:00")
    bedtime = engine.chain(goal["id"], "Same bedtime on weeknights", due="2026-03-01")
    for i in range(SESSIONS):
        engine.record_session(robin["id"], on=_day(i))
        if i == 30:
            engine.revise(
                goal["id"], reason="the ISI baseline is in: a stricter target", target="isi<10"
            )
        if i == 40:
            engine.review(goal["id"], "keep", value_alignment=6, note="slowly better", on=_day(i))
        if i == 55:
            engine.revise_client(
                robin["id"], reason="rest matters now", values=["health", "family", "rest"]
            )
        if i == 56:
            engine.prioritize_client(robin["id"], [goal["id"]])
        if i == 60:
            engine.pause(goal["id"], note="travelling across time zones")
        if i == 62:
            engine.resume(goal["id"], actor="supervisor:ana", note="back home")
        if i == 75:
            engine.revise(
                goal["id"],
                reason="rest is the value it serves",
                values=["1", "3"],
                anchor_high="I sleep through, wake rested and have energy",
            )
        if i == 80:
            engine.review(
                goal["id"],
                "adjust",
                value_alignment=8,
                note="add the weekend to the routine",
                actor="supervisor:ana",
            )
        if i == 100:
            engine.review(goal["id"], "keep", value_alignment=9, on=_day(i - 1))
        if i != 61:  # no rating on the day between pause and resume
            _rate_long_goal(engine, goal["id"], i)
        if i in (3, 8, 14, 21):
            engine.scale(wind["id"], 4 + i // 4, on=_day(i), actor="client:robin")
        if i == 22:
            engine.scale(wind["id"], 9, rater="collateral", note="partner agrees", on=_day(i))
            engine.achieve(wind["id"], note="no screens for three weeks")
        if i == 35:
            engine.scale(bedtime["id"], 5, note="weekdays mostly")
    jo = engine.add_client("Jo", modality="act", values=["work"], review_every=2)
    cv = engine.create_goal(
        jo["id"],
        "Send my CV to three employers",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["work"],
        due="2026-11-30",
    )
    engine.record_session(jo["id"], on="2026-11-02")
    engine.scale(cv["id"], 2, on="2026-11-02", actor="client:jo")
    engine.record_session(jo["id"], on="2026-11-09")
    engine.scale(cv["id"], 6, on="2026-11-09", note="two sent")
    engine.achieve(cv["id"], note="three sent")


def _selected(last: int) -> list[int]:
    return sorted({v for v in VERSIONS if v <= last} | {last})


def snapshots(path: Path) -> dict[str, list[int]]:
    """The versions snapshotted in the store, by aggregate id: read from eventsourcing's table
    (``stored_snapshots``; it stores the ids as 32 hex digits) directly, not through the engine."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT originator_id, originator_version FROM stored_snapshots ORDER BY 1, 2"
        ).fetchall()
    finally:
        conn.close()
    out: dict[str, list[int]] = {}
    for oid, version in rows:
        out.setdefault(str(UUID(oid)), []).append(int(version))
    return out


def expected(engine: GoalEngine) -> dict[str, Any]:
    goals: dict[str, Any] = {}
    for doc in engine.list_goals(include_voided=True):
        history = engine.history(doc["id"])
        goals[doc["id"]] = {
            "history": history,
            "now": engine.get_goal(doc["id"]),
            "versions": [
                {"version": v, "state": engine.get_goal(doc["id"], version=v)}
                for v in _selected(len(history))
            ],
        }
    clients: dict[str, Any] = {}
    for doc in engine.list_clients():
        history = engine.client_history(doc["id"])
        clients[doc["id"]] = {
            "history": history,
            "now": engine.get_client(doc["id"]),
            "as_of": [
                {
                    "version": v,
                    "at": history[v - 1]["recorded_at"],
                    "state": engine.get_client(doc["id"], as_of=history[v - 1]["recorded_at"]),
                }
                for v in _selected(len(history))
            ],
        }
    return {
        "engine_version": __version__,
        "format": engine.store_info()["format"],
        "goals": goals,
        "clients": clients,
        "list_goals": engine.list_goals(include_voided=True),
        "list_clients": engine.list_clients(),
        "feed": list(engine.audit_log()),
        "access": list(engine.audit_log(access=True)),
        "checkpoint": engine.checkpoint()["checkpoint"],
    }


def main() -> int:
    if STORE.exists() or EXPECTED.exists():
        print(f"{STORE.name} exists: the golden store is written once; delete it on purpose first")
        return 1
    os.environ["GOALENGINE_PLUGINS"] = BUILTIN_PLUGINS
    with GoalEngine(f"sqlite:///{STORE}", actor="therapist:lee") as engine:
        build(engine)
        long_goal = engine.list_goals()[0]["id"]
        engine.audit_history(long_goal, actor="auditor:kim")
        engine.audit_show(long_goal, version=50, actor="auditor:kim")
        data = expected(engine)
    taken = snapshots(STORE)
    robin = next(c["id"] for c in data["list_clients"] if c["name"] == "Robin")
    for oid, what in ((long_goal, "the long-term goal"), (robin, "Robin")):
        assert len(taken.get(oid, [])) >= 2, f"{what} has snapshots {taken.get(oid)}, not two"
    data["snapshots"] = {oid: len(versions) for oid, versions in taken.items()}
    data["snapshot_versions"] = taken
    conn = sqlite3.connect(STORE)
    conn.execute("VACUUM")  # small, and no write-ahead log beside it
    conn.close()
    EXPECTED.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    counts = {oid: len(d["history"]) for oid, d in (data["goals"] | data["clients"]).items()}
    print(f"wrote {STORE} and {EXPECTED}: {len(data['feed'])} events, {data['checkpoint']}")
    print(f"events per aggregate: {counts}; snapshots: {data['snapshot_versions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

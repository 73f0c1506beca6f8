"""Write the golden store and its expected histories — run ONCE per store format, then commit.

    .venv/bin/python tests/golden/make_golden.py

The store (``golden-v1.sqlite``: SQLite, written by goalengine 0.1.0, store format 2, every event
class at version 1) and ``expected-v1.json`` (every goal's history and its state at every version, every
client's history and state at each of its versions, the feed, the access log and the final
checkpoint) are committed. Recording times differ on every run, so the tests never regenerate
them: ``tests/test_audit_golden.py`` copies the store, opens it with the current code and demands
the same answers. A later release that changes an event adds upcasters so that this still holds.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from goalengine import GoalEngine, __version__

HERE = Path(__file__).resolve().parent
STORE = HERE / "golden-v1.sqlite"
EXPECTED = HERE / "expected-v1.json"


def build(engine: GoalEngine) -> None:
    """Every kind of event, by several actors, with dates in the past."""
    sam = engine.add_client("Sam", values=["friendship", "courage"], review_every=2)
    goal = engine.create_goal(
        sam["id"],
        "Feel at ease at gatherings",
        horizon="long",
        kind="outcome",
        domains=["emotional", "behavioral"],
        values=["1"],
        anchor_low="I avoid every gathering",
        anchor_high="I go and enjoy it",
    )
    a = engine.chain(goal["id"], "Stay 15 minutes")
    b = engine.chain(goal["id"], "Have one conversation", due="2026-12-20")
    c = engine.chain(goal["id"], "Share something personal")
    engine.move_step(c["id"], 1)
    engine.record_session(sam["id"], on="2026-10-01")
    engine.scale(goal["id"], 2, on="2026-10-01", note="dreading it")
    engine.scale(goal["id"], 3, rater="client", actor="client:sam")
    engine.scale(a["id"], 5, rater="collateral", note="seen by partner")
    engine.record_session(sam["id"], on="2026-10-08")
    engine.revise(goal["id"], reason="measurable", target="sias<=30", values=["courage"])
    engine.review(goal["id"], "adjust", value_alignment=7, note="closer to courage")
    engine.pause(goal["id"], note="exams")
    engine.resume(goal["id"], actor="supervisor:ana")
    engine.achieve(a["id"], note="did it twice")
    engine.abandon(b["id"], reason="too big a step for now")
    engine.revise_client(sam["id"], reason="new focus", values=["courage", "friendship", "health"])
    lee = engine.add_client("Lee", modality=None)
    walk = engine.create_goal(
        lee["id"], "Walk after lunch", horizon="short", kind="process", domains=["behavioral"]
    )
    engine.scale(walk["id"], 4)
    engine.void(walk["id"], reason="entered for the wrong client")


def expected(engine: GoalEngine) -> dict[str, Any]:
    goals: dict[str, Any] = {}
    for doc in engine.list_goals(include_voided=True):
        history = engine.history(doc["id"])
        goals[doc["id"]] = {
            "history": history,
            "versions": [engine.get_goal(doc["id"], version=e["version"]) for e in history],
        }
    clients: dict[str, Any] = {}
    for doc in engine.list_clients():
        history = engine.client_history(doc["id"])
        clients[doc["id"]] = {
            "history": history,
            "as_of": [engine.get_client(doc["id"], as_of=e["recorded_at"]) for e in history],
            "now": engine.get_client(doc["id"]),
        }
    return {
        "engine_version": __version__,
        "format": engine.store_info()["format"],
        "goals": goals,
        "clients": clients,
        "feed": list(engine.audit_log()),
        "access": list(engine.audit_log(access=True)),
        "checkpoint": engine.checkpoint()["checkpoint"],
    }


def main() -> int:
    if STORE.exists() or EXPECTED.exists():
        print(f"{STORE.name} exists: the golden store is written once; delete it on purpose first")
        return 1
    with GoalEngine(f"sqlite:///{STORE}", actor="therapist:lee") as engine:
        build(engine)
        first_goal = engine.list_goals()[0]["id"]
        engine.audit_history(first_goal, actor="auditor:kim")
        engine.audit_show(first_goal, version=3, actor="auditor:kim")
        data = expected(engine)
    conn = sqlite3.connect(STORE)
    conn.execute("VACUUM")  # small, and no write-ahead log beside it
    conn.close()
    EXPECTED.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {STORE} and {EXPECTED}: {len(data['feed'])} events, {data['checkpoint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

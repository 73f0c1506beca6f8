"""A client and their goals: registering, creating, finding them by id prefix, listing.

Narrated scenarios through the public API, run on memory://, a SQLite file and PostgreSQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from goalengine import (
    AmbiguousId,
    GoalEngine,
    InvalidInput,
    NotFound,
)


def short_goal(engine: GoalEngine, client_id: str, title: str) -> dict[str, Any]:
    return engine.create_goal(
        client_id, title, horizon="short", kind="process", domains=["behavioral"]
    )


def test_a_client_and_their_goals(engine: GoalEngine, refuses: Any) -> None:
    # Dr Lee registers a new client, Sam, with the two values Sam ranked highest.
    sam = engine.add_client(
        "  Sam  ", modality="CBT", values=["being a good friend", "courage"], review_every=3
    )
    assert sam["name"] == "Sam"
    assert sam["modality"] == "cbt"
    assert sam["values"] == ["being a good friend", "courage"]
    assert sam["review_every"] == 3
    assert sam["session_count"] == 0
    assert sam["last_session"] is None
    assert sam["review_due"] is False
    assert sam["created_by"] == "therapist:lee"
    assert sam["version"] == 1
    uuid.UUID(sam["id"])

    # Together they set a long-term outcome goal that serves Sam's first value...
    goal = engine.create_goal(
        sam["id"],
        "Feel at ease at social gatherings",
        horizon="long",
        kind="outcome",
        domains=["emotional", "behavioral", "emotional"],
        values=["1"],
        description="Sam avoids parties and leaves early when he goes.",
        target="gad7<10",
        due="2027-03-01",
        anchor_low="I skip every invitation",
        anchor_high="I go, stay, and enjoy some of it",
        authorship="co-created",
    )
    assert goal["client_id"] == sam["id"]
    assert goal["title"] == "Feel at ease at social gatherings"
    assert goal["status"] == "active"
    assert goal["horizon"] == "long"
    assert goal["kind"] == "outcome"
    assert goal["domains"] == ["emotional", "behavioral"]  # duplicates dropped, order kept
    assert goal["values"] == ["being a good friend"]  # matched by rank
    assert goal["target"] == "gad7<10"
    assert goal["target_detail"] == {
        "measure": "gad7",
        "comparator": "<",
        "value": 10.0,
        "per": None,
    }
    assert goal["due"] == "2027-03-01"
    assert goal["anchors"] == {
        "low": "I skip every invitation",
        "high": "I go, stay, and enjoy some of it",
    }
    assert goal["authorship"] == "co-created"
    assert goal["client_agreed"] is True
    assert goal["scale"] is None
    assert goal["rated_at"] is None
    assert (goal["latest_ratings"], goal["rating_count"]) == ({}, 0)
    assert (goal["last_review"], goal["review_count"]) == (None, 0)
    assert goal["parent_id"] is None
    assert goal["steps"] == []
    assert goal["version"] == 1
    # The rules' findings (warnings, suggestions) come back with the command and are stored in
    # the event, so that a later replay shows what the clinician was told.
    for finding in goal["findings"]:
        assert set(finding) == {"rule", "severity", "message", "plugin", "plugin_version"}
        assert finding["severity"] in ("warning", "suggestion")
    assert engine.history(goal["id"])[0]["findings"] == goal["findings"]

    # ...and a short-term process goal, written by the client, matched by the value's text.
    walk = engine.create_goal(
        sam["id"],
        "Text one friend each week",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["COURAGE"],
        authorship="client",
        client_agreed=True,
    )
    assert walk["values"] == ["courage"]
    assert walk["authorship"] == "client"

    # Showing a goal gives the same state as the command returned.
    shown = engine.get_goal(goal["id"])
    assert shown == {k: v for k, v in goal.items() if k != "findings"}

    # The client's record lists the goals, in creation order.
    record = engine.get_client(sam["id"])
    assert [g["id"] for g in record["goals"]] == [goal["id"], walk["id"]]
    assert record["review_due"] is False
    # Lists give each goal's full state, with its depth and position in the tree.
    listed = engine.list_goals(client=sam["id"])
    assert [(g["depth"], g["position"]) for g in listed] == [(0, None), (0, None)]
    for entry in listed:
        assert entry["priority_reason"] == "default order: oldest first"
        shown_keys = ("depth", "position", "priority_reason")
        assert {k: v for k, v in entry.items() if k not in shown_keys} == (
            engine.get_goal(entry["id"])
        )

    # Bad input is refused and leaves the store as it was.
    refuses(engine, InvalidInput, engine.add_client, "   ", match="display name")
    refuses(
        engine,
        InvalidInput,
        engine.add_client,
        "Kim",
        values=["a", "b", "c", "d"],
        match="at most 3",
    )
    refuses(engine, InvalidInput, engine.add_client, "Kim", review_every=0, match="cadence")
    for bad, match in (
        ({"title": "  "}, "title must not be empty"),
        ({"horizon": "medium"}, "unknown horizon 'medium'; choose one of: short, long"),
        ({"kind": "result"}, "unknown kind"),
        ({"domains": ["spiritual"]}, "unknown domain"),
        ({"domains": []}, "at least one domain"),
        ({"values": ["being rich"]}, r"not one of client \w{8}'s 2 declared value"),
        ({"values": ["3"]}, "no value 3"),
        ({"target": "phq9 about 10"}, "NAME OP NUMBER"),
        ({"due": "next spring"}, "not a date"),
        ({"position": 1}, "needs --parent"),
    ):
        fields: dict[str, Any] = {
            "title": "Another goal",
            "horizon": "short",
            "kind": "process",
            "domains": ["behavioral"],
            **bad,
        }
        title = fields.pop("title")
        refuses(engine, InvalidInput, engine.create_goal, sam["id"], title, match=match, **fields)


def test_ids_are_found_by_a_unique_prefix_of_at_least_four_characters(
    engine: GoalEngine, refuses: Any
) -> None:
    alex = engine.add_client("Alex")
    goal = short_goal(engine, alex["id"], "Walk after lunch")

    # Full ids, upper-case ids and prefixes of 4 or more characters all find the goal.
    for ref in (goal["id"], goal["id"].upper(), goal["id"][:4], goal["id"][:8], goal["id"][:13]):
        assert engine.get_goal(ref)["id"] == goal["id"]
    assert engine.get_client(alex["id"][:6])["id"] == alex["id"]
    rated = engine.scale(goal["id"][:5], 3)
    assert (rated["goal_id"], rated["value"]) == (goal["id"], 3)
    assert engine.get_goal(goal["id"][:5])["scale"] == 3

    # Three characters are too few; something that is no id at all is usage; a client's id is not a
    # goal's; a prefix that matches nothing is not found.
    refuses(engine, InvalidInput, engine.scale, goal["id"][:3], 5, match="at least 4")
    refuses(engine, InvalidInput, engine.get_goal, "walk-after-lunch", match="hex")
    refuses(engine, NotFound, engine.scale, alex["id"], 5, match="is not a goal")
    other = "0000" if not goal["id"].startswith("0000") else "ffff"
    refuses(engine, NotFound, engine.scale, other + "ab", 5, match="no goal has an id starting")
    refuses(engine, NotFound, engine.get_client, goal["id"][:8], match="no client")

    # Clients are registered until two share their first four characters: that prefix is
    # ambiguous, and the error lists both candidates with their names.
    names: dict[str, str] = {}
    for n in range(3000):
        c = engine.add_client(f"Person {n}")
        if c["id"][:4] in names:
            break
        names[c["id"][:4]] = c["name"]
    else:  # pragma: no cover - 3000 draws from 65536 prefixes collide with p > 0.9999
        pytest.fail("no two clients shared a prefix")
    error = refuses(engine, AmbiguousId, engine.get_client, c["id"][:4], match="client id")
    assert {x["name"] for x in error.details["candidates"]} == {names[c["id"][:4]], c["name"]}
    # The message names no one (embedders log it); a screen shows the names details carry.
    assert names[c["id"][:4]] not in error.message
    assert names[c["id"][:4]] in error.screen
    refuses(engine, AmbiguousId, engine.list_goals, client=c["id"][:4])
    refuses(engine, AmbiguousId, short_goal, engine, c["id"][:4], "Whose goal?")

    # The same for goals, with their titles (on the in-memory store only: each goal costs more
    # than a client, and the lookup is the same SQL on every store).
    if engine.store_url != "memory://":
        return
    clients = [engine.add_client(f"Client {n}")["id"] for n in range(25)]
    by_prefix: dict[str, dict[str, Any]] = {goal["id"][:4]: goal}
    for n in range(3000):
        g = short_goal(engine, clients[n % len(clients)], f"Goal {n}")
        if g["id"][:4] in by_prefix:
            first, second = by_prefix[g["id"][:4]], g
            break
        by_prefix[g["id"][:4]] = g
    else:  # pragma: no cover - 3000 draws from 65536 prefixes collide with p > 0.9999
        pytest.fail("no two goals shared a prefix")
    prefix = first["id"][:4]
    common = len(prefix)
    while first["id"][common] == second["id"][common]:
        common += 1
    error = refuses(engine, AmbiguousId, engine.scale, prefix, 5, match="is ambiguous")
    assert isinstance(error, NotFound)  # an ambiguous id is a kind of not-found (exit code 1)
    assert error.exit_code == 1
    candidates = error.details["candidates"]
    assert sorted(c["id"] for c in candidates) == sorted([first["id"], second["id"]])
    assert {c["title"] for c in candidates} == {first["title"], second["title"]}
    # Titles are content: in details and on a screen (error.screen), never in the message.
    assert first["title"] not in error.message
    assert first["title"] in error.screen
    assert second["title"] not in error.message
    assert second["title"] in error.screen
    # One more character than they share tells them apart again.
    assert engine.get_goal(second["id"][: common + 1])["id"] == second["id"]


def test_list_clients_counts_each_clients_goals_by_status(engine: GoalEngine) -> None:
    assert engine.list_clients() == []
    alex = engine.add_client("Alex", values=["health"])
    jo = engine.add_client("Jo")
    goals = [short_goal(engine, alex["id"], f"Goal {n}") for n in range(5)]
    engine.pause(goals[0]["id"])
    engine.achieve(goals[1]["id"], note="walked daily for a month")
    engine.abandon(goals[2]["id"], reason="no longer relevant after the move")
    engine.void(goals[3]["id"], reason="entered for the wrong client")
    engine.record_session(alex["id"], on="2026-11-02")
    engine.record_session(alex["id"], on="2026-11-09")

    listed = engine.list_clients()
    assert [c["name"] for c in listed] == ["Alex", "Jo"]
    # Voided goals are not counted: they were never really the client's goals.
    assert listed[0]["goals"] == {"abandoned": 1, "achieved": 1, "active": 1, "paused": 1}
    assert listed[0]["session_count"] == 2
    assert listed[0]["last_session"] == {"number": 2, "on": "2026-11-09"}
    assert listed[0]["review_due"] is False
    # Each entry is the client's full state (from the read model) plus the counts.
    for entry, client in zip(listed, (alex, jo), strict=True):
        state = engine.get_client(client["id"])
        assert {k: v for k, v in entry.items() if k != "goals"} == {
            k: v for k, v in state.items() if k != "goals"
        }
    assert listed[0]["values"] == ["health"]
    assert listed[1]["goals"] == {}
    assert listed[1]["id"] == jo["id"]

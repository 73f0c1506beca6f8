"""Every public GoalEngine method driven with wrong types and values (issue 8, item 4).

Each method starts from arguments that work and gets one to three of them replaced by hostile
values. Whatever happens: only a GoalEngineError is raised, a refused call writes nothing (the
store's fingerprint is unchanged), and at the end every goal and client still loads, snapshots
and loads again from its snapshot. ``API_FUZZ_CASES`` (default 2,400) is spread over the methods.
"""

from __future__ import annotations

import inspect
import math
import os
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalengine import GoalEngine
from goalengine.errors import GoalEngineError

TOTAL = int(os.environ.get("API_FUZZ_CASES", "2400"))

G, C, S = "<goal>", "<client>", "<step>"

#: method → the arguments that work (G, C, S stand for the seeded goal, client and step).
METHODS: dict[str, dict[str, Any]] = {
    "add_client": {"name": "Sam", "modality": None, "values": ["family"], "review_every": 4},
    "revise_client": {"client": C, "reason": "r", "name": "Alex B", "values": None},
    "record_session": {"client": C, "on": None, "number": None},
    "get_client": {"client": C, "as_of": None},
    "list_clients": {},
    "client_history": {"client": C},
    "sessions": {"client": C, "since": None, "until": None, "limit": None, "after": None},
    "create_goal": {
        "client": C,
        "title": "Walk",
        "horizon": "short",
        "kind": "process",
        "domains": ["behavioral"],
        "description": None,
        "values": (),
        "target": None,
        "due": None,
        "parent": None,
        "position": None,
        "anchor_low": None,
        "anchor_high": None,
        "authorship": "co_created",
        "client_agreed": True,
        "modality": None,
        "attributes": None,
    },
    "chain": {
        "goal": G,
        "title": "Step",
        "position": None,
        "kind": None,
        "domains": None,
        "target": None,
        "due": None,
        "attributes": None,
    },
    "move_step": {"step": S, "position": 1},
    "scale": {"goal": G, "value": 4, "rater": None, "note": None, "session": None, "on": None},
    "revise": {
        "goal": G,
        "reason": "r",
        "title": None,
        "description": "d",
        "horizon": None,
        "kind": None,
        "domains": None,
        "values": None,
        "target": None,
        "due": None,
        "client_agreed": None,
        "authorship": None,
        "attributes": None,
    },
    "record_goal_review": {"goal": G, "outcome": "keep", "value_alignment": 5, "note": None},
    "pause": {"goal": S, "note": None},
    "resume": {"goal": S, "note": None},
    "achieve": {"goal": S, "note": None},
    "abandon": {"goal": S, "reason": "r"},
    "void": {"goal": S, "reason": "r"},
    "get_goal": {"goal": G, "version": None, "as_of": None},
    "list_goals": {"client": None, "status": None, "include_voided": False},
    "history": {"goal": G},
    "ratings": {
        "goal": G,
        "rater": None,
        "since": None,
        "until": None,
        "limit": None,
        "after": None,
        "version": None,
        "as_of": None,
        "order": "newest",
    },
    "reviews": {"goal": G, "since": None, "limit": None, "version": None, "order": "newest"},
    "prioritized_goals": {"client": C},
    "prioritize_client": {"client": C, "goals": [G]},
    "suggest_steps": {"goal": G},
    "client_review": {"client": C},
    "list_plugins": {},
    "list_modalities": {},
    "show_modality": {"name": "cbt"},
    "store_info": {},
    "rebuild_read_models": {"progress": None},
    "fingerprint": {},
}

NASTY_TEXT = [
    "",
    " ",
    "-5",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "0",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00-12:00",
    "today",
    "x" * 20_000,
    "\udcff",
    "a\x00b",
    "therapist:lee",
    "client:",
    "supervisor",
    "keep",
    "short",
    "process",
    "behavioral",
    "phq9<10",
    "phq9<" + "9" * 400,
    "phq9<nan",
    "cbt",
    "dbt",
]

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 11, 2**63, 2**64, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 4.0, 1.5]),
    st.text(max_size=20),
    st.sampled_from(NASTY_TEXT),
    st.binary(max_size=8),
    st.lists(st.one_of(st.text(max_size=6), st.integers(), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=6), st.one_of(st.text(max_size=6), st.integers()), max_size=3),
    st.builds(object),
    st.uuids(),
    st.sampled_from([date.min, date.max, datetime.min, datetime.max, date(2026, 1, 1)]),
    st.dates(),
    st.datetimes(),
    st.tuples(st.integers()),
    st.sets(st.text(max_size=3), max_size=2),
)


def seed(engine: GoalEngine) -> dict[str, str]:
    client = engine.add_client("Alex", values=["being a present parent", "health"])
    goal = engine.create_goal(
        client["id"], "Run a 5k", horizon="long", kind="outcome", domains=["behavioral"]
    )
    step = engine.chain(goal["id"], "Walk 20 minutes")
    engine.scale(goal["id"], 3)
    engine.record_session(client["id"], on="2026-01-05")
    return {G: goal["id"], C: client["id"], S: step["id"]}


def resolve(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value in ids:
        return ids[value]
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


def all_still_load(engine: GoalEngine) -> None:
    """Every aggregate loads, snapshots, and loads again from the snapshot."""
    app = engine._store.app
    goals = engine.list_goals(include_voided=True)
    clients = engine.list_clients()
    for entry in goals:
        app.take_snapshot(UUID(entry["id"]))
        engine.get_goal(entry["id"])
        engine.history(entry["id"])
    for entry in clients:
        app.take_snapshot(UUID(entry["id"]))
        engine.get_client(entry["id"])
    assert goals
    assert clients


PER_METHOD = max(20, TOTAL // len(METHODS) + 1)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_method_takes_its_input_or_refuses_it_and_writes_nothing(method: str) -> None:
    engine = GoalEngine("memory://", actor="therapist:lee")
    ids = seed(engine)
    base = METHODS[method]
    params = inspect.signature(getattr(engine, method)).parameters
    names = [*base, *(["actor"] if "actor" in params else [])]
    if not names:  # nothing to get wrong: the call itself must still work
        names = ["unexpected"]

    @settings(
        max_examples=PER_METHOD,
        deadline=None,
        derandomize=os.environ.get("FUZZ_RANDOM") is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        kwargs = {k: resolve(v, ids) for k, v in base.items()}
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        for name in chosen:
            kwargs[name] = resolve(data.draw(hostile, label=name), ids)
        if "unexpected" in kwargs:
            kwargs.pop("unexpected")
        before = engine.fingerprint()
        refused: GoalEngineError | None = None
        try:
            getattr(engine, method)(**kwargs)
        except GoalEngineError as e:
            refused = e
        if refused is not None:
            assert "\n" not in refused.message
            assert engine.fingerprint() == before, f"{method} refused but wrote: {refused}"

    try:
        run()
        all_still_load(engine)
    finally:
        engine.close()


def test_wrong_keyword_names_are_python_errors_not_records() -> None:
    """An unknown keyword is the caller's TypeError from Python itself; nothing runs."""
    with GoalEngine("memory://", actor="therapist:lee") as engine, pytest.raises(TypeError):
        engine.add_client("Sam", colour="blue")  # type: ignore[call-arg]


def test_a_closed_engine_refuses_every_call_with_a_goalengine_error() -> None:
    engine = GoalEngine("memory://", actor="therapist:lee")
    ids = seed(engine)
    engine.close()
    engine.close()  # again: nothing
    for method, base in METHODS.items():
        with pytest.raises(GoalEngineError, match="closed"):
            getattr(engine, method)(**{k: resolve(v, ids) for k, v in base.items()})


def test_unknown_ids_are_not_found() -> None:
    with GoalEngine("memory://", actor="therapist:lee") as engine:
        seed(engine)
        with pytest.raises(GoalEngineError):
            engine.get_goal(uuid4())


def test_the_fuzz_runs_at_least_2000_cases_in_ci() -> None:
    assert PER_METHOD * len(METHODS) >= 2000

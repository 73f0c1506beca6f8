"""Shared fixtures: every storage test runs on memory://, a SQLite file and PostgreSQL.

PostgreSQL tests use the server on 127.0.0.1:5432 (``GOALENGINE_TEST_POSTGRES`` overrides the URL
base). Each test gets its own schema, dropped at the end of the run, so runs can go in parallel
and leave nothing behind. When the server is unreachable the tests skip, except under ``CI=true``,
where they fail.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

from goalengine import GoalEngine, GoalEngineError

PG_BASE = os.environ.get("GOALENGINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:8]
_created_schemas: list[str] = []
_pg_status: dict[str, str | None] = {}


def _pg_unreachable() -> str | None:
    """None when PostgreSQL answers, else the reason (checked once per run)."""
    if "reason" not in _pg_status:
        try:
            import psycopg

            with psycopg.connect(_pg_dsn(), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_status["reason"] = None
        except Exception as e:  # any failure to connect
            _pg_status["reason"] = f"{type(e).__name__}: {e}".splitlines()[0]
    return _pg_status["reason"]


def _pg_dsn() -> str:
    return PG_BASE.split("?")[0]


def postgres_url() -> str:
    """A fresh schema's store URL; skips (or fails under CI=true) without a server."""
    reason = _pg_unreachable()
    if reason is not None:
        message = f"PostgreSQL at {_pg_dsn()} is unreachable: {reason}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"ge_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    _created_schemas.append(schema)
    return f"{_pg_dsn()}?schema={schema}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _created_schemas:
        return
    import psycopg

    with psycopg.connect(_pg_dsn(), autocommit=True) as conn:
        for schema in _created_schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


STORES = ["memory", "sqlite", "postgres"]


def make_store_url(kind: str, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'goals.db'}"
    return postgres_url()


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path) -> str:
    """A fresh, empty store of each kind."""
    return make_store_url(store_kind, tmp_path)


@pytest.fixture
def engine(store_url: str) -> Iterator[GoalEngine]:
    """A GoalEngine on a fresh store, acting as therapist:lee."""
    with GoalEngine(store_url, actor="therapist:lee") as e:
        yield e


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads or writes the user's real data directory, store settings or plugins."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for name in ("GOALENGINE_STORE", "GOALENGINE_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    # Only the built-in plugins: whatever else is installed on the machine stays out of tests.
    monkeypatch.setenv("GOALENGINE_PLUGINS", "core,act,cbt,dbt")


# -- shared by the engine, store and property tests ------------------------------------------------

# Hypothesis keeps nothing in the work tree: its files go under the temp dir, and under CI=true it
# keeps no example database at all, so a clean clone stays clean.
_HYPOTHESIS_HOME = Path(
    os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    or Path(tempfile.gettempdir()) / "goalengine-hypothesis"
)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
settings.register_profile(
    "ci",
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    database=DirectoryBasedExampleDatabase(_HYPOTHESIS_HOME / "examples"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


Refuses = Callable[..., GoalEngineError]


@pytest.fixture
def refuses() -> Refuses:
    """``refuses(engine, Error, call, *args, match=..., **kwargs)``: the call raises ``Error``
    (whose message matches ``match``) and the store is unchanged (same fingerprint)."""

    def check(
        engine: GoalEngine,
        error: type[GoalEngineError],
        call: Callable[..., Any],
        *args: Any,
        match: str | None = None,
        **kwargs: Any,
    ) -> GoalEngineError:
        before = engine.fingerprint()
        with pytest.raises(error, match=match) as info:
            call(*args, **kwargs)
        assert engine.fingerprint() == before, f"{call.__name__} was refused but wrote to the store"
        return info.value

    return check


_TARGET_TEXT = re.compile(
    r"^(?P<measure>.+?)(?P<op><=|>=|<|>|=)(?P<value>-?[0-9.]+)(?:/(?P<per>\w+))?$"
)


def _target_detail(text: str | None) -> dict[str, Any] | None:
    """The parts of a target's text form (``phq9<10``, ``x>=3/week``), as ``target_detail``."""
    if text is None:
        return None
    m = _TARGET_TEXT.match(text)
    assert m, f"not a target's text: {text!r}"
    return {
        "measure": m["measure"],
        "comparator": m["op"],
        "value": float(m["value"]),
        "per": m["per"],
    }


def _day(entry: dict[str, Any]) -> str:
    """The day a rating or review counts on: its date, else the UTC day it was recorded."""
    if entry["occurred_on"] is not None:
        return str(entry["occurred_on"])
    return datetime.fromisoformat(entry["recorded_at"]).astimezone(UTC).date().isoformat()


def _happened(item: dict[str, Any]) -> tuple[str, datetime]:
    """What orders ratings and reviews: the day, then the recording time."""
    return item["day"], datetime.fromisoformat(item["recorded_at"])


def _rating_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "value": entry["value"],
        "rater": entry["rater"],
        "actor": entry["actor"],
        "recorded_at": entry["recorded_at"],
        "note": entry["note"],
        "session": entry["session"],
        "occurred_on": entry["occurred_on"],
        "day": _day(entry),
    }


def _review_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "outcome": entry["outcome"],
        "actor": entry["actor"],
        "recorded_at": entry["recorded_at"],
        "value_alignment": entry["value_alignment"],
        "note": entry["note"],
        "occurred_on": entry["occurred_on"],
        "day": _day(entry),
    }


def fold_goal_history(goal_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A goal's state computed from its ``history()`` entries alone, independently of the
    aggregate's own ``apply`` methods: the shape ``get_goal`` returns (the latest rating of each
    rater and the last review by when they happened, the counts)."""
    state: dict[str, Any] = {}
    spec: dict[str, Any] = {}
    for entry in entries:
        event, actor = entry["event"], entry["actor"]
        if event == "Created":
            spec = dict(entry["spec"])
            state = {
                "id": goal_id,
                "client_id": entry["client_id"],
                "status": "active",
                "status_note": None,
                "latest_ratings": {},
                "rating_count": 0,
                "last_review": None,
                "review_count": 0,
                "parent_id": entry["parent_id"],
                "steps": [],
                "created_by": actor,
                "created_at": entry["recorded_at"],
            }
        elif event == "Chained":
            state["steps"].insert(entry["position"], entry["step_id"])
        elif event == "StepsReordered":
            state["steps"] = list(entry["steps"])
        elif event == "Scaled":
            rating = _rating_of(entry)
            current = state["latest_ratings"].get(rating["rater"])
            # A backfilled rating of an earlier day never replaces the rater's newer one.
            if current is None or _happened(rating) >= _happened(current):
                state["latest_ratings"][rating["rater"]] = rating
            state["rating_count"] += 1
        elif event == "Reviewed":
            review = _review_of(entry)
            last = state["last_review"]
            if last is None or _happened(review) >= _happened(last):
                state["last_review"] = review
            state["review_count"] += 1
        elif event == "Revised":
            for change in entry["changes"]:
                assert spec[change["field"]] == change["before"], change
                spec[change["field"]] = change["after"]
        elif event in ("Paused", "Resumed", "Achieved", "Abandoned", "Voided"):
            state["status"] = {
                "Paused": "paused",
                "Resumed": "active",
                "Achieved": "achieved",
                "Abandoned": "abandoned",
                "Voided": "voided",
            }[event]
            state["status_note"] = entry["note"]
        else:  # pragma: no cover - a new event needs a line here
            raise AssertionError(f"fold_goal_history does not know {event}")
        state["version"] = entry["version"]
        state["updated_at"] = entry["recorded_at"]
    ratings = list(state["latest_ratings"].values())
    latest = max(ratings, key=_happened) if ratings else None
    return {
        **state,
        "title": spec["title"],
        "description": spec["description"],
        "horizon": spec["horizon"],
        "kind": spec["kind"],
        "domains": spec["domains"],
        "values": spec["values"],
        "anchors": spec["anchors"],
        "target": spec["target"],
        "target_detail": _target_detail(spec["target"]),
        "due": spec["due"],
        "authorship": spec["authorship"],
        "client_agreed": spec["client_agreed"],
        "modality": spec["modality"],
        "attributes": dict(spec["attributes"]),
        "scale": latest["value"] if latest else None,
        "rated_at": latest["recorded_at"] if latest else None,
    }


def fold_goal_series(
    goal_id: str, entries: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A goal's ratings and reviews computed from its ``history()`` entries alone, in the shape
    and order ``ratings(order="oldest")`` and ``reviews(order="oldest")`` give: by day, then
    recording time, then version."""

    def order(item: dict[str, Any]) -> tuple[str, datetime, int]:
        return (*_happened(item), item["version"])

    ratings = [
        {"goal_id": goal_id, "version": e["version"], **_rating_of(e)}
        for e in entries
        if e["event"] == "Scaled"
    ]
    reviews = [
        {"goal_id": goal_id, "version": e["version"], **_review_of(e)}
        for e in entries
        if e["event"] == "Reviewed"
    ]
    return sorted(ratings, key=order), sorted(reviews, key=order)


@pytest.fixture
def fold_history() -> Callable[[str, list[dict[str, Any]]], dict[str, Any]]:
    """:func:`fold_goal_history`: a goal's state from its history entries alone."""
    return fold_goal_history


@pytest.fixture
def fold_series() -> Callable[
    [str, list[dict[str, Any]]], tuple[list[dict[str, Any]], list[dict[str, Any]]]
]:
    """:func:`fold_goal_series`: a goal's ratings and reviews from its history entries alone."""
    return fold_goal_series

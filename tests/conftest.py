"""Shared fixtures: every storage test runs on memory://, a SQLite file and PostgreSQL.

PostgreSQL tests use the server on 127.0.0.1:5432 (``GOALENGINE_TEST_POSTGRES`` overrides the URL
base). Each test gets its own schema, dropped at the end of the run, so runs can go in parallel
and leave nothing behind. When the server is unreachable the tests skip, except under ``CI=true``,
where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from goalengine import GoalEngine

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
    """No test reads or writes the user's real data directory or store settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for name in ("GOALENGINE_STORE", "GOALENGINE_ACTOR", "GOALENGINE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)

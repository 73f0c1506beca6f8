"""Stores: the URL alone decides where data goes; bad or newer stores are refused untouched;
engines on one store see each other's writes, and a concurrent conflicting save records nothing.

Real SQLite files and the real PostgreSQL; no mocks of the storage layer.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import _pg_dsn, _pg_unreachable, postgres_url
from goalengine import Conflict, GoalEngine, StoreError
from goalengine.aggregates import Goal
from goalengine.errors import ConcurrentWrite
from goalengine.store import FORMAT_VERSION


def sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def pg_connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.partition("?")[0], autocommit=True)


def pg_schema(url: str) -> str:
    return url.partition("?schema=")[2]


def pg_snapshot(url: str) -> dict[str, Any]:
    """Every table of the store's schema with a digest of its rows, for "untouched" checks."""
    schema = pg_schema(url)
    out: dict[str, Any] = {}
    with pg_connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            out[table] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return out


def file_snapshot(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def record_a_little(engine: GoalEngine) -> dict[str, Any]:
    client = engine.add_client("Alex", values=["health"])
    goal = engine.create_goal(
        client["id"], "Walk after lunch", horizon="short", kind="process", domains=["behavioral"]
    )
    engine.scale(goal["id"], 4, note="two walks")
    return goal


# -- the URL alone decides --------------------------------------------------------------------------

STRAY = {
    "PERSISTENCE_MODULE": "eventsourcing.postgres",
    "GOALENGINE_PERSISTENCE_MODULE": "eventsourcing.popo",
    "POSTGRES_DBNAME": "no_such_database",
    "POSTGRES_HOST": "192.0.2.1",
    "POSTGRES_PORT": "1",
    "POSTGRES_USER": "nobody",
    "POSTGRES_SCHEMA": "stray_schema",
    "GOALENGINE_POSTGRES_SCHEMA": "stray_schema_prefixed",
    "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
    "CIPHER_KEY": "not-a-key",
    "GOALENGINE_COMPRESSOR_TOPIC": "no.such.module:Compressor",
    "IS_SNAPSHOTTING_ENABLED": "n",
    "APPLICATION_RECORDER_TOPIC": "no.such.module:Recorder",
    "INFRASTRUCTURE_FACTORY": "no.such.module:Factory",
}


@pytest.fixture
def stray_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings eventsourcing would read, pointing elsewhere; the working directory is empty."""
    stray = tmp_path / "stray"
    stray.mkdir()
    for name, value in STRAY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SQLITE_DBNAME", str(stray / "sqlite_dbname.db"))
    monkeypatch.setenv("GOALENGINE_SQLITE_DBNAME", str(stray / "prefixed.db"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return stray


def test_the_store_url_alone_decides_where_data_goes(
    store_kind: str, store_url: str, stray_environment: Path
) -> None:
    with GoalEngine(store_url, actor="therapist:lee") as engine:
        goal = record_a_little(engine)
        assert engine.get_goal(goal["id"])["scale"] == 4

    # Nothing went where the stray settings point: no SQLite file, no PostgreSQL schema.
    assert list(stray_environment.iterdir()) == []
    assert list(Path.cwd().iterdir()) == []
    if store_kind == "sqlite":
        # Everything is in the one file the URL names, readable without any cipher.
        path = sqlite_path(store_url)
        assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == ["goals.db"]
        with sqlite3.connect(path) as conn:
            states = [bytes(s) for (s,) in conn.execute("SELECT state FROM stored_events")]
        assert len(states) == 3  # Registered, Created, Scaled
        assert any(b"Walk after lunch" in s for s in states)
    if store_kind == "postgres":
        with pg_connect(store_url) as conn:
            n = conn.execute(
                f'SELECT COUNT(*) FROM "{pg_schema(store_url)}".goalengine_events'
            ).fetchone()
        assert n is not None
        assert n[0] == 3
    if store_kind == "postgres" or _pg_unreachable() is None:
        with pg_connect(_pg_dsn()) as conn:
            schemas = {
                s for (s,) in conn.execute("SELECT schema_name FROM information_schema.schemata")
            }
        assert "stray_schema" not in schemas
        assert "stray_schema_prefixed" not in schemas
    # Reopening (still with the stray environment) finds the same records.
    if store_kind != "memory":
        with GoalEngine(store_url) as engine:
            assert [r["note"] for r in engine.ratings(goal["id"])] == ["two walks"]


def test_the_default_store_is_a_file_in_the_users_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.chdir(tmp_path)
    assert not data.exists()
    with GoalEngine(actor="therapist:lee") as engine:  # created on first use
        assert engine.store_url == f"sqlite:///{data / 'goalengine' / 'goalengine.db'}"
        record_a_little(engine)
    assert (data / "goalengine" / "goalengine.db").is_file()
    with GoalEngine() as engine:
        assert [g["title"] for g in engine.list_goals()] == ["Walk after lunch"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xdg-data"]


# -- stores that cannot be opened -------------------------------------------------------------------


def test_a_store_of_a_newer_format_is_refused_and_left_untouched(
    store_kind: str, store_url: str
) -> None:
    if store_kind == "memory":
        return  # a memory store is new every time: it cannot be of another format
    with GoalEngine(store_url, actor="therapist:lee") as engine:
        record_a_little(engine)
    newer = str(FORMAT_VERSION + 1)
    # A newer goalengine wrote this store: a higher format, and a layout this one does not know
    # (it dropped a read-model table this version would create).
    if store_kind == "sqlite":
        path = sqlite_path(store_url)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE goalengine_meta SET value = ? WHERE key = 'format'", (newer,))
            conn.execute("DROP TABLE goalengine_clients")
        conn.close()

        def snapshot() -> Any:
            return file_snapshot(path.parent)
    else:
        schema = pg_schema(store_url)
        with pg_connect(store_url) as conn:
            conn.execute(
                f'UPDATE "{schema}".goalengine_meta SET value = %s WHERE key = %s',
                (newer, "format"),
            )
            conn.execute(f'DROP TABLE "{schema}".goalengine_clients')

        def snapshot() -> Any:
            return pg_snapshot(store_url)

    before = snapshot()
    for _ in range(2):
        with pytest.raises(StoreError) as info:
            GoalEngine(store_url)
        error = info.value
        assert error.exit_code == 3
        assert error.message == (
            f"store {store_url} has format {newer}, newer than this goalengine reads "
            f"({FORMAT_VERSION}); upgrade goalengine to open it"
        )
        assert "\n" not in error.message
        assert error.details["format"] == FORMAT_VERSION + 1
        assert snapshot() == before


def test_stores_that_cannot_be_opened_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = tmp_path / "notes.db"
    text.write_text("These are my session notes, not a database.\n" * 20)
    empty_dir = tmp_path / "a-directory.db"
    empty_dir.mkdir()
    cases = {
        f"sqlite:///{text}": f"{text} is not a SQLite file",
        f"sqlite:///{tmp_path / 'missing' / 'goals.db'}": f"directory {tmp_path / 'missing'} does not exist",
        f"sqlite:///{empty_dir}": f"{empty_dir} is a directory",
        "sqlite:///": "has no file",
        "sqlite:////proc/goalengine.db": "cannot open store sqlite:////proc/goalengine.db",
        "postgresql://postgres@127.0.0.1:1/test": "cannot open store postgresql://postgres@127.0.0.1:1/test",
        "postgresql://postgres:s3cret@127.0.0.1:1/test": "postgresql://postgres:***@127.0.0.1:1/test",
        "postgresql://postgres@127.0.0.1/test?schema=Bad-Name": "not a plain lower-case SQL name",
        "postgresql://postgres@127.0.0.1:5432/": "names no database",
        "mysql://root@localhost/goals": "use sqlite:///file.db",
        "goals.db": "use sqlite:///file.db",
    }
    before = file_snapshot(tmp_path)
    for url, expected in cases.items():
        with pytest.raises(StoreError) as info:
            GoalEngine(url)
        error = info.value
        assert error.exit_code == 3, url
        assert expected in error.message, (url, error.message)
        assert "\n" not in error.message, url
        assert "s3cret" not in error.message
    # Nothing was created or changed on the way: no directory, no file, the text file intact.
    assert file_snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory.db", "notes.db"]
    assert list(empty_dir.iterdir()) == []


# -- several engines, one store -------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return postgres_url()


def test_data_persists_across_engines(shared_url: str) -> None:
    with GoalEngine(shared_url, actor="therapist:lee") as engine:
        goal = record_a_little(engine)
        fingerprint = engine.fingerprint()
    with GoalEngine(shared_url, actor="therapist:kim") as engine:
        assert engine.fingerprint() == fingerprint
        assert engine.get_goal(goal["id"][:8])["scale"] == 4
        engine.scale(goal["id"], 6)
    with GoalEngine(shared_url) as engine:
        ratings = engine.ratings(goal["id"], order="oldest")
        assert [(r["value"], r["actor"]) for r in ratings] == [
            (4, "therapist:lee"),
            (6, "therapist:kim"),
        ]
        shown = engine.get_goal(goal["id"])
        assert shown["rating_count"] == 2
        assert shown["latest_ratings"]["therapist"]["actor"] == "therapist:kim"
        assert engine.list_goals()[0]["scale"] == 6


def test_two_engines_on_one_store_see_each_others_writes(shared_url: str) -> None:
    with (
        GoalEngine(shared_url, actor="therapist:lee") as lee,
        GoalEngine(shared_url, actor="therapist:kim") as kim,
    ):
        client = lee.add_client("Alex", values=["health"])
        assert [c["name"] for c in kim.list_clients()] == ["Alex"]
        goal = kim.create_goal(
            client["id"][:8], "Sleep by 11", horizon="long", kind="process", domains=["behavioral"]
        )
        step = lee.chain(goal["id"][:8], "Phone out of the bedroom")
        kim.scale(step["id"], 3)
        lee.scale(step["id"], 5)
        assert [r["value"] for r in kim.ratings(step["id"], order="oldest")] == [3, 5]
        assert kim.get_goal(step["id"])["scale"] == 5
        assert kim.get_goal(goal["id"])["steps"] == [step["id"]]
        assert [g["scale"] for g in lee.list_goals()] == [None, 5]
        assert lee.fingerprint() == kim.fingerprint()


@pytest.fixture
def scales_meet() -> Iterator[threading.Barrier]:
    """Makes two ``scale`` commands meet after loading the goal and before saving it."""
    barrier = threading.Barrier(2, timeout=20)
    original = Goal.scale

    def scale(self: Goal, *args: Any, **kwargs: Any) -> None:
        barrier.wait()
        original(self, *args, **kwargs)

    Goal.scale = scale
    try:
        yield barrier
    finally:
        Goal.scale = original


def test_a_concurrent_conflicting_save_is_refused_and_records_nothing(
    shared_url: str, scales_meet: threading.Barrier
) -> None:
    with GoalEngine(shared_url, actor="therapist:lee") as engine:
        goal = engine.create_goal(
            engine.add_client("Alex")["id"],
            "Walk",
            horizon="short",
            kind="process",
            domains=["behavioral"],
        )
    results: dict[int, Any] = {}

    def rate(value: int, actor: str) -> None:
        with GoalEngine(shared_url, actor=actor) as engine:
            try:
                results[value] = engine.scale(goal["id"], value)
            except Exception as e:
                results[value] = e

    threads = [
        threading.Thread(target=rate, args=(3, "therapist:lee")),
        threading.Thread(target=rate, args=(8, "client:alex")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    errors = {v: r for v, r in results.items() if isinstance(r, Exception)}
    saved = {v: r for v, r in results.items() if not isinstance(r, Exception)}
    assert len(errors) == 1, results
    assert len(saved) == 1, results
    [(lost, error)] = errors.items()
    [(won, _)] = saved.items()
    assert isinstance(error, ConcurrentWrite), repr(error)
    assert isinstance(error, Conflict)
    assert error.retryable is True
    assert error.details["aggregates"] == {goal["id"]: 1}  # the version it had loaded
    assert "someone else changed this record at the same moment" in error.message
    assert error.exit_code == 1

    # Only the winner's rating was recorded: one event, in the log and in the read model.
    with GoalEngine(shared_url) as engine:
        shown = engine.get_goal(goal["id"])
        ratings = engine.ratings(goal["id"])
        assert [r["value"] for r in ratings] == [won]
        assert ratings == [saved[won]]
        assert (shown["scale"], shown["rating_count"]) == (won, 1)
        assert shown["version"] == 2
        assert [e["event"] for e in engine.history(goal["id"])] == ["Created", "Scaled"]
        assert engine.list_goals()[0]["scale"] == won
        assert engine.fingerprint()["events"] == 3
        assert len(engine.fingerprint()["read_models"]["goalengine_ratings"]) == 1
        assert lost not in [r["value"] for r in ratings]


def test_engines_opening_a_new_store_at_the_same_moment_all_succeed(shared_url: str) -> None:
    """Creating the tables of a new store is serialised: none of the openers fails."""
    barrier = threading.Barrier(4, timeout=20)
    failures: list[BaseException] = []

    def open_store(n: int) -> None:
        barrier.wait()
        try:
            with GoalEngine(shared_url, actor=f"therapist:t{n}") as engine:
                engine.add_client(f"Client {n}")
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=open_store, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    with GoalEngine(shared_url) as engine:
        assert sorted(c["name"] for c in engine.list_clients()) == [f"Client {n}" for n in range(4)]
        assert engine.store_info()["format"] == FORMAT_VERSION


def test_each_memory_store_is_its_own_and_gone_when_closed() -> None:
    with GoalEngine("memory://", actor="therapist:lee") as first, GoalEngine(
        "memory://", actor="therapist:lee"
    ) as second:
        record_a_little(first)
        assert [c["name"] for c in first.list_clients()] == ["Alex"]
        assert second.list_clients() == []
        assert second.fingerprint()["events"] == 0
    with GoalEngine("memory://") as third:
        assert third.list_clients() == []


def test_sqlite_and_memory_stores_work_without_the_postgres_extra(tmp_path: Path) -> None:
    """`pip install goalengine` (no extra) must run the demo: nothing may import psycopg."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["psycopg"] = None  # as if the postgres extra were not installed
        from click.testing import CliRunner
        from goalengine import GoalEngine, StoreError
        from goalengine_cli.main import cli

        for url in ("memory://", "sqlite:///{tmp_path / "plain.db"}"):
            with GoalEngine(url, actor="therapist:lee") as engine:
                engine.add_client("Alex")
        result = CliRunner().invoke(cli, ["demo", "--store", "sqlite:///{tmp_path / "d.db"}"])
        assert result.exit_code == 0, result.output
        try:
            GoalEngine("postgresql://postgres@127.0.0.1:5432/test")
        except StoreError as e:
            assert "goalengine[postgres]" in e.message, e.message
        else:
            raise AssertionError("a PostgreSQL store needs psycopg")
        assert "psycopg" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")

"""Issue 8, privacy and environment: private files, no silent new stores, an engine that reads no
environment, redacted credentials, and messages that name records by short id only.

Every refusal is checked for its message, its exit code, no traceback, and the store unchanged
(nothing created)."""

from __future__ import annotations

import getpass
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import postgres_url
from goalengine import (
    AmbiguousId,
    Conflict,
    GoalEngine,
    GoalEngineError,
    InvalidInput,
    NotFound,
    StoreError,
)
from goalengine.config import private_dir, private_file
from goalengine.errors import redact
from goalengine.modalities.manager import make_manager
from goalengine_cli.main import cli


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def one_line_error(result: Result, code: int, pattern: str) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exit_code == code, (result.exit_code, output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    import re

    assert re.search(pattern, lines[0]), (pattern, lines[0])
    return lines[0]


@contextmanager
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def schema_exists(url: str) -> bool:
    import psycopg

    schema = url.rsplit("schema=", 1)[1]
    with psycopg.connect(url.split("?")[0]) as conn:
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None


# -- 6. files are private --------------------------------------------------------------------------


def test_the_api_creates_the_data_dir_0700_and_the_store_and_its_wal_0600(tmp_path: Path) -> None:
    with permissive_umask():
        with GoalEngine(actor="therapist:lee") as engine:  # the default store, in the data dir
            engine.add_client("Alex")
            db = Path(engine.store_url.removeprefix("sqlite:///"))
            wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
            assert wal.exists()
            assert shm.exists()
            assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        assert mode(db.parent) == 0o700
        # A store at a path of one's own choosing too.
        with GoalEngine(f"sqlite:///{tmp_path / 'own.db'}", actor="therapist:lee") as engine:
            engine.add_client("Alex")
            files = sorted(tmp_path.glob("own.db*"))
            assert [p.name for p in files] == ["own.db", "own.db-shm", "own.db-wal"]
            assert {mode(p) for p in files} == {0o600}


def test_the_cli_writes_private_files_whatever_the_umask(tmp_path: Path) -> None:
    """In a process of its own with umask 0: data dir, store, -wal/-shm and an export."""
    home = tmp_path / "home"
    script = (
        "import os, sys\n"
        "os.umask(0)\n"
        "from goalengine_cli.main import cli\n"
        "sys.argv = ['goalengine'] + sys.argv[1:]\n"
        "cli()\n"
    )
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    env.pop("GOALENGINE_STORE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done

    run("client", "add", "Alex")
    data = home / "data" / "goalengine"
    assert mode(data) == 0o700
    assert mode(data / "goalengine.db") == 0o600
    out = tmp_path / "export.jsonl"
    run("audit", "export", "--out", str(out))
    assert mode(out) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_the_helpers_make_private_files_and_dirs(tmp_path: Path) -> None:
    with permissive_umask():
        d = private_dir(tmp_path / "a" / "b")
        with private_file(d / "export.jsonl") as f:
            f.write("x")
        loose = d / "loose"
        loose.write_text("y")
        loose.chmod(0o666)
        with private_file(loose) as f:  # an existing file is tightened before it is written
            f.write("z")
    assert (mode(d), mode(d / "export.jsonl"), mode(loose)) == (0o700, 0o600, 0o600)
    assert loose.read_text() == "z"


# -- 7. no silent new stores -----------------------------------------------------------------------

READS = [
    ["goal", "list"],
    ["client", "list"],
    ["goal", "show", "abcd"],
    ["goal", "history", "abcd"],
    ["client", "show", "abcd"],
    ["goal", "ratings", "abcd"],
    ["goal", "reviews", "abcd"],
    ["session", "list", "abcd"],
    ["audit", "log"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["admin", "rebuild"],
    ["review", "abcd"],
]


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_on_a_missing_sqlite_store_refuses_and_creates_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'goals-typo.db'}"
    result = invoke("--store", url, *args)
    one_line_error(result, 3, rf"^Error: no store at {url}; create it with goalengine --store ")
    assert list(tmp_path.iterdir()) == []


def test_an_export_of_a_missing_store_refuses_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = invoke("--store", url, "audit", "export", "--out", str(tmp_path / "x.jsonl"))
    one_line_error(result, 3, r"no store at ")
    assert list(tmp_path.iterdir()) == []


def test_a_read_on_the_default_store_before_any_write_refuses(tmp_path: Path) -> None:
    result = invoke("goal", "list")
    one_line_error(result, 3, r"no store at sqlite:///.*goalengine\.db; create it with")
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "goalengine").exists()


def test_a_write_creates_the_store_then_reads_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert invoke("--store", url, "client", "add", "Alex").exit_code == 0
    assert invoke("--store", url, "goal", "list").exit_code == 0
    # An empty file (or another program's SQLite file) is no store either.
    empty = tmp_path / "empty.db"
    empty.touch()
    one_line_error(invoke("--store", f"sqlite:///{empty}", "goal", "list"), 3, "no store at")
    assert empty.read_bytes() == b""


def test_the_api_opens_an_existing_store_only_with_create_false(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with pytest.raises(StoreError, match=r"^no store at sqlite:///.*g\.db; create it with") as e:
        GoalEngine(url, create=False)
    assert e.value.exit_code == 3
    assert list(tmp_path.iterdir()) == []
    GoalEngine(url, actor="therapist:lee").close()
    with GoalEngine(url, create=False) as engine:
        assert engine.list_clients() == []


def test_a_read_on_a_missing_postgres_schema_refuses_and_creates_no_schema() -> None:
    url = postgres_url()
    for args in (["goal", "list"], ["audit", "verify"], ["admin", "rebuild"]):
        one_line_error(invoke("--store", url, *args), 3, r"no store at postgresql://.*; create it")
    assert not schema_exists(url)
    with pytest.raises(StoreError, match="no store at"):
        GoalEngine(url, create=False)
    assert not schema_exists(url)
    assert invoke("--store", url, "client", "add", "Alex").exit_code == 0
    assert schema_exists(url)
    assert invoke("--store", url, "goal", "list").exit_code == 0


def test_every_cli_command_is_classed_as_reading_or_writing() -> None:
    import click

    from goalengine_cli.context import READ_ONLY, WRITES

    def leaves(group: click.Group, path: list[str]) -> Iterator[str]:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from leaves(command, [*path, name])
            else:
                yield " ".join([*path, name])

    commands = set(leaves(cli, []))
    assert not READ_ONLY & WRITES
    assert commands - READ_ONLY - WRITES == set(), "class each new command in context.py"


# -- 8. the engine reads no environment ------------------------------------------------------------


def test_an_engine_without_an_actor_reads_but_records_nothing(
    engine: GoalEngine, store_url: str
) -> None:
    client = engine.add_client("Alex", values=["health"])
    goal = engine.create_goal(
        client["id"], "Walk", horizon="long", kind="process", domains=["behavioral"]
    )
    with GoalEngine(store_url if store_url != "memory://" else "memory://") as anonymous:
        if store_url == "memory://":
            assert anonymous.list_clients() == []
            anonymous_client = None
        else:
            assert [c["name"] for c in anonymous.list_clients()] == ["Alex"]
            assert anonymous.get_goal(goal["id"])["title"] == "Walk"
            anonymous_client = client["id"]
        before = anonymous.fingerprint()
        calls: list[Callable[[], Any]] = [lambda: anonymous.add_client("Sam")]
        if anonymous_client is not None:
            calls += [
                lambda: anonymous.scale(goal["id"], 4),
                lambda: anonymous.chain(goal["id"], "A step"),
                lambda: anonymous.record_session(client["id"]),
                lambda: anonymous.achieve(goal["id"]),
                lambda: anonymous.revise_client(client["id"], name="X", reason="r"),
                lambda: anonymous.audit_history(goal["id"]),
            ]
        for call in calls:
            with pytest.raises(InvalidInput, match=r"^no actor: .*actor='therapist:NAME'") as e:
                call()
            assert e.value.details["param"] == "actor"
        assert anonymous.fingerprint() == before
        # An actor given to the command is enough.
        assert anonymous.add_client("Sam", actor="therapist:kim")["name"] == "Sam"


def test_the_engine_ignores_goalengine_actor_and_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOALENGINE_ACTOR", "therapist:from-env")
    monkeypatch.setenv("GOALENGINE_PLUGINS", "core")
    with GoalEngine("memory://") as engine:
        names = [p["name"] for p in engine.list_plugins()]
        assert names[:4] == ["core", "act", "cbt", "dbt"]  # every installed plugin
        with pytest.raises(InvalidInput, match="no actor"):
            engine.add_client("Alex")
    with GoalEngine("memory://", plugins=make_manager(only=["core"])) as engine:
        assert [p["name"] for p in engine.list_plugins()] == ["core"]


def test_the_cli_passes_the_os_user_and_goalengine_actor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    added = json.loads(invoke("--store", url, "--json", "client", "add", "Alex").stdout)
    json.loads(
        invoke(
            "--store",
            url,
            "--json",
            "session",
            "add",
            added["id"],
            env={"GOALENGINE_ACTOR": "therapist:kim"},
        ).stdout
    )
    history = json.loads(invoke("--store", url, "--json", "client", "history", added["id"]).stdout)
    assert [h["actor"] for h in history] == [f"therapist:{getpass.getuser()}", "therapist:kim"]


def test_the_cli_turns_goalengine_plugins_into_the_plugins_loaded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    listed = invoke(
        "--store", url, "--json", "plugins", "list", env={"GOALENGINE_PLUGINS": "core,dbt"}
    )
    assert [p["name"] for p in json.loads(listed.stdout)] == ["core", "dbt"]


def test_an_empty_goalengine_plugins_is_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    for value in ("", " ", ",,"):
        for args in (["client", "add", "Alex"], ["plugins", "list"]):
            result = invoke("--store", url, *args, env={"GOALENGINE_PLUGINS": value})
            one_line_error(result, 2, r"GOALENGINE_PLUGINS is set but names no plugin; unset it")
    assert list(tmp_path.iterdir()) == []


# -- credentials and store URLs --------------------------------------------------------------------


def test_credentials_are_redacted_from_every_message(tmp_path: Path) -> None:
    secret = "s3cr%40t"
    for url in (
        f"postgresql://postgres:{secret}@127.0.0.1:1/test",
        f"postgresql://postgres:{secret}@127.0.0.1:70000/test",
        f"postgresql://postgres:{secret}@[::1/test",
        f"postgresql://postgres:{secret}@127.0.0.1/test?schema=Bad-Name",
    ):
        for args in (["goal", "list"], ["client", "add", "Alex"]):
            for json_flag in ([], ["--json"]):
                result = invoke("--store", url, *json_flag, *args)
                assert secret not in result.stdout + result.stderr
                line = one_line_error(result, 3, r"postgresql://postgres:\*\*\*@|schema")
                assert "s3cr" not in line
        with pytest.raises(StoreError) as e:
            GoalEngine(url, actor="therapist:lee")
        assert "s3cr" not in str(e.value)
        assert "s3cr" not in json.dumps(e.value.details)
    assert redact("password=hunter2 host=x") == "password=*** host=x"
    assert GoalEngineError("at postgresql://u:pw@h/d").message == "at postgresql://u:***@h/d"


def test_a_wrong_password_from_the_database_is_redacted() -> None:
    base = postgres_url()
    url = base.replace("postgresql://postgres@", "postgresql://nosuchuser:s3cret@", 1)
    result = invoke("--store", url, "goal", "list")
    assert "s3cret" not in result.stdout + result.stderr
    one_line_error(result, 3, r"cannot open store postgresql://nosuchuser:\*\*\*@")


@pytest.mark.parametrize(
    ("url", "pattern"),
    [
        ("postgresql://postgres@127.0.0.1:65536/test", r"the port is not a number from 1 to 65535"),
        ("postgresql://postgres@127.0.0.1:99999999/test", r"the port is not a number from 1"),
        ("postgresql://postgres@[::1/test", r"Invalid IPv6 URL \(write an IPv6 host as \[::1\]\)"),
        ("postgresql://postgres@[::1:5432/test", r"Invalid IPv6 URL"),
        ("sqlite:///" + "n" * 256 + ".db", r"a file or directory name in the path is longer than"),
        ("sqlite:///d/" + "n" * 300, r"longer than 255 bytes"),
        ("sqlite:///" + "/x" * 3000, r"cannot open store sqlite:///"),
    ],
)
def test_a_malformed_store_url_is_one_line_exit_3(tmp_path: Path, url: str, pattern: str) -> None:
    os.chdir(tmp_path)
    for args in (["goal", "list"], ["client", "add", "Alex"], ["init"]):
        one_line_error(invoke("--store", url, *args), 3, pattern)
        result = invoke("--store", url, "--json", *args)
        assert json.loads(result.stdout)["error"]["type"] == "StoreError"
    assert list(tmp_path.iterdir()) == []


# -- messages name records by short id, never by their content -------------------------------------

MARK = "Zq9Marker"


def test_no_exception_message_holds_a_records_content(engine: GoalEngine) -> None:
    """Names, titles and values are markers; every kind of error the issue lists is raised, and
    the marker is in no ``str(e)`` (its details may carry it for a screen)."""
    seen: list[GoalEngineError] = []

    def refused(error: type[GoalEngineError], call: Callable[[], Any]) -> GoalEngineError:
        before = engine.fingerprint()
        with pytest.raises(error) as info:
            call()
        assert engine.fingerprint() == before
        seen.append(info.value)
        return info.value

    client = engine.add_client(f"{MARK} client", values=[f"{MARK} value"])
    goal = engine.create_goal(
        client["id"],
        f"{MARK} title",
        horizon="long",
        kind="process",
        domains=["behavioral"],
        values=[f"{MARK} value"],
    )
    engine.record_session(client["id"], number=1, on="2026-10-05")
    refused(
        InvalidInput,
        lambda: engine.create_goal(
            client["id"],
            "T",
            horizon="short",
            kind="process",
            domains=["behavioral"],
            values=[f"{MARK} other value"],
        ),
    )
    refused(
        InvalidInput,
        lambda: engine.create_goal(
            client["id"],
            "T",
            horizon="short",
            kind="process",
            domains=["behavioral"],
            values=["7"],
        ),
    )
    refused(Conflict, lambda: engine.record_session(client["id"], number=1, on="2026-10-06"))
    engine.achieve(goal["id"], note=f"{MARK} note")
    refused(Conflict, lambda: engine.scale(goal["id"], 5, note=f"{MARK} note"))
    refused(Conflict, lambda: engine.revise(goal["id"], title=f"{MARK} new", reason="r"))
    refused(NotFound, lambda: engine.get_goal("ffffffff"))
    # Two clients and two goals sharing a prefix.
    names: dict[str, str] = {}
    for n in range(3000):
        c = engine.add_client(f"{MARK} {n}")
        if c["id"][:4] in names:
            break
        names[c["id"][:4]] = c["id"]
    ambiguous = refused(AmbiguousId, lambda: engine.get_client(c["id"][:4]))
    assert all(MARK in str(x["name"]) for x in ambiguous.details["candidates"])
    assert MARK in ambiguous.screen
    for error in seen:
        assert MARK not in str(error), error
        assert MARK not in error.message, error
        assert error.exit_code in (1, 2)
    unknown = seen[0]
    assert unknown.details["given"] == f"{MARK} other value"
    assert MARK in unknown.screen  # what the CLI shows a person


def test_the_cli_shows_a_person_what_the_details_carry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with GoalEngine(url, actor="therapist:lee") as engine:
        client = engine.add_client(f"{MARK} client", values=["health"])
    args = [
        "goal",
        "create",
        client["id"],
        "T",
        "--horizon",
        "short",
        "--kind",
        "process",
        "--domain",
        "behavioral",
        "--value",
        f"{MARK} wealth",
    ]
    line = one_line_error(invoke("--store", url, *args), 2, r"is not one of client \w{8}'s")
    assert f"given '{MARK} wealth', declared: 1. health" in line
    result = invoke("--store", url, "--json", *args)
    error = json.loads(result.stdout)["error"]
    assert MARK not in error["message"]
    assert error["details"]["given"] == f"{MARK} wealth"

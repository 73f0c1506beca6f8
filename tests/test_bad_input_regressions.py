"""Each cause of a broken record or a traceback the fuzzers found (issue 8, "Input that breaks a
record for good" and "CLI tracebacks"), kept as a named test: the message, the exit code or the
error class, no traceback, and nothing written."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner, Result

from goalengine import GoalEngine
from goalengine.errors import EngineClosed, GoalEngineError, InvalidInput, InvalidType
from goalengine_cli.main import cli


@pytest.fixture
def engine() -> Iterator[GoalEngine]:
    with GoalEngine("memory://", actor="therapist:lee") as e:
        yield e


@pytest.fixture
def ids(engine: GoalEngine) -> dict[str, str]:
    client = engine.add_client("Alex", values=["family", "health"])
    goal = engine.create_goal(
        client["id"], "Walk", horizon="short", kind="process", domains=["behavioral"]
    )
    return {"client": client["id"], "goal": goal["id"]}


def refused(engine: GoalEngine, error: type[GoalEngineError], param: str, call: object) -> None:
    before = engine.fingerprint()
    with pytest.raises(error) as info:
        call()  # type: ignore[operator]
    assert info.value.details["param"] == param
    assert param in info.value.message
    assert engine.fingerprint() == before


def still_loads(engine: GoalEngine, *oids: str) -> None:
    for oid in oids:
        engine._store.app.take_snapshot(UUID(oid))
    for oid in oids:
        engine._store.app.repository.get(UUID(oid))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 2.0])
def test_scale_with_a_nan_or_float_session_is_refused_and_the_goal_still_loads(
    engine: GoalEngine, ids: dict[str, str], bad: float
) -> None:
    refused(engine, InvalidType, "session", lambda: engine.scale(ids["goal"], 4, session=bad))
    engine.scale(ids["goal"], 4, session=2)
    still_loads(engine, ids["goal"])
    assert engine.get_goal(ids["goal"])["scale"] == 4


@pytest.mark.parametrize("bad", [math.nan, math.inf, 1.0])
def test_record_session_with_a_nan_number_is_refused_and_the_client_still_loads(
    engine: GoalEngine, ids: dict[str, str], bad: float
) -> None:
    refused(engine, InvalidType, "number", lambda: engine.record_session(ids["client"], number=bad))
    still_loads(engine, ids["client"])


def test_client_agreed_must_be_a_flag_not_text(engine: GoalEngine, ids: dict[str, str]) -> None:
    refused(
        engine,
        InvalidType,
        "client_agreed",
        lambda: engine.create_goal(
            ids["client"],
            "Walk",
            horizon="short",
            kind="process",
            domains=["behavioral"],
            client_agreed="x",  # type: ignore[arg-type]
        ),
    )
    refused(
        engine,
        InvalidType,
        "client_agreed",
        lambda: engine.revise(ids["goal"], reason="r", client_agreed="no"),  # type: ignore[arg-type]
    )


def test_values_as_one_text_is_refused_not_split_into_characters(engine: GoalEngine) -> None:
    refused(engine, InvalidType, "values", lambda: engine.add_client("Sam", values="-5"))


def test_a_float_rating_is_refused_even_when_whole(engine: GoalEngine, ids: dict[str, str]) -> None:
    refused(engine, InvalidType, "value", lambda: engine.scale(ids["goal"], 4.0))  # type: ignore[arg-type]


def test_a_target_threshold_past_float_range_is_refused(
    engine: GoalEngine, ids: dict[str, str]
) -> None:
    before = engine.fingerprint()
    with pytest.raises(InvalidInput, match="finite"):
        engine.revise(ids["goal"], reason="r", target="phq9<" + "9" * 400)
    assert engine.fingerprint() == before


def test_invalid_input_is_a_value_error_and_invalid_type_a_type_error(
    engine: GoalEngine, ids: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="rating"):
        engine.scale(ids["goal"], 11)
    with pytest.raises(TypeError, match="rating"):
        engine.scale(ids["goal"], "4")  # type: ignore[arg-type]
    assert InvalidType.exit_code == InvalidInput.exit_code == 2


@pytest.mark.parametrize("text", ["\udcff", "a\x00b"])
def test_undecodable_or_nul_text_is_refused(
    engine: GoalEngine, ids: dict[str, str], text: str
) -> None:
    refused(engine, InvalidInput, "note", lambda: engine.scale(ids["goal"], 3, note=text))


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-01T00:00"])
def test_as_of_at_the_calendars_start_is_refused_not_an_overflow(
    engine: GoalEngine, ids: dict[str, str], day: str
) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        engine.get_goal(ids["goal"], as_of=day)
    with pytest.raises(InvalidInput, match="out of range"):
        engine.get_client(ids["client"], as_of=day)


def test_a_closed_engine_raises_engine_closed(engine: GoalEngine, ids: dict[str, str]) -> None:
    engine.close()
    with pytest.raises(EngineClosed, match="closed"):
        engine.list_clients()
    with pytest.raises(EngineClosed):
        engine.scale(ids["goal"], 4)
    with pytest.raises(EngineClosed):
        engine.list_plugins()


# -- the CLI: causes of tracebacks the CLI fuzz (tests/test_cli_fuzz.py) found ----------------


@pytest.fixture
def cli_store(tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with GoalEngine(url, actor="therapist:lee") as e:
        c = e.add_client("Alex", values=["family"])
        g = e.create_goal(c["id"], "Walk", horizon="short", kind="process", domains=["behavioral"])
        e.scale(g["id"], 3)
    return url, {"client": c["id"], "goal": g["id"]}


def run_cli(url: str, *args: str) -> tuple[Result, bool]:
    """Run the CLI; returns the result and whether the store was left as it was."""
    with GoalEngine(url, actor="therapist:lee") as e:
        before = e.fingerprint()
    result = CliRunner().invoke(cli, ["--store", url, "--as", "therapist:lee", *args])
    with GoalEngine(url, actor="therapist:lee") as e:
        unchanged = e.fingerprint() == before
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result, unchanged


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("goal", "show", "<goal>"), "--as-of"),
        (("client", "show", "<client>"), "--as-of"),
        (("audit", "log"), "--until"),
        (("audit", "log"), "--since"),
    ],
)
@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-01T00:00"])
def test_cli_dates_at_the_calendars_start_are_a_usage_error(
    cli_store: tuple[str, dict[str, str]], args: tuple[str, ...], option: str, day: str
) -> None:
    url, ids = cli_store
    result, unchanged = run_cli(
        url, *(ids.get(a.strip("<>"), a) if a.startswith("<") else a for a in args), option, day
    )
    assert result.exit_code == 2
    assert "out of range" in result.output
    assert unchanged


def test_cli_a_non_utf8_byte_in_text_is_refused_and_printed_escaped(
    cli_store: tuple[str, dict[str, str]],
) -> None:
    url, ids = cli_store
    note = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of a Latin-1 byte
    result, unchanged = run_cli(url, "goal", "scale", ids["goal"], "4", "--note", note)
    assert result.exit_code == 2
    assert "note" in result.output
    assert "not valid Unicode" in result.output
    assert unchanged


def test_cli_a_non_utf8_byte_in_a_refused_value_is_shown_escaped_with_json(
    cli_store: tuple[str, dict[str, str]],
) -> None:
    url, ids = cli_store
    result, unchanged = run_cli(url, "--json", "goal", "scale", ids["goal"], "\udc80")
    assert result.exit_code == 2
    assert "\\udc80" in result.output
    assert unchanged


@pytest.mark.parametrize("directory", ["/dev/null", "/dev/null/sub", "a\x00b"])
def test_cli_plugins_new_into_an_unusable_dir_is_a_usage_error(
    cli_store: tuple[str, dict[str, str]], directory: str
) -> None:
    url, _ = cli_store
    result, unchanged = run_cli(url, "plugins", "new", "schema", "--dir", directory)
    assert result.exit_code == 2
    assert "--dir" in result.output
    assert unchanged


def test_cli_plugins_new_with_a_very_long_name_is_a_usage_error(
    cli_store: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, _ = cli_store
    result, _ = run_cli(url, "plugins", "new", "x" * 5000, "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "64 characters" in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "cli.db"]


@pytest.mark.parametrize("bad", [False, 3, b"therapist:lee"])
def test_an_actor_that_is_not_text_is_refused_everywhere(
    engine: GoalEngine, ids: dict[str, str], bad: object
) -> None:
    refused(engine, InvalidType, "actor", lambda: engine.scale(ids["goal"], 4, actor=bad))  # type: ignore[arg-type]
    refused(engine, InvalidType, "actor", lambda: engine.audit_history(ids["goal"], actor=bad))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda e, p: e.checkpoint(key=False), "key"),
        (lambda e, p: e.verify(key="secret"), "key"),
        (lambda e, p: e.verify(checkpoints=None), "checkpoints"),
        (lambda e, p: e.verify(checkpoints="1:ab"), "checkpoints"),
        (lambda e, p: e.verify(checkpoints=[1]), "checkpoints"),
        (lambda e, p: e.events(after=2**63), None),
        (lambda e, p: e.export(None), "out"),
        (lambda e, p: e.export(p / ("x" * 300)), "out"),
        (lambda e, p: e.export(p / "missing" / "x.jsonl"), "out"),
        (lambda e, p: e.export(p), "out"),
        (lambda e, p: e.export(str(p / "a\udc80.jsonl")), "out"),
        (lambda e, p: e.replay(None), "path"),
    ],
)
def test_audit_calls_refuse_wrong_arguments_and_write_nothing(
    tmp_path: Path, call: Any, param: str | None
) -> None:
    """The audit area's API checks its arguments too (found by a one-off fuzz of the audit
    methods): a GoalEngineError naming the parameter, no file, nothing recorded."""
    with GoalEngine(f"sqlite:///{tmp_path / 's.db'}", actor="auditor:kim") as engine:
        engine.add_client("Sam")
        before = engine.fingerprint()
        with pytest.raises(InvalidInput) as caught:
            call(engine, tmp_path)
        if param is not None:
            assert caught.value.details.get("param") == param
        assert engine.fingerprint() == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("s.db")) == []

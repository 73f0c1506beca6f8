"""Bad input through the CLI: one clear line on stderr, the convention's exit code (1 domain,
2 usage, 3 environment), no traceback, ``{"error": …}`` on stdout with --json, and the store
unchanged (its fingerprint: every event and every read-model row, before == after)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import make_store_url
from goalengine import GoalEngine
from goalengine_cli.main import cli

ACTOR = "therapist:lee"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return make_store_url(str(request.param), tmp_path)


def fingerprint(url: str) -> dict[str, Any]:
    with GoalEngine(url) as engine:
        return engine.fingerprint()


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_refused(result: Result, code: int, message: str, *, json_type: str | None) -> None:
    """Exit ``code``, exactly one stderr line ``Error: …`` matching ``message``, no traceback;
    with --json (``json_type``), one JSON error document on stdout."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exit_code == code, (result.exit_code, output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert re.search(message, lines[0]), (message, lines[0])
    if json_type is None:
        assert result.stdout == ""
    else:
        error = json.loads(result.stdout)["error"]
        assert error["type"] == json_type
        assert error["message"] == lines[0].removeprefix("Error: ")
        assert isinstance(error["details"], dict)


@pytest.fixture
def seeded(url: str) -> dict[str, str]:
    """A client, an open long-term goal, an achieved goal and an abandoned one."""
    with GoalEngine(url, actor=ACTOR) as engine:
        alex = engine.add_client("Alex", values=["friendship"])

        def goal(title: str, horizon: str = "long") -> str:
            created = engine.create_goal(
                alex["id"], title, horizon=horizon, kind="process", domains=["behavioral"]
            )
            return str(created["id"])

        open_goal = goal("Build a social life I enjoy")
        achieved = goal("Walk after lunch")
        engine.achieve(achieved, note="done")
        abandoned = goal("Join a running club")
        engine.abandon(abandoned, reason="clashes with bedtime")
        return {
            "client": str(alex["id"]),
            "goal": open_goal,
            "achieved": achieved,
            "abandoned": abandoned,
        }


Case = tuple[str, Callable[[dict[str, str]], list[str]], int, str, str]

TOMORROW_PLUS = (date.today() + timedelta(days=3)).isoformat()
CREATE = ["--horizon", "short", "--kind", "process", "--domain", "behavioral"]

CASES: list[Case] = [
    # -- scale outside 0-10 or not a number (click rejects it: usage, exit 2)
    (
        "scale 11",
        lambda s: ["goal", "scale", s["goal"], "11"],
        2,
        r"Invalid value for 'N': a rating is a whole number from 0 to 10, not 11\. See "
        r"'goalengine goal scale --help'\.$",
        "UsageError",
    ),
    (
        "scale -1",
        lambda s: ["goal", "scale", s["goal"], "--", "-1"],
        2,
        r"a rating is a whole number from 0 to 10, not -1",
        "UsageError",
    ),
    (
        "scale abc",
        lambda s: ["goal", "scale", s["goal"], "abc"],
        2,
        r"a rating is a whole number from 0 to 10, not abc",
        "UsageError",
    ),
    (
        "scale 4.5",
        lambda s: ["goal", "scale", s["goal"], "4.5"],
        2,
        r"a rating is a whole number from 0 to 10, not 4\.5",
        "UsageError",
    ),
    (
        "alignment 12",
        lambda s: ["goal", "review", s["goal"], "keep", "--alignment", "12"],
        2,
        r"Invalid value for '--alignment'",
        "UsageError",
    ),
    # -- unknown ids (the domain: exit 1) and malformed ones (usage: exit 2)
    (
        "unknown goal",
        lambda s: ["goal", "scale", _absent(s["goal"]), "5"],
        1,
        r"no goal has an id starting with '[0-9a-f]{8}'$",
        "NotFound",
    ),
    (
        "unknown client",
        lambda s: ["goal", "create", _absent(s["client"]), "A title", *CREATE],
        1,
        r"no client has an id starting with",
        "NotFound",
    ),
    (
        "a client's id as a goal",
        lambda s: ["goal", "achieve", s["client"]],
        1,
        r"is not a goal",
        "NotFound",
    ),
    (
        "short prefix",
        lambda s: ["goal", "show", s["goal"][:3]],
        2,
        r"not an id or a prefix of at least 4 hex characters",
        "InvalidInput",
    ),
    # -- a missing or empty reason
    (
        "revise without reason",
        lambda s: ["goal", "revise", s["goal"], "--title", "New"],
        2,
        r"Missing option '--reason'\.",
        "UsageError",
    ),
    (
        "revise with an empty reason",
        lambda s: ["goal", "revise", s["goal"], "--title", "New", "--reason", "  "],
        2,
        r"a revision needs a reason",
        "InvalidInput",
    ),
    (
        "revise nothing",
        lambda s: ["goal", "revise", s["goal"], "--reason", "because"],
        2,
        r"nothing to revise",
        "InvalidInput",
    ),
    (
        "abandon without reason",
        lambda s: ["goal", "abandon", s["goal"]],
        2,
        r"Missing option '--reason'",
        "UsageError",
    ),
    (
        "abandon with an empty reason",
        lambda s: ["goal", "abandon", s["goal"], "--reason", ""],
        2,
        r"abandoning a goal needs a reason",
        "InvalidInput",
    ),
    (
        "void without reason",
        lambda s: ["goal", "void", s["goal"]],
        2,
        r"Missing option '--reason'",
        "UsageError",
    ),
    (
        "client revise without reason",
        lambda s: ["client", "revise", s["client"], "--name", "Al"],
        2,
        r"Missing option '--reason'",
        "UsageError",
    ),
    # -- closed goals
    (
        "scale an achieved goal",
        lambda s: ["goal", "scale", s["achieved"], "5"],
        1,
        r"goal [0-9a-f]{8} was achieved on \d{4}-\d\d-\d\d; it can no longer be scaled$",
        "Conflict",
    ),
    (
        "scale an abandoned goal",
        lambda s: ["goal", "scale", s["abandoned"][:6], "5"],
        1,
        r"was abandoned on \d{4}-\d\d-\d\d; it can no longer be scaled$",
        "Conflict",
    ),
    (
        "chain an abandoned goal",
        lambda s: ["goal", "chain", s["abandoned"], "A step"],
        1,
        r"was abandoned on .*; it can no longer be given steps$",
        "Conflict",
    ),
    (
        "create a step under an achieved goal",
        lambda s: ["goal", "create", s["client"], "A step", *CREATE, "--parent", s["achieved"]],
        1,
        r"was achieved on .*; it can no longer be given steps$",
        "Conflict",
    ),
    (
        "resume an achieved goal",
        lambda s: ["goal", "resume", s["achieved"]],
        1,
        r"it can no longer be resumed",
        "Conflict",
    ),
    (
        "revise an abandoned goal",
        lambda s: ["goal", "revise", s["abandoned"], "--title", "x", "--reason", "r"],
        1,
        r"it can no longer be revised",
        "Conflict",
    ),
    # -- unknown horizon, kind, domain and other choices
    (
        "unknown horizon",
        lambda s: [
            "goal",
            "create",
            s["client"],
            "T",
            "--horizon",
            "medium",
            "--kind",
            "process",
            "--domain",
            "behavioral",
        ],
        2,
        r"Invalid value for '--horizon': 'medium' is not one of 'short', 'long'",
        "UsageError",
    ),
    (
        "unknown kind",
        lambda s: [
            "goal",
            "create",
            s["client"],
            "T",
            "--horizon",
            "short",
            "--kind",
            "habit",
            "--domain",
            "behavioral",
        ],
        2,
        r"Invalid value for '--kind': 'habit' is not one of 'process', 'outcome'",
        "UsageError",
    ),
    (
        "unknown domain",
        lambda s: [
            "goal",
            "create",
            s["client"],
            "T",
            "--horizon",
            "short",
            "--kind",
            "process",
            "--domain",
            "social",
        ],
        2,
        r"Invalid value for '--domain': 'social' is not one of",
        "UsageError",
    ),
    (
        "no domain",
        lambda s: ["goal", "create", s["client"], "T", "--horizon", "short", "--kind", "process"],
        2,
        r"Missing option '--domain'",
        "UsageError",
    ),
    (
        "unknown rater",
        lambda s: ["goal", "scale", s["goal"], "5", "--rater", "auditor"],
        2,
        r"Invalid value for '--rater'",
        "UsageError",
    ),
    (
        "unknown review outcome",
        lambda s: ["goal", "review", s["goal"], "maybe"],
        2,
        r"Invalid value for '\{keep\|adjust\|retire\}'|Invalid value for 'OUTCOME'",
        "UsageError",
    ),
    (
        "unknown status",
        lambda s: ["goal", "list", "--status", "done"],
        2,
        r"Invalid value for '--status'",
        "UsageError",
    ),
    # -- empty title and other malformed values
    (
        "empty title",
        lambda s: ["goal", "create", s["client"], "", *CREATE],
        2,
        r"title must not be empty$",
        "InvalidInput",
    ),
    (
        "blank title",
        lambda s: ["goal", "create", s["client"], "   ", *CREATE],
        2,
        r"title must not be empty$",
        "InvalidInput",
    ),
    (
        "empty step title",
        lambda s: ["goal", "chain", s["goal"], ""],
        2,
        r"title must not be empty$",
        "InvalidInput",
    ),
    (
        "bad target",
        lambda s: ["goal", "create", s["client"], "T", *CREATE, "--target", "phq9 below 10"],
        2,
        r"Invalid value for '--target': target 'phq9 below 10' is not NAME OP NUMBER",
        "UsageError",
    ),
    (
        "bad date",
        lambda s: ["goal", "scale", s["goal"], "5", "--on", "next tuesday"],
        2,
        r"Invalid value for '--on': 'next tuesday' is not a date",
        "UsageError",
    ),
    (
        "rating in the future",
        lambda s: ["goal", "scale", s["goal"], "5", "--on", TOMORROW_PLUS],
        2,
        r"rating date .* is in the future",
        "InvalidInput",
    ),
    (
        "a value the client does not hold",
        lambda s: ["goal", "create", s["client"], "T", *CREATE, "--value", "wealth"],
        2,
        r"a value given is not one of client \w{8}'s 1 declared value\(s\)",
        "InvalidInput",
    ),
    (
        "empty client name",
        lambda s: ["client", "add", " "],
        2,
        r"a client needs a display name$",
        "InvalidInput",
    ),
    (
        "four values",
        lambda s: ["client", "add", "Sam", *[a for v in "abcd" for a in ("--value", v)]],
        2,
        r"at most 3 ranked values",
        "InvalidInput",
    ),
    (
        "bad actor",
        lambda s: ["--as", "lee", "goal", "list"],
        2,
        r"Invalid value for '--as'.*actor 'lee' is not ROLE:NAME",
        "UsageError",
    ),
    (
        "unknown option",
        lambda s: ["goal", "list", "--colour", "blue"],
        2,
        r"No such option '--colour'",
        "UsageError",
    ),
    (
        "reorder a goal that is no step",
        lambda s: ["goal", "reorder", s["goal"], "--position", "1"],
        2,
        r"is not a step of another goal",
        "InvalidInput",
    ),
]


def _absent(ident: str) -> str:
    return ("0000" if not ident.startswith("0000") else "ffff") + "beef"


def test_bad_input_is_refused_with_one_line_and_changes_nothing(
    url: str, seeded: dict[str, str]
) -> None:
    assert len({c[0] for c in CASES}) == len(CASES)
    watcher = GoalEngine(url)  # reads the store as each invocation's own engine leaves it
    for name, build, code, message, kind in CASES:
        args = build(seeded)
        before = watcher.fingerprint()
        variants = [(args, None), (["--json", *args], kind)]
        if "--" not in args:  # after "--", --json would be an argument
            variants.append(([*args, "--json"], kind))
        for given, json_type in variants:
            result = invoke("--store", url, "--as", ACTOR, *given)
            try:
                assert_refused(result, code, message, json_type=json_type)
            except AssertionError as e:
                raise AssertionError(f"{name} ({' '.join(given)}): {e}") from e
        assert watcher.fingerprint() == before, f"{name}: refused, but the store changed"
    watcher.close()
    assert fingerprint(url) == before


def test_usage_errors_never_open_the_store(tmp_path: Path) -> None:
    # A usage error is reported before any store is opened (or created).
    path = tmp_path / "never.db"
    result = invoke("--store", f"sqlite:///{path}", "goal", "scale", "abcd", "11")
    assert_refused(result, 2, r"a rating is a whole number", json_type=None)
    assert not path.exists()


@pytest.mark.parametrize(
    ("make_url", "message"),
    [
        (lambda p: "foo://bar", r"cannot open store 'foo://bar': use sqlite:///file\.db"),
        (lambda p: "sqlite:///", r"sqlite store URL has no file"),
        (lambda p: f"sqlite:///{p}/missing/x.db", r"directory .*/missing does not exist$"),
        (lambda p: f"sqlite:///{p}", r" is a directory$"),
        (lambda p: f"sqlite:///{p}/not-sqlite.db", r"not-sqlite\.db is not a SQLite file$"),
        # A path that cannot be written: its "directory" is a file.
        (lambda p: f"sqlite:///{p}/a-file/x.db", r"cannot open store .*a-file/x\.db: "),
        (
            lambda p: "postgresql://postgres@127.0.0.1:1/test",
            r"cannot open store postgresql://postgres@127\.0\.0\.1:1/test: ",
        ),
        (
            lambda p: "postgresql://postgres@127.0.0.1/test?schema=Bad-Name",
            r"schema 'Bad-Name' is not a plain lower-case SQL name",
        ),
    ],
)
def test_a_store_that_cannot_be_opened_exits_3(
    tmp_path: Path, make_url: Callable[[Path], str], message: str
) -> None:
    (tmp_path / "not-sqlite.db").write_text("hello")
    (tmp_path / "a-file").write_text("")
    before = sorted(p.name for p in tmp_path.iterdir())
    url = make_url(tmp_path)
    for args in (["goal", "list"], ["client", "add", "Alex"], ["init"]):
        result = invoke("--store", url, *args)
        assert_refused(result, 3, message, json_type=None)
        result = invoke("--store", url, "--json", *args)
        assert_refused(result, 3, message, json_type="StoreError")
    # Nothing was created or changed.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "not-sqlite.db").read_text() == "hello"
    assert (tmp_path / "a-file").read_text() == ""

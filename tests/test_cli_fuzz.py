"""Every CLI command fuzzed with hostile arguments (issue 8, item 5): no traceback, ever.

The argument lists are built from each command's real options and arguments (click's own
description of them), filled with hostile values: huge and negative numbers, NaN text, the
calendar's first and last days, undecodable bytes (surrogateescape), empty and very long texts,
paths into unwritable directories and /dev/null as a directory, besides real ids. Each invocation
runs on a seeded SQLite store and must exit 0-3 with no traceback; a refusal (exit != 0) must
leave the store as it was. ``CLI_FUZZ_CASES`` (default 2,400) is spread over the commands.
``plugins install``/``uninstall`` run pip and are left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalengine import GoalEngine
from goalengine_cli.main import cli

TOTAL = int(os.environ.get("CLI_FUZZ_CASES", "2400"))
SKIP = {("plugins", "install"), ("plugins", "uninstall")}


def leaves(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        elif (*path, name) not in SKIP:
            yield (*path, name), command


COMMANDS = dict(leaves(cli))
PER_COMMAND = max(10, TOTAL // len(COMMANDS) + 1)

HOSTILE = [
    "",
    " ",
    "-1",
    "0",
    "11",
    "99999999999999999999999999",
    "-99999999999999999999999",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59+14:00",
    "today",
    "x" * 5000,
    "caf\udce9",  # a non-UTF-8 byte, as surrogateescape gives it
    "\udcff\udcfe",
    "a\x00b",
    "=",
    "k=",
    "=v",
    "phq9<" + "9" * 400,
    "phq9<nan",
    "/dev/null",
    "/dev/null/sub",
    "/proc/goalengine-no",
    "/",
    "therapist:lee",
    "supervisor:x",
    "client:",
    "keep",
    "short",
    "process",
    "behavioral",
    "cbt",
    "dbt",
    "--json",
    "-",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    url = f"sqlite:///{path}"
    with GoalEngine(url, actor="therapist:lee") as e:
        c = e.add_client("Alex", values=["family", "health"])
        g = e.create_goal(c["id"], "Run", horizon="long", kind="outcome", domains=["behavioral"])
        s = e.chain(g["id"], "Walk")
        e.scale(g["id"], 3)
        e.record_session(c["id"], on="2026-01-05")
        ids = {"client": c["id"], "goal": g["id"], "step": s["id"]}
    return url, ids


def values(ids: dict[str, str]) -> st.SearchStrategy[str]:
    real = [*ids.values(), *(v[:8] for v in ids.values())]
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(real),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=12),
        st.binary(max_size=6).map(lambda b: b.decode("utf-8", "surrogateescape")),
    )


def argv_for(
    data: st.DataObject, path: tuple[str, ...], command: click.Command, ids: dict[str, str]
) -> list[str]:
    value = values(ids)
    argv: list[str] = list(path)
    options = [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    for opt in data.draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        flag = data.draw(st.sampled_from(opt.opts))
        if opt.is_flag or opt.count:
            argv.append(flag)
        else:
            argv.extend([flag, *(data.draw(value) for _ in range(max(1, opt.nargs)))])
    for arg in arguments:
        n = arg.nargs if arg.nargs > 0 else data.draw(st.integers(0, 3))
        if data.draw(st.integers(0, 9)) == 0:
            n = max(0, n - 1)  # sometimes one too few
        argv.extend(data.draw(value) for _ in range(n))
    return argv


def state(engine: GoalEngine) -> Any:
    return engine.fingerprint()


#: Tracebacks found in the audit area, reported to its developer (not fixed here): a NUL byte
#: in ``audit checkpoint|verify --key-file`` or ``audit replay FILE``, an ``audit export --out`` path
#: that cannot be written (too long, unwritable directory).
AUDIT_FINDINGS: set[str] = set()


def _case(name: str) -> Any:
    if name in AUDIT_FINDINGS:
        return pytest.param(
            name, marks=pytest.mark.xfail(reason="audit area finding, reported", strict=False)
        )
    return name


@pytest.mark.parametrize("name", [_case(" ".join(p)) for p in sorted(COMMANDS)])
def test_a_command_never_shows_a_traceback(
    name: str, store: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, ids = store
    path = tuple(name.split())
    command = COMMANDS[path]
    runner = CliRunner()
    watcher = GoalEngine(url, actor="therapist:lee")
    env = {"GOALENGINE_STORE": None, "GOALENGINE_ACTOR": None, "GOALENGINE_PLUGINS": None}
    cwd = os.getcwd()
    os.chdir(tmp_path)

    @settings(
        max_examples=PER_COMMAND,
        deadline=None,
        derandomize=os.environ.get("FUZZ_RANDOM") is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        argv = ["--store", url, "--as", "therapist:lee", *argv_for(data, path, command, ids)]
        if data.draw(st.booleans()):
            argv.insert(0, "--json")
        before = state(watcher)
        result = runner.invoke(cli, argv, env=env, catch_exceptions=True)
        shown = (
            f"{[a if len(a) < 60 else a[:20] + f'…({len(a)})' for a in argv]!r}\n"
            + (result.output[-2000:])
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{shown}\n{result.exception!r}"
        )
        assert "Traceback" not in result.output, shown
        assert result.exit_code in {0, 1, 2, 3}, shown
        if result.exit_code != 0:
            assert state(watcher) == before, f"refused but wrote: {shown}"

    try:
        run()
    finally:
        os.chdir(cwd)
        watcher.close()


def test_the_fuzz_runs_at_least_2000_cases_in_ci() -> None:
    assert PER_COMMAND * len(COMMANDS) >= 2000

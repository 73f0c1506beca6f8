"""docs/audit.md is exact: its stand-alone export check (standard library only) agrees with
goalengine on real exports, clean and tampered, and every audit command it names exists."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goalengine import GoalEngine
from goalengine_cli.audit import audit

PAGE = Path(__file__).resolve().parent.parent / "docs" / "audit.md"


def _checker() -> Callable[[str], int]:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {"__name__": "audit_docs"}
    exec(compile(blocks[0], str(PAGE), "exec"), namespace)
    return namespace["check_export"]  # type: ignore[no-any-return]


@pytest.fixture
def export(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    with GoalEngine(f"sqlite:///{tmp_path / 's.db'}", actor="therapist:lee") as e:
        client = e.add_client("Alex")
        goal = e.create_goal(
            client["id"], "Walk", horizon="long", kind="process", domains=["behavioral"]
        )
        e.chain(goal["id"], "Walk 5 minutes")
        for v in (1, 3, 4):
            e.scale(goal["id"], v)
        since = e.history(goal["id"])[3]["recorded_at"]
        e.export(tmp_path / "all.jsonl")
        e.export(tmp_path / "seg.jsonl", since=since)
        manifest = e.export(tmp_path / "client.jsonl", client=client["id"])
    return tmp_path, manifest


def test_the_documented_check_accepts_real_exports(export: tuple[Path, dict[str, Any]]) -> None:
    check = _checker()
    tmp, manifest = export
    assert check(str(tmp / "all.jsonl"))["events"] == 7
    assert check(str(tmp / "seg.jsonl"))["events"] < 7
    assert check(str(tmp / "client.jsonl"))["events"] == manifest["counts"]["events"]


@pytest.mark.parametrize("line", [2, 4, 6])
def test_the_documented_check_catches_an_edit(
    export: tuple[Path, dict[str, Any]], line: int
) -> None:
    check = _checker()
    tmp, _ = export
    lines = (tmp / "all.jsonl").read_text().splitlines(keepends=True)
    obj = json.loads(lines[line - 1])
    state = json.loads(obj["state"])
    state["x"] = 1
    obj["state"] = json.dumps(state)
    lines[line - 1] = json.dumps(obj) + "\n"
    (tmp / "bad.jsonl").write_text("".join(lines))
    with pytest.raises(ValueError, match=f"line {line}: content edited"):
        check(str(tmp / "bad.jsonl"))


def test_the_documented_check_catches_a_cut(export: tuple[Path, dict[str, Any]]) -> None:
    check = _checker()
    tmp, _ = export
    lines = (tmp / "all.jsonl").read_text().splitlines(keepends=True)
    (tmp / "cut.jsonl").write_text("".join(lines[:-1]))
    with pytest.raises(ValueError, match="access record is missing"):
        check(str(tmp / "cut.jsonl"))
    (tmp / "gap.jsonl").write_text("".join([*lines[:2], *lines[3:]]))
    with pytest.raises(ValueError, match="line 3: positions missing"):
        check(str(tmp / "gap.jsonl"))


def test_every_audit_command_is_documented() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for name in audit.commands:
        assert f"audit {name}" in text, f"docs/audit.md does not mention `audit {name}`"

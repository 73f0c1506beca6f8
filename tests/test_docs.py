"""The docs are part of the feature: their examples run, and the event reference is complete."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from goalengine.aggregates import Client, Goal

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("page", ["docs/embedding.md", "README.md"])
def test_python_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(ROOT / page)
    assert blocks, f"{page} has no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for block in blocks:
        exec(compile(block, page, "exec"), namespace)


def _event_classes() -> list[type]:
    out = []
    for aggregate in (Goal, Client):
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and name not in ("Event", "StatusChanged")
                # eventsourcing defines Client.Created as a base; Client.Registered is stored
                and not (aggregate is Client and name == "Created")
            ):
                out.append(value)
    return out


@pytest.mark.parametrize("event", _event_classes(), ids=lambda e: e.__qualname__)
def test_every_event_and_field_is_documented(event: type) -> None:
    text = (DOCS / "events.md").read_text()
    heading = re.search(rf"^### .*\b{re.escape(event.__qualname__)}\b.*$", text, flags=re.M)
    assert heading, f"docs/events.md has no heading for {event.__qualname__}"
    section = text[heading.end() :].split("\n### ")[0]
    common = {
        "originator_id",
        "originator_version",
        "timestamp",
        "actor",
        "findings",
        "originator_topic",
    }
    for field in dataclasses.fields(event):
        if field.name in common:
            continue
        assert f"`{field.name}`" in section, (
            f"docs/events.md does not describe {event.__qualname__}.{field.name}"
        )
    version = getattr(event, "class_version", 1)
    assert f"version {version}" in heading.group(0)

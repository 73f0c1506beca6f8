"""``goalengine demo --json`` keeps its shape: every key and every value's type, pinned.

The demo exercises most result shapes (clients, goals with steps, ratings, reviews, revisions,
the history). Its output is normalised — ids numbered in order of appearance, times and dates
replaced by placeholders — and compared with ``tests/golden/demo-shape.json``. A deliberate change
of a result's shape shows here first: regenerate the file on purpose with
``GOALENGINE_WRITE_DEMO_SHAPE=1 python -m pytest tests/test_demo_shape.py`` and list the change
in CHANGELOG.md.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from goalengine_cli.main import cli

SHAPE = Path(__file__).resolve().parent / "golden" / "demo-shape.json"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def normalise(value: Any, ids: dict[str, str]) -> Any:
    """Ids → ``<id N>`` (the same id, the same N), times → ``<time>``, dates → ``<date>``;
    dict keys that are ids are normalised too."""
    if isinstance(value, dict):
        return {normalise(k, ids): normalise(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, ids) for v in value]
    if isinstance(value, str):
        if _UUID.match(value):
            return ids.setdefault(value, f"<id {len(ids) + 1}>")
        if _TIME.match(value):
            return "<time>"
        if _DATE.match(value):
            return "<date>"
        if value.startswith("sqlite:///"):
            return "<store>"
    return value


def test_demo_json_keeps_its_shape(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(cli, ["--json", "demo", "--store", store])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    shape = normalise(json.loads(result.stdout), {})
    text = json.dumps(shape, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("GOALENGINE_WRITE_DEMO_SHAPE") == "1":
        SHAPE.write_text(text, encoding="utf-8")
    assert json.loads(SHAPE.read_text(encoding="utf-8")) == shape

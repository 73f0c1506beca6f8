"""The audit's fast paths give the answers of the plain ones.

- ``audit replay`` parses export lines with orjson when it is installed (a dependency) and with the
  standard library otherwise: both read the same files to the same states and refuse the same
  damage with the same message.
- ``audit verify`` compares a snapshot with the replayed state on the stored bytes when the store
  wrote them as it does (``{…,"state":STATE}``), else on the decoded JSON: the byte check never
  accepts what the JSON comparison would refuse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import make_store_url
from goalengine import GoalEngine
from goalengine.audit import offline
from goalengine.audit.snapshots import holds as _holds
from goalengine.errors import IntegrityFailure

PARSERS = {"orjson": offline._loads, "json": offline._json_loads}


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    tmp = tmp_path / "store"
    tmp.mkdir()
    with GoalEngine(make_store_url("sqlite", tmp), actor="therapist:lee") as e:
        client = e.add_client("Zoë «Z» Ärger", values=["friendship"])
        goal = e.create_goal(
            client["id"], "Walk — daily 🚶", horizon="short", kind="process", domains=["behavioral"]
        )
        for i in range(55):  # past a snapshot
            e.scale(goal["id"], i % 11, note=f'week {i}: "quoted" \\ and \u2028 too')
        e.revise(goal["id"], reason="clearer", description="a walk after lunch")
        e.export(tmp / "x.jsonl")
    return tmp / "x.jsonl"


def _replayed(path: Path) -> tuple[Any, dict[str, Any]]:
    data = offline.load(path)
    aggregates, _ = offline.replay(data)
    return data, {oid: offline.state_of(a) for oid, a in aggregates.items()}


def test_both_parsers_read_an_export_alike(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = {}
    for name, loads in PARSERS.items():
        monkeypatch.setattr(offline, "_loads", loads)
        data, states = _replayed(exported)
        results[name] = (data.manifest, data.lines, states)
    assert results["orjson"] == results["json"]
    assert len(results["json"][1]) == 58


@pytest.mark.parametrize("parser", sorted(PARSERS))
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda ls: [ls[0], "{not json\n", *ls[1:]], "line 2: not a JSON object"),
        (lambda ls: [ls[0], "[1, 2]\n", *ls[1:]], "line 2: not a JSON object"),
        (lambda ls: [*ls[:-1], ls[-1][:-1]], "cut short"),
        (lambda ls: [*ls[:3], ls[3].replace('"content": "', '"content": "0'), *ls[4:]], "line 4"),
    ],
)
def test_both_parsers_refuse_damage_alike(
    exported: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parser: str,
    damage: Any,
    message: str,
) -> None:
    monkeypatch.setattr(offline, "_loads", PARSERS[parser])
    lines = exported.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(damage(lines)), encoding="utf-8")
    with pytest.raises(IntegrityFailure, match=message):
        offline.load(bad)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@given(st.dictionaries(st.text(max_size=6), _json, min_size=1), _json, _json)
def test_the_snapshot_byte_check_agrees_with_the_json_comparison(
    head: dict[str, Any], state: Any, replayed: Any
) -> None:
    stored = _encode({**{k: v for k, v in head.items() if k != "state"}, "state": state})
    # Whenever the byte check accepts, the stored JSON's state is the replayed one.
    if _holds(stored, _encode(replayed)):
        assert json.loads(stored)["state"] == replayed
    assert _holds(stored, _encode(state))  # the store's own layout: accepted


@pytest.mark.parametrize(
    "stored",
    [
        b'garbage,"state":{"a":1}}',
        b'{"x":"y,"state":{"a":1}}',
        b'{,"state":{"a":1}}',
        b'{"x":[1,"state":{"a":1}}',
        b'{"x":{"state":{"a":1}}',
    ],
)
def test_the_snapshot_byte_check_refuses_what_is_not_that_json(stored: bytes) -> None:
    assert not _holds(stored, b'{"a":1}')


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_both_parsers_refuse_a_line_that_is_not_utf8(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser: str
) -> None:
    monkeypatch.setattr(offline, "_loads", PARSERS[parser])
    lines = exported.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"owner": "', b'"owner": "\xff')
    bad = tmp_path / "latin.jsonl"
    bad.write_bytes(b"".join(lines))
    with pytest.raises(IntegrityFailure, match="line 3: not UTF-8 text"):
        offline.load(bad)

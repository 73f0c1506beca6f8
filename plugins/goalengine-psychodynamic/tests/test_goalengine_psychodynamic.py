"""goalengine-psychodynamic: discovered through its entry point, and its rules through the API
and the CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

# Installed (as in CI) or, on a developer machine, from the source next to these tests.
if importlib.util.find_spec("goalengine_psychodynamic") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import goalengine_psychodynamic

from goalengine import GoalEngine, RuleViolation
from goalengine.modalities.manager import builtin_plugins, discover, make_manager


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's data directory or their GOALENGINE_* settings."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("GOALENGINE_STORE", "GOALENGINE_ACTOR", "GOALENGINE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


def require_installed() -> None:
    """Skip unless the distribution is installed; under CI=true it must be (fail instead)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("goalengine-psychodynamic")
    except PackageNotFoundError:
        message = "goalengine-psychodynamic is not installed: pip install plugins/goalengine-psychodynamic"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


INSIGHT = {
    "horizon": "long",
    "kind": "process",
    "domains": ["emotional"],
    "values": ["closeness"],
    "due": "2027-06-01",
}


@pytest.fixture
def engine() -> Iterator[GoalEngine]:
    plugins = make_manager({**builtin_plugins(), "psychodynamic": goalengine_psychodynamic})
    with GoalEngine("memory://", actor="therapist:lee", plugins=plugins) as e:
        yield e


@pytest.fixture
def client(engine: GoalEngine) -> dict[str, Any]:
    return engine.add_client("Robin", modality="psychodynamic", values=["closeness"])


# -- discovery ---------------------------------------------------------------------------------


def test_goalengine_discovers_the_installed_plugin_through_its_entry_point() -> None:
    require_installed()
    found = {c.name: c for c in discover()}
    assert found["psychodynamic"].module == "goalengine_psychodynamic"
    assert found["psychodynamic"].source == "entry point of goalengine-psychodynamic"
    # The default engine (no plugin list given) loads it with the built-ins.
    with GoalEngine("memory://", actor="therapist:lee") as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["psychodynamic"]["status"] == "ok", listed["psychodynamic"]["reason"]
        assert listed["psychodynamic"]["version"] == goalengine_psychodynamic.__version__
        assert listed["psychodynamic"]["modalities"] == ["psychodynamic"]
        assert "psychodynamic" in [m["name"] for m in engine.list_modalities()]


def test_the_cli_lists_the_installed_plugin(tmp_path: Any) -> None:
    require_installed()
    from goalengine_cli.main import cli

    store = f"sqlite:///{tmp_path / 'g.db'}"
    result = CliRunner().invoke(cli, ["--store", store, "--json", "plugins", "list"])
    assert result.exit_code == 0, result.output
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["psychodynamic"]["status"] == "ok"
    assert plugins["psychodynamic"]["rules"] == [
        "psychodynamic.insight-anchors",
        "psychodynamic.pattern-tracking",
    ]


def test_goalengine_plugins_limits_what_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    require_installed()
    # The CLI turns GOALENGINE_PLUGINS into make_manager(only=...); the engine reads no variable.
    from goalengine.modalities.manager import make_manager

    with GoalEngine("memory://", plugins=make_manager(only=["core", "cbt"])) as engine:
        assert [p["name"] for p in engine.list_plugins()] == ["core", "cbt"]


# -- rules through the API ---------------------------------------------------------------------


def test_an_insight_goal_without_anchors_is_refused(
    engine: GoalEngine, client: dict[str, Any]
) -> None:
    before = engine.fingerprint()
    with pytest.raises(RuleViolation) as refused:
        engine.create_goal(
            client["id"], "Recognise my pattern of withdrawing when close", **INSIGHT
        )
    assert "--anchor-low and --anchor-high" in refused.value.screen
    errors = [f for f in refused.value.details["findings"] if f["severity"] == "error"]
    assert [f["rule"] for f in errors] == ["psychodynamic.insight-anchors"]
    assert engine.fingerprint() == before


def test_an_insight_goal_with_anchors_gets_the_pattern_tracking_suggestion(
    engine: GoalEngine, client: dict[str, Any]
) -> None:
    goal = engine.create_goal(
        client["id"],
        "Recognise my pattern of withdrawing when close",
        anchor_low="I don't see why it keeps happening",
        anchor_high="I notice it as it starts and can choose",
        **INSIGHT,
    )
    findings = {f["rule"]: f for f in goal["findings"]}
    tracking = findings["psychodynamic.pattern-tracking"]
    assert tracking["severity"] == "suggestion"
    assert tracking["plugin"] == "psychodynamic"
    assert tracking["plugin_version"] == goalengine_psychodynamic.__version__
    # The finding is stored in the event, not recomputed.
    assert engine.history(goal["id"])[0]["findings"] == goal["findings"]


def test_the_focus_attribute_decides_what_is_an_insight_goal(
    engine: GoalEngine, client: dict[str, Any]
) -> None:
    with pytest.raises(RuleViolation):
        engine.create_goal(
            client["id"],
            "Make sense of my anger at my boss",
            attributes={"focus": "origins"},
            **INSIGHT,
        )
    goal = engine.create_goal(
        client["id"],
        "Sleep seven hours a night",
        attributes={"focus": "symptom"},
        **{**INSIGHT, "domains": ["behavioral"]},
    )
    assert not any(f["rule"].startswith("psychodynamic.") for f in goal["findings"])


def test_suggested_steps_and_review(engine: GoalEngine, client: dict[str, Any]) -> None:
    goal = engine.create_goal(
        client["id"],
        "Understand the origins of my fear of rejection",
        anchor_low="no idea",
        anchor_high="I can trace it and it loosens",
        **INSIGHT,
    )
    steps = engine.suggest_steps(goal["id"])
    ours = [s for s in steps if s["plugin"] == "psychodynamic"]
    assert ours[0]["title"] == "Note one instance of the pattern each week"
    assert ours[0]["target"] == "pattern_notes>=1/week"
    items = engine.client_review(client["id"])["items"]
    assert any(i["plugin"] == "psychodynamic" and i["goal_id"] == goal["id"] for i in items)


def test_through_the_cli(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from goalengine_cli.main import cli

    # Without installing: GOALENGINE_PLUGINS may load a module by name (name=module).
    monkeypatch.setenv("GOALENGINE_PLUGINS", "core,psychodynamic=goalengine_psychodynamic")
    store = ["--store", f"sqlite:///{tmp_path / 'g.db'}", "--json"]
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [*store, "client", "add", "Robin", "--modality", "psychodynamic", "--value", "closeness"],
    )
    assert added.exit_code == 0, added.output
    cid = json.loads(added.stdout)["id"]
    args = [
        *store,
        "goal",
        "create",
        cid,
        "Recognise my pattern of withdrawing when close",
        "--horizon",
        "long",
        "--kind",
        "process",
        "--domain",
        "emotional",
    ]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["type"] == "RuleViolation"
    assert "psychodynamic.insight-anchors" in refused.stderr
    made = runner.invoke(
        cli,
        [
            *args,
            "--anchor-low",
            "blind to it",
            "--anchor-high",
            "see it coming",
            "--attr",
            "focus=relational-pattern",
        ],
    )
    assert made.exit_code == 0, made.output
    rules = [f["rule"] for f in json.loads(made.stdout)["findings"]]
    assert "psychodynamic.pattern-tracking" in rules
    shown = runner.invoke(cli, [*store, "modalities", "show", "psychodynamic"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["attributes"][0]["choices"] == list(goalengine_psychodynamic.FOCUS)
    assert data["rules"][0]["severity"] == "error"

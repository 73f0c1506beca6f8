"""The plugin contract: loading, attribution, isolation, every hook through the API and the CLI.

Each hook has a test named ``test_hook_<name>`` (a meta-test below fails when one is missing) and
a heading in docs/plugins/hooks.md with its exact signature (checked in test_plugins_docs.py).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

import goalengine
from goalengine import GoalEngine, InvalidInput, PluginError, RuleViolation, hookimpl
from goalengine.modalities import Modality, Rule, hookspecs
from goalengine.modalities.manager import BUILTIN_PLUGINS, discover, make_manager
from plugin_helpers import engine_with, rules, run, run_json, write_plugin

SHORT = {"horizon": "short", "kind": "process", "domains": ["behavioral"]}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'goals.db'}"


# A small outside plugin, as a module source: the modality "mood" with one warning rule.
MOOD = """
from goalengine import hookimpl
from goalengine.modalities import Attribute, Modality, Priority, ReviewItem, Rule, StepTemplate

__version__ = "2.3.4"
CHECK_IN = Rule("mood.check-in", "warning", "Check in", "Every mood goal gets a check-in.")

@hookimpl
def register_modalities(register):
    register(Modality("mood", "Mood work", "A test modality."))

@hookimpl
def register_attributes(register):
    register(Attribute("mood", "colour", "a colour", choices=("blue", "green")))

@hookimpl
def register_rules(register):
    register(CHECK_IN)

@hookimpl
def validate_goal(goal, action):
    if action == "create":
        return [CHECK_IN.flag(f"check in on '{goal.title}' weekly")]
    return []

@hookimpl
def prioritize_goals(goals):
    ordered = sorted(goals, key=lambda g: g.title)
    return [Priority(g.id, "alphabetical (mood)") for g in ordered]

@hookimpl
def suggest_steps(goal):
    return [StepTemplate("Mood diary for a week", target="diary>=7/week")]

@hookimpl
def review(goals):
    return [ReviewItem("suggestion", f"{len(goals)} mood goal(s) to check")]
"""


# -- loading ------------------------------------------------------------------------------------


def test_builtins_are_entry_points_of_the_goalengine_group() -> None:
    found = {c.name: c for c in discover(only=list(BUILTIN_PLUGINS))}
    assert list(found) == ["core", "act", "cbt", "dbt"]
    for name, module in BUILTIN_PLUGINS.items():
        assert found[name].module == module
        assert found[name].source == "built-in"
    plugins = make_manager(only=list(BUILTIN_PLUGINS)).plugins()
    assert [(p.name, p.status, p.version) for p in plugins] == [
        (n, "ok", goalengine.__version__) for n in BUILTIN_PLUGINS
    ]


def test_goalengine_plugins_limits_what_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI turns GOALENGINE_PLUGINS into make_manager(only=...); the engine reads no variable.
    with GoalEngine("memory://", plugins=make_manager(only=["core", " dbt"])) as engine:
        assert [p["name"] for p in engine.list_plugins()] == ["core", "dbt"]
        assert [m["name"] for m in engine.list_modalities()] == ["dbt"]
        with pytest.raises(
            InvalidInput, match="unknown modality 'cbt'; registered modalities: dbt"
        ):
            engine.add_client("Alex", modality="cbt")


def test_goalengine_plugins_naming_a_missing_plugin_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with GoalEngine("memory://", plugins=make_manager(only=["core", "nosuch"])) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["core"]["status"] == "ok"
        assert listed["nosuch"]["status"] == "failed"
        assert "no installed plugin has that name" in listed["nosuch"]["reason"]


def test_a_module_can_be_loaded_by_name_without_installing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = write_plugin(tmp_path, monkeypatch, MOOD)
    with GoalEngine("memory://", plugins=make_manager(only=["core", f"mood={module}"])) as engine:
        (mood,) = [p for p in engine.list_plugins() if p["name"] == "mood"]
        assert mood["status"] == "ok"
        assert mood["version"] == "2.3.4"
        assert mood["source"] == "GOALENGINE_PLUGINS"


def test_the_manager_loads_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = write_plugin(tmp_path, monkeypatch, "raise RuntimeError('imported!')\n")
    manager = make_manager({"bad": module})
    # Nothing is imported until the manager is used.
    engine = GoalEngine("memory://", plugins=manager)
    engine.close()
    (info,) = manager.plugins()
    assert info.status == "failed"
    assert "imported!" in (info.reason or "")


def test_a_plugin_that_fails_to_import_is_reported_and_others_keep_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    module = write_plugin(tmp_path, monkeypatch, "import no_such_module_anywhere\n")
    with engine_with(sqlite_url, broken=module) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["broken"]["status"] == "failed"
        assert "cannot import" in listed["broken"]["reason"]
        assert "no_such_module_anywhere" in listed["broken"]["reason"]
        client = engine.add_client("Alex", modality="cbt")
        engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
    # The CLI shows it too, with the reason.
    result = run(sqlite_url, "plugins", "list", plugins=f"core,cbt,broken={module}")
    assert result.exit_code == 0
    assert "broken" in result.stdout
    assert "failed" in result.stdout
    assert "reason: cannot import" in result.stdout


def test_a_modality_whose_plugin_failed_to_load_refuses_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = write_plugin(tmp_path, monkeypatch, "raise ImportError('half installed')\n")
    with engine_with(mood=module) as engine:
        before = engine.fingerprint()
        with pytest.raises(PluginError, match="modality 'mood' is not available: plugin mood"):
            engine.add_client("Alex", modality="mood")
        assert engine.fingerprint() == before


class Thief:
    """Claims a modality and a rule id another plugin holds."""

    def __init__(self, modality: str, rule: str | None = None) -> None:
        self.modality, self.rule = modality, rule

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        register(Modality(self.modality, "Stolen"))

    @hookimpl
    def register_rules(self, register: Any) -> None:
        if self.rule:
            register(Rule(self.rule, "warning", "Stolen rule"))


def test_an_outside_plugin_claiming_a_builtin_modality(sqlite_url: str) -> None:
    with engine_with(sqlite_url, thief=Thief("dbt")) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["dbt"]["status"] == "ok"
        assert listed["thief"]["status"] == "failed"
        assert listed["thief"]["reason"] == (
            "registers modality 'dbt', a name reserved for goalengine's built-in plugins; "
            "plugin 'thief' was not loaded"
        )
        # DBT still belongs to dbt.
        assert engine.show_modality("dbt")["plugin"] == "dbt"


def test_a_duplicate_rule_id_fails_the_later_plugin() -> None:
    with engine_with(thief=Thief("other", "dbt.hierarchy")) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["thief"]["status"] == "failed"
        assert (
            "rule 'dbt.hierarchy', a name reserved for goalengine's built-in plugins"
            in (listed["thief"]["reason"])
        )
        # Its modality was not registered either: nothing half-loaded.
        assert "other" not in [m["name"] for m in engine.list_modalities()]


def test_a_duplicate_plugin_name_fails_the_later_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = write_plugin(tmp_path, monkeypatch, MOOD)
    only = ["core", "cbt", f"cbt={module}"]
    with GoalEngine("memory://", plugins=make_manager(only=only)) as engine:
        failed = [p for p in engine.list_plugins() if p["status"] == "failed"]
        assert len(failed) == 1
        assert (
            "plugin name 'cbt' is reserved for goalengine's built-in plugin"
            in (failed[0]["reason"])
        )


class UnknownHook:
    @hookimpl
    def validate_goals(self, goal: Any) -> None:  # a typo of validate_goal
        return None


class WrongArgument:
    @hookimpl
    def validate_goal(self, goal: Any, colour: Any) -> None:
        return None


class RaisingRegister:
    @hookimpl
    def register_modalities(self, register: Any) -> None:
        register("not a Modality")


def test_invalid_plugins_are_reported_not_loaded() -> None:
    with engine_with(typo=UnknownHook(), arg=WrongArgument(), reg=RaisingRegister()) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
    assert listed["typo"]["reason"] == "implements unknown hook(s): validate_goals"
    assert listed["arg"]["reason"] == (
        "invalid plugin: hook validate_goal takes argument(s) colour that goalengine does not "
        "pass (it passes: goal, client, modality, action)"
    )
    assert listed["reg"]["reason"].startswith("raised in register_modalities: TypeError")
    assert all(listed[n]["status"] == "failed" for n in ("typo", "arg", "reg"))
    assert all(listed[n]["status"] == "ok" for n in BUILTIN_PLUGINS)


# -- isolation at command time ----------------------------------------------------------------


class Exploding:
    """A modality whose hooks raise."""

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        register(Modality("boom", "Exploding"))

    @hookimpl
    def validate_goal(self, goal: Any) -> None:
        raise ZeroDivisionError("division by zero in a rule")

    @hookimpl
    def review(self) -> None:
        raise KeyError("lost")


EXPLODING = """
from goalengine import hookimpl
from goalengine.modalities import Modality

@hookimpl
def register_modalities(register):
    register(Modality("boom", "Exploding"))

@hookimpl
def validate_goal(goal):
    raise ZeroDivisionError("division by zero in a rule")
"""


def test_a_plugin_raising_inside_a_hook_refuses_the_command(store_url: str) -> None:
    with engine_with(store_url, boom=Exploding()) as engine:
        client = engine.add_client("Alex", modality="boom")
        cbt = engine.add_client("Sam", modality="cbt")
        before = engine.fingerprint()
        with pytest.raises(PluginError) as refused:
            engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
        assert refused.value.message == (
            "plugin boom raised in validate_goal: ZeroDivisionError: division by zero "
            "in a rule; nothing was recorded"
        )
        assert refused.value.details == {"plugin": "boom", "hook": "validate_goal"}
        assert refused.value.exit_code == 3
        assert engine.fingerprint() == before
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["boom"]["status"] == "failed"
        assert "ZeroDivisionError" in listed["boom"]["reason"]
        # Other modalities keep working.
        engine.create_goal(cbt["id"], "Walk 20 minutes after lunch", **SHORT)


def test_a_plugin_raising_inside_a_hook_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    module = write_plugin(tmp_path, monkeypatch, EXPLODING)
    plugins = f"core,cbt,boom={module}"
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "boom", plugins=plugins)["id"]
    with GoalEngine(sqlite_url) as engine:
        before = engine.fingerprint()
    result = run(
        sqlite_url, "--json", "goal", "create", cid, "Walk after lunch", "--horizon", "short",
        "--kind", "process", "--domain", "behavioral", plugins=plugins,
    )  # fmt: skip
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "PluginError"
    assert error["details"]["plugin"] == "boom"
    assert result.stderr.startswith("Error: plugin boom raised in validate_goal:")
    assert "Traceback" not in result.output
    with GoalEngine(sqlite_url) as engine:
        assert engine.fingerprint() == before


class Lying:
    """Flags a rule it never registered, returns junk, and orders goals wrongly."""

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        register(Modality("lies", "Lying"))

    @hookimpl
    def validate_goal(self, goal: Any) -> Any:
        if "junk" in goal.title:
            return "not a list"
        from goalengine.modalities import Flag

        return [Flag("dbt.hierarchy", "I am not dbt")]

    @hookimpl
    def prioritize_goals(self, goals: Any) -> Any:
        from goalengine.modalities import Priority

        return [Priority(goals[0].id, "only the first")]


def test_a_plugin_cannot_speak_for_another_or_return_junk() -> None:
    with engine_with(lies=Lying()) as engine:
        client = engine.add_client("Alex", modality="lies")
        before = engine.fingerprint()
        with pytest.raises(
            PluginError, match=r"a flag of rule 'dbt\.hierarchy' it did not register"
        ):
            engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
        with pytest.raises(PluginError, match="returned 'not a list'"):
            engine.create_goal(client["id"], "Walk junk minutes after lunch", **SHORT)
        assert engine.fingerprint() == before


def test_a_wrong_ordering_answer_is_refused() -> None:
    with engine_with(lies=Lying()) as engine:
        cbt = engine.add_client("Alex", modality="cbt")
        goals = [
            engine.create_goal(cbt["id"], f"Walk {n} minutes after lunch", **SHORT)["id"]
            for n in (10, 20)
        ]
        engine.revise_client(cbt["id"], modality="lies", reason="switching")
        with pytest.raises(PluginError, match="does not list each goal exactly once"):
            engine.prioritized_goals(cbt["id"])
        before = engine.fingerprint()
        with pytest.raises(PluginError):
            engine.prioritize_client(cbt["id"], goals)
        assert engine.fingerprint() == before


class ReviewBomb:
    """A modality-independent plugin whose review raises."""

    @hookimpl
    def review(self) -> None:
        raise KeyError("lost")


def test_a_review_survives_a_raising_plugin_risk_first() -> None:
    with engine_with(bomb=ReviewBomb()) as engine:
        client = engine.add_client("Alex", modality="dbt")
        engine.create_goal(
            client["id"], "Practise one skill daily", attributes={"category": "skills"}, **SHORT
        )
        risky = engine.create_goal(
            client["id"],
            "No self-harm this month",
            attributes={"category": "life-threatening", "risk": "imminent"},
            **SHORT,
        )
        items = engine.client_review(client["id"])["items"]
        # Imminent risk first, whatever order the plugins answered in.
        assert items[0]["risk"] is True
        assert items[0]["goal_id"] == risky["id"]
        assert items[0]["message"].startswith("imminent risk:")
        (error,) = [i for i in items if i["kind"] == "error"]
        assert error["plugin"] == "bomb"
        assert "raised in review: KeyError" in error["message"]
        # The other plugins' items are still there.
        assert [i["plugin"] for i in items if i["kind"] == "agenda"] == ["dbt", "dbt"]


# -- recorded findings survive the plugin -------------------------------------------------------


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_history_replays_identically_after_the_plugin_is_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_kind: str
) -> None:
    from conftest import make_store_url

    url = make_store_url(store_kind, tmp_path)  # stores that outlive their engine
    module = write_plugin(tmp_path, monkeypatch, MOOD)
    with engine_with(url, mood=module) as engine:
        client = engine.add_client("Alex", modality="mood", values=["family"])
        goal = engine.create_goal(
            client["id"], "Walk 20 minutes after lunch", attributes={"colour": "blue"}, **SHORT
        )
        engine.scale(goal["id"], 3)
        engine.pause(goal["id"])
        assert rules(goal)["mood.check-in"]["plugin_version"] == "2.3.4"
        recorded = {
            "history": engine.history(goal["id"]),
            "goal": engine.get_goal(goal["id"]),
            "first": engine.get_goal(goal["id"], version=1),
            "client": engine.client_history(client["id"]),
            "fingerprint": engine.fingerprint(),
        }
    # The plugin is uninstalled: only the built-ins load now.
    with engine_with(url) as engine:
        assert "mood" not in [p["name"] for p in engine.list_plugins()]
        assert engine.history(goal["id"]) == recorded["history"]
        assert engine.history(goal["id"])[0]["findings"] == goal["findings"]
        assert engine.get_goal(goal["id"]) == recorded["goal"]
        assert engine.get_goal(goal["id"], version=1) == recorded["first"]
        assert engine.client_history(client["id"]) == recorded["client"]
        assert engine.list_goals(client=client["id"])[0]["attributes"] == {"colour": "blue"}
        engine.rebuild_read_models()
        assert engine.fingerprint() == recorded["fingerprint"]
        # Reads work; a command that needs the plugin is refused and records nothing.
        with pytest.raises(PluginError, match="modality 'mood' is not available"):
            engine.resume(goal["id"])
        with pytest.raises(PluginError, match="modality 'mood' is not available"):
            engine.create_goal(client["id"], "Another goal for Alex", **SHORT)
        with pytest.raises(PluginError, match="modality 'mood' is not available"):
            engine.chain(goal["id"], "A step under a goal of a missing modality")
        assert engine.fingerprint() == recorded["fingerprint"]
        # The review still answers, saying what is missing.
        items = engine.client_review(client["id"])["items"]
        assert items[0]["kind"] == "error"
        assert "modality 'mood' is not available" in items[0]["message"]


# -- bad input ----------------------------------------------------------------------------------


def test_unknown_modality_is_refused_everywhere(engine: GoalEngine) -> None:
    client = engine.add_client("Alex", modality="cbt")
    before = engine.fingerprint()
    for attempt in (
        lambda: engine.add_client("Sam", modality="gestalt"),
        lambda: engine.revise_client(client["id"], modality="gestalt", reason="x"),
        lambda: engine.create_goal(client["id"], "Walk daily", modality="gestalt", **SHORT),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert "unknown modality 'gestalt'; registered modalities: " in refused.value.message
        assert {"act", "cbt", "dbt"} <= set(refused.value.details["choices"])
    assert engine.fingerprint() == before


def test_modality_attributes_are_checked(engine: GoalEngine) -> None:
    dbt = engine.add_client("Alex", modality="dbt")
    plain = engine.add_client("Sam")
    before = engine.fingerprint()
    cases = [
        (dbt, {}, "modality dbt needs attribute category (one of: life-threatening, "),
        (dbt, {"category": "urgent"}, "attribute category='urgent' is not valid for modality dbt"),
        (dbt, {"category": "skills", "mood": "x"}, "unknown attribute(s) mood for modality dbt; "
         "valid: category, risk"),
        (plain, {"category": "skills"}, "attribute(s) category need a modality"),
    ]  # fmt: skip
    for client, attributes, message in cases:
        with pytest.raises(InvalidInput) as refused:
            engine.create_goal(client["id"], "Walk daily", attributes=attributes, **SHORT)
        assert refused.value.message.startswith(message), refused.value.message
    goal = engine.create_goal(
        dbt["id"], "Go to every session", attributes={"category": "therapy-interfering"}, **SHORT
    )
    before = engine.fingerprint()
    with pytest.raises(InvalidInput, match="valid: category, risk"):
        engine.revise(goal["id"], attributes={"stage": "1"}, reason="typo")
    with pytest.raises(InvalidInput, match="needs attribute category"):
        engine.revise(goal["id"], attributes={}, reason="dropped")
    assert engine.fingerprint() == before


def test_bad_attribute_input_through_the_cli(sqlite_url: str) -> None:
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "dbt")["id"]
    base = ["goal", "create", cid, "Walk daily", "--horizon", "short", "--kind", "process",
            "--domain", "behavioral"]  # fmt: skip
    malformed = run(sqlite_url, *base, "--attr", "category")
    assert malformed.exit_code == 2
    assert "'category' is not KEY=VALUE" in malformed.stderr
    unknown = run(sqlite_url, *base, "--attr", "colour=red")
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == (
        "Error: unknown attribute(s) colour for modality dbt; valid: category, risk"
    )
    twice = run(sqlite_url, *base, "--attr", "category=skills", "--attr", "category=skills")
    assert twice.exit_code == 2
    bad_modality = run(sqlite_url, "client", "add", "Sam", "--modality", "gestalt")
    assert bad_modality.exit_code == 2
    assert "unknown modality 'gestalt'" in bad_modality.stderr
    with GoalEngine(sqlite_url) as engine:
        assert engine.list_goals() == []
        assert len(engine.list_clients()) == 1


# -- every hook through the API and the CLI -----------------------------------------------------


@pytest.fixture
def mood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return write_plugin(tmp_path, monkeypatch, MOOD)


def test_hook_register_modalities(mood: str, sqlite_url: str) -> None:
    with engine_with(mood=mood) as engine:
        listed = {m["name"]: m for m in engine.list_modalities()}
        assert listed["mood"]["title"] == "Mood work"
        assert listed["mood"]["plugin"] == "mood"
        assert listed["mood"]["plugin_version"] == "2.3.4"
        assert engine.add_client("Alex", modality="MOOD")["modality"] == "mood"
    result = run(sqlite_url, "modalities", "list", plugins=f"core,mood={mood}")
    assert result.exit_code == 0
    assert "mood  Mood work  mood 2.3.4  colour" in result.stdout


def test_hook_register_attributes(mood: str, sqlite_url: str) -> None:
    with engine_with(mood=mood) as engine:
        (colour,) = engine.show_modality("mood")["attributes"]
        assert colour == {
            "key": "colour",
            "description": "a colour",
            "choices": ["blue", "green"],
            "required": False,
        }
    plugins = f"core,mood={mood}"
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "mood", plugins=plugins)["id"]
    made = run_json(
        sqlite_url, "goal", "create", cid, "Walk twenty minutes daily", "--horizon", "short",
        "--kind", "process", "--domain", "behavioral", "--attr", "colour=green", plugins=plugins,
    )  # fmt: skip
    assert made["attributes"] == {"colour": "green"}
    refused = run(
        sqlite_url, "goal", "create", cid, "Walk twenty minutes daily", "--horizon", "short",
        "--kind", "process", "--domain", "behavioral", "--attr", "colour=red", plugins=plugins,
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "choose one of: blue, green" in refused.stderr


def test_hook_register_rules(mood: str, sqlite_url: str) -> None:
    with engine_with(mood=mood) as engine:
        shown = engine.show_modality("mood")
        assert shown["rules"] == [
            {
                "id": "mood.check-in",
                "severity": "warning",
                "title": "Check in",
                "explanation": "Every mood goal gets a check-in.",
                "source": "",
                "plugin": "mood",
                "plugin_version": "2.3.4",
            }
        ]
        assert "core.vague-goal" in [r["id"] for r in shown["general_rules"]]
    result = run(sqlite_url, "modalities", "show", "mood", plugins=f"core,mood={mood}")
    assert result.exit_code == 0
    assert "mood.check-in  [warning]  Check in" in result.stdout
    listed = run_json(sqlite_url, "plugins", "list", plugins=f"core,mood={mood}")
    assert listed[1]["rules"] == ["mood.check-in"]
    implemented = (*hookspecs.HOOKS[:4], "prioritize_goals", "review", "suggest_steps")
    assert listed[1]["hooks"] == sorted(implemented)


def test_hook_validate_goal(mood: str, sqlite_url: str) -> None:
    with engine_with(mood=mood) as engine:
        client = engine.add_client("Alex", modality="mood")
        goal = engine.create_goal(client["id"], "Walk twenty minutes daily", **SHORT)
        assert rules(goal)["mood.check-in"] == {
            "rule": "mood.check-in",
            "severity": "warning",
            "message": "check in on 'Walk twenty minutes daily' weekly",
            "plugin": "mood",
            "plugin_version": "2.3.4",
        }
        # Recorded in the event, returned by the command.
        assert engine.history(goal["id"])[0]["findings"] == goal["findings"]
        # A goal of another modality does not get this plugin's rules.
        other = engine.create_goal(client["id"], "Walk daily", modality="cbt", **SHORT)
        assert "mood.check-in" not in rules(other)
    plugins = f"core,mood={mood}"
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "mood", plugins=plugins)["id"]
    result = run(
        sqlite_url, "goal", "create", cid, "Walk twenty minutes daily", "--horizon", "short",
        "--kind", "process", "--domain", "behavioral", plugins=plugins,
    )  # fmt: skip
    assert result.exit_code == 0
    assert "warning: check in on 'Walk twenty minutes daily' weekly (mood.check-in)" in (
        result.stdout
    )


def test_hook_validate_priorities(sqlite_url: str) -> None:
    with engine_with(sqlite_url) as engine:
        client = engine.add_client("Alex", modality="dbt")
        skills = engine.create_goal(
            client["id"], "Practise one skill daily", attributes={"category": "skills"}, **SHORT
        )
        life = engine.create_goal(
            client["id"],
            "No self-harm this month",
            attributes={"category": "life-threatening"},
            **SHORT,
        )
        before = engine.fingerprint()
        with pytest.raises(RuleViolation) as refused:
            engine.prioritize_client(client["id"], [skills["id"]])
        assert refused.value.details["findings"][0]["rule"] == "dbt.hierarchy"
        assert engine.fingerprint() == before
        done = engine.prioritize_client(client["id"], [life["id"], skills["id"]])
        assert done["priorities"] == [life["id"], skills["id"]]
        assert done["findings"] == []
    result = run(sqlite_url, "client", "prioritize", client["id"][:8], skills["id"][:8])
    assert result.exit_code == 1
    assert "dbt.hierarchy" in result.stderr


def test_hook_prioritize_goals(mood: str, sqlite_url: str) -> None:
    with engine_with(sqlite_url, mood=mood) as engine:
        client = engine.add_client("Alex", modality="mood")
        ids = [
            engine.create_goal(client["id"], title, **SHORT)["id"]
            for title in ("Walk daily", "Call a friend weekly", "Read nightly")
        ]
        order = engine.prioritized_goals(client["id"])
        assert [o["title"] for o in order] == ["Call a friend weekly", "Read nightly", "Walk daily"]
        assert {o["reason"] for o in order} == {"alphabetical (mood)"}
        assert order[0]["plugin"] == "mood"
        # Without an answering plugin: the clinician's order, then the oldest first.
        cbt = engine.add_client("Sam", modality="cbt")
        first = engine.create_goal(cbt["id"], "Walk daily", **SHORT)
        second = engine.create_goal(cbt["id"], "Read nightly", **SHORT)
        assert [o["id"] for o in engine.prioritized_goals(cbt["id"])] == [
            first["id"],
            second["id"],
        ]
        engine.prioritize_client(cbt["id"], [second["id"]])
        shown = engine.prioritized_goals(cbt["id"])
        assert [(o["id"], o["reason"]) for o in shown] == [
            (second["id"], "clinician's order"),
            (first["id"], "default order: oldest first"),
        ]
    assert ids
    result = run(sqlite_url, "client", "priorities", client["id"], plugins=f"core,mood={mood}")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("1  ")
    assert "Call a friend weekly" in result.stdout.splitlines()[1]


def test_hook_suggest_steps(mood: str, sqlite_url: str) -> None:
    with engine_with(sqlite_url, mood=mood) as engine:
        client = engine.add_client("Alex", modality="mood")
        goal = engine.create_goal(
            client["id"], "Feel steadier through the week", horizon="long", kind="process",
            domains=["emotional"],
        )  # fmt: skip
        steps = engine.suggest_steps(goal["id"])
        by_plugin = {s["plugin"] for s in steps}
        assert by_plugin == {"core", "mood"}
        (ours,) = [s for s in steps if s["plugin"] == "mood"]
        assert ours == {
            "title": "Mood diary for a week",
            "kind": "process",
            "description": "",
            "target": "diary>=7/week",
            "plugin": "mood",
            "plugin_version": "2.3.4",
        }
    result = run(sqlite_url, "goal", "suggest-steps", goal["id"][:8], plugins=f"core,mood={mood}")
    assert result.exit_code == 0
    assert "- Mood diary for a week [process]  (target diary>=7/week)  (mood)" in result.stdout


def test_hook_review(mood: str, sqlite_url: str) -> None:
    with engine_with(sqlite_url, mood=mood) as engine:
        client = engine.add_client("Alex", modality="mood")
        engine.create_goal(client["id"], "Walk twenty minutes daily", **SHORT)
        review = engine.client_review(client["id"])
        assert review["items"] == [
            {
                "kind": "suggestion",
                "message": "1 mood goal(s) to check",
                "goal_id": None,
                "risk": False,
                "plugin": "mood",
                "plugin_version": "2.3.4",
            }
        ]
    result = run(sqlite_url, "--json", "review", client["id"], plugins=f"core,mood={mood}")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["items"][0]["message"] == "1 mood goal(s) to check"


def test_the_old_name_review_client_still_gives_the_review_and_warns(
    mood: str, sqlite_url: str
) -> None:
    with engine_with(sqlite_url, mood=mood) as engine:
        client = engine.add_client("Alex", modality="mood")
        engine.create_goal(client["id"], "Walk twenty minutes daily", **SHORT)
        with pytest.warns(DeprecationWarning, match="client_review"):
            review = engine.review_client(client["id"])
        assert review == engine.client_review(client["id"])
        assert [i["message"] for i in review["items"]] == ["1 mood goal(s) to check"]


# -- meta-tests ---------------------------------------------------------------------------------


def test_every_hook_has_a_test() -> None:
    tested = {name[len("test_hook_") :] for name in globals() if name.startswith("test_hook_")}
    assert set(hookspecs.HOOKS) == tested


def test_every_hook_is_specified_typed_and_documented() -> None:
    specs = {
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "goalengine_spec")
    }
    assert specs == set(hookspecs.HOOKS)
    for name in hookspecs.HOOKS:
        fn = getattr(hookspecs, name)
        doc = inspect.getdoc(fn) or ""
        summary = doc.splitlines()[0]
        assert summary.endswith("."), name
        assert ("Single answer" in doc) or ("used" in doc) or ("called once" in doc), name
        params = inspect.signature(fn).parameters
        for param in params:
            assert f":param {param}:" in doc, (name, param)
            assert params[param].annotation is not inspect.Parameter.empty, (name, param)
        assert ":return:" in doc, name
        assert inspect.signature(fn).return_annotation is not inspect.Signature.empty


def test_the_package_root_exports_hookimpl() -> None:
    assert goalengine.hookimpl is hookspecs.hookimpl
    assert "hookimpl" in goalengine.__all__

"""Plugins cannot take over (issue 8, item 9): reserved built-in names, contested modalities,
one rule for goals whose plugin is missing, checked client modality changes, one-line load
failures, listings without a store, and the smaller CLI promises around plugins.

Every refusal is checked for its message, its exit code, no traceback, and an unchanged store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from goalengine import Conflict, InvalidInput, PluginError, hookimpl
from goalengine.modalities import Modality
from goalengine.modalities.manager import make_manager
from goalengine_cli.main import cli
from plugin_helpers import engine_with, run, run_json, write_plugin

SHORT = {"horizon": "short", "kind": "process", "domains": ["behavioral"]}
LONG = {"horizon": "long", "kind": "outcome", "domains": ["emotional"]}


def mood_plugin(version: str, rule: str = "check-in") -> str:
    """The source of a plugin providing modality ``mood`` (rule ``mood.<rule>``)."""
    return f"""
from goalengine import hookimpl
from goalengine.modalities import Modality, Rule

__version__ = "{version}"
RULE = Rule("mood.{rule}", "warning", "Check in", "Every mood goal gets a check-in.")

@hookimpl
def register_modalities(register):
    register(Modality("mood", "Mood work {version}", "A test modality."))

@hookimpl
def register_rules(register):
    register(RULE)

@hookimpl
def validate_goal(goal, action):
    return [RULE.flag("check in weekly")] if action == "create" else []
"""


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'goals.db'}"


class Claims:
    """An outside plugin object registering the given modality."""

    def __init__(self, modality: str) -> None:
        self.modality = modality

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        register(Modality(self.modality, "Claimed"))


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# -- reserved names -----------------------------------------------------------------------------


def test_builtin_plugin_and_modality_names_are_reserved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    module = write_plugin(tmp_path, monkeypatch, mood_plugin("1.0"))
    # An outside plugin under a built-in's name, and one claiming built-in modality names, with
    # the built-ins themselves not even loaded: both fail, whatever the load order.
    plugins = make_manager({"dbt": module, "thief": Claims("cbt"), "core2": Claims("core")})
    listed = {p.name: p for p in plugins.plugins()}
    assert listed["dbt"].status == "failed"
    assert listed["dbt"].reason == (
        f"plugin name 'dbt' is reserved for goalengine's built-in plugin; {module} was not loaded "
        "(give it another entry-point name)"
    )
    assert listed["thief"].reason == (
        "registers modality 'cbt', a name reserved for goalengine's built-in plugins; "
        "plugin 'thief' was not loaded"
    )
    assert listed["core2"].status == "failed"
    assert not plugins.modalities()
    # Through the CLI: listed as failed with the reason; the built-in keeps its modality.
    result = run(sqlite_url, "--json", "plugins", "list", plugins=f"core,cbt,act={module}")
    assert result.exit_code == 0
    by_name = {p["name"]: p for p in json.loads(result.stdout)}
    assert by_name["cbt"]["status"] == "ok"
    failed = [p for p in json.loads(result.stdout) if p["status"] == "failed"]
    assert [p["module"] for p in failed] == [module]
    assert "plugin name 'act' is reserved" in failed[0]["reason"]


def test_two_outside_plugins_claiming_one_modality_get_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    first = write_plugin(tmp_path, monkeypatch, mood_plugin("1.0", "check-in"))
    newcomer = write_plugin(tmp_path, monkeypatch, mood_plugin("9.9", "other"))
    # Only the first is installed: a goal of modality mood is recorded with its findings.
    with engine_with(sqlite_url, mood=first) as engine:
        client = engine.add_client("Alex", modality="mood")
        goal = engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
        assert goal["findings"][-1]["plugin"] == "mood"
    # A newcomer whose name sorts first claims the same modality: neither gets it.
    with engine_with(sqlite_url, aaa=newcomer, mood=first) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["aaa"]["status"] == listed["mood"]["status"] == "failed"
        assert listed["aaa"]["reason"] == (
            "registers modality 'mood', also registered by plugin 'mood'; neither is loaded "
            "until one is left out of GOALENGINE_PLUGINS or uninstalled"
        )
        assert "also registered by plugin 'aaa'; neither is loaded" in listed["mood"]["reason"]
        before = engine.fingerprint()
        with pytest.raises(PluginError) as refused:
            engine.scale(goal["id"], 4)
        assert refused.value.exit_code == 3
        assert "modality 'mood' is not available" in refused.value.message
        assert "plugin aaa failed to load" in refused.value.message
        assert "plugin mood failed to load" in refused.value.message
        assert refused.value.details["plugins"] == ["aaa", "mood"]
        assert engine.fingerprint() == before
        assert engine.history(goal["id"])[0]["findings"] == goal["findings"]
    # The CLI: exit 3, one line, nothing recorded.
    both = f"core,aaa={newcomer},mood={first}"
    result = run(sqlite_url, "goal", "scale", goal["id"], "4", plugins=both)
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Error: modality 'mood' is not available")
    no_traceback(result)
    with engine_with(sqlite_url) as engine:
        assert engine.fingerprint() == before
    # Leaving the newcomer out gives the modality back to its plugin.
    done = run_json(sqlite_url, "goal", "scale", goal["id"], "4", plugins=f"core,mood={first}")
    assert done["value"] == 4


def test_two_outside_plugins_under_one_name_both_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_plugin(tmp_path, monkeypatch, mood_plugin("1.0"))
    second = write_plugin(tmp_path, monkeypatch, mood_plugin("2.0", "other"))
    plugins = make_manager(only=["core", f"mood={first}", f"mood={second}"])
    failed = [p for p in plugins.plugins() if p.status == "failed"]
    assert [p.module for p in failed] == [first, second]
    assert failed[0].reason == (
        f"plugin name 'mood' is claimed by {first} and {second}; neither is loaded until one is "
        "left out of GOALENGINE_PLUGINS or uninstalled"
    )
    assert "mood" not in [m.name for m, _ in plugins.modalities()]


def test_trylast_does_not_decide_who_owns_a_name() -> None:
    class Late:
        @hookimpl(trylast=True)
        def register_modalities(self, register: Any) -> None:
            register(Modality("habits", "Late habits"))

    with engine_with(late=Late(), early=Claims("habits")) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
        assert listed["late"]["status"] == listed["early"]["status"] == "failed"
        assert "also registered by plugin 'early'" in listed["late"]["reason"]
        assert "habits" not in [m["name"] for m in engine.list_modalities()]
        before = engine.fingerprint()
        with pytest.raises(PluginError, match="modality 'habits' is not available"):
            engine.add_client("Alex", modality="habits")
        assert engine.fingerprint() == before


# -- one rule for goals whose modality plugin is missing ---------------------------------------


def test_every_recording_command_on_a_goal_of_a_missing_plugin_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    module = write_plugin(tmp_path, monkeypatch, mood_plugin("1.0"))
    with engine_with(sqlite_url, mood=module) as engine:
        client = engine.add_client("Alex", modality="mood")
        parent = engine.create_goal(client["id"], "Feel steadier through the week", **LONG)
        step = engine.chain(parent["id"], "Walk 20 minutes after lunch")
        other = engine.chain(parent["id"], "Call a friend twice a week")
        engine.pause(other["id"])
        engine.scale(step["id"], 3)
        cbt = engine.add_client("Sam", modality="cbt")
        plain = engine.create_goal(cbt["id"], "Walk 20 minutes after lunch", **SHORT)
    with engine_with(sqlite_url) as engine:  # the plugin is gone
        before = engine.fingerprint()
        attempts = {
            "scale": lambda: engine.scale(step["id"], 5),
            "record_goal_review": lambda: engine.record_goal_review(step["id"], "keep"),
            "revise": lambda: engine.revise(step["id"], title="Walk after dinner", reason="x"),
            "pause": lambda: engine.pause(step["id"]),
            "resume": lambda: engine.resume(other["id"]),
            "achieve": lambda: engine.achieve(step["id"]),
            "abandon": lambda: engine.abandon(step["id"], reason="x"),
            "void": lambda: engine.void(step["id"], reason="x"),
            "chain": lambda: engine.chain(parent["id"], "A third step for the week"),
            "create_goal(parent=)": lambda: engine.create_goal(
                client["id"], "A third step for the week", parent=parent["id"], **SHORT
            ),
            "move_step": lambda: engine.move_step(other["id"], 1),
        }
        for name, attempt in attempts.items():
            with pytest.raises(PluginError) as refused:
                attempt()
            assert refused.value.exit_code == 3, name
            assert refused.value.message.startswith("modality 'mood' is not available"), name
            assert refused.value.details["plugin"] == "mood", name
        assert engine.fingerprint() == before
        # Reading, history and the other clients' goals still work.
        assert engine.get_goal(step["id"])["latest_ratings"]["therapist"]["value"] == 3
        assert len(engine.history(step["id"])) == 2
        assert next(g["id"] for g in engine.list_goals(client=client["id"])) == parent["id"]
        assert engine.ratings(step["id"])[0]["value"] == 3
        assert engine.prioritized_goals(client["id"])[0]["id"] == parent["id"]
        engine.scale(plain["id"], 2)
    # Through the CLI: one line, exit 3, no traceback, nothing recorded.
    with engine_with(sqlite_url) as engine:
        before = engine.fingerprint()
    for args in (
        ("goal", "scale", step["id"], "5"),
        ("goal", "review", step["id"], "keep"),
        ("goal", "reorder", other["id"], "--position", "1"),
        ("goal", "chain", parent["id"], "A third step for the week"),
        ("goal", "achieve", step["id"]),
    ):
        result = run(sqlite_url, *args)
        assert result.exit_code == 3, (args, result.output)
        assert result.stderr.startswith("Error: modality 'mood' is not available"), args
        no_traceback(result)
    with engine_with(sqlite_url) as engine:
        assert engine.fingerprint() == before
    shown = run(sqlite_url, "goal", "history", step["id"])
    assert shown.exit_code == 0


# -- a client's modality change -----------------------------------------------------------------


def test_a_clients_modality_change_is_checked_against_their_open_goals(sqlite_url: str) -> None:
    with engine_with(sqlite_url) as engine:
        client = engine.add_client("Alex", modality="dbt")
        skills = engine.create_goal(
            client["id"], "Practise one skill daily", attributes={"category": "skills"}, **SHORT
        )
        own = engine.create_goal(
            client["id"], "Walk 20 minutes after lunch", modality="cbt", **SHORT
        )
        done = engine.create_goal(
            client["id"], "Go to every session", attributes={"category": "therapy-interfering"},
            **SHORT,
        )  # fmt: skip
        engine.achieve(done["id"])
        before = engine.fingerprint()
        with pytest.raises(Conflict) as refused:
            engine.revise_client(client["id"], modality="cbt", reason="switching")
        message = refused.value.message
        assert message.startswith(
            f"client {client['id'][:8]} cannot move to modality cbt: 1 open goal(s) need "
            f"attention first (goal {skills['id'][:8]}: unknown attribute(s) category for "
            "modality cbt; valid: technique)"
        )
        assert refused.value.details["goals"] == [skills["id"]]
        assert own["id"][:8] not in message
        assert done["id"][:8] not in message
        assert "Practise" not in message  # short ids, never titles
        assert refused.value.exit_code == 1
        with pytest.raises(Conflict, match="cannot move to no modality"):
            engine.revise_client(client["id"], modality="", reason="none")
        assert engine.fingerprint() == before
    result = run(sqlite_url, "client", "revise", client["id"], "--modality", "cbt", "--reason", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: client {client['id'][:8]} cannot move to modality")
    no_traceback(result)
    with engine_with(sqlite_url) as engine:
        assert engine.fingerprint() == before
        # Once the goal keeps its own modality, the client may change.
        engine.revise(skills["id"], modality="dbt", reason="stays on DBT")
        changed = engine.revise_client(client["id"], modality="cbt", reason="switching")
        assert changed["modality"] == "cbt"
        engine.achieve(skills["id"])  # not stranded


# -- load failures are one line -----------------------------------------------------------------


BAD_ARGUMENT = """
from goalengine import hookimpl

@hookimpl
def validate_goal(goal, colour):
    return None
"""

BAD_IMPORT = """
raise RuntimeError("cannot read /etc/goalengine/secret.conf:\\n  line 2\\n  <module 'x' from '/opt/x.py'>")
"""


def test_load_failures_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    wrong = write_plugin(tmp_path, monkeypatch, BAD_ARGUMENT)
    broken = write_plugin(tmp_path, monkeypatch, BAD_IMPORT)
    syntax = write_plugin(tmp_path, monkeypatch, "def (:\n")
    with engine_with(wrong=wrong, broken=broken, syntax=syntax) as engine:
        listed = {p["name"]: p for p in engine.list_plugins()}
    assert listed["wrong"]["reason"] == (
        "invalid plugin: hook validate_goal takes argument(s) colour that goalengine does not "
        "pass (it passes: goal, client, modality, action)"
    )
    assert listed["broken"]["reason"] == (
        f"cannot import {broken}: RuntimeError: cannot read secret.conf: line 2 x"
    )
    assert listed["syntax"]["reason"].startswith(f"cannot import {syntax}: SyntaxError")
    for name in ("wrong", "broken", "syntax"):
        reason = listed[name]["reason"]
        assert "\n" not in reason
        assert "<module" not in reason
        assert str(tmp_path) not in reason
        assert "/opt" not in reason
        assert "/etc" not in reason
    result = run(sqlite_url, "plugins", "list", plugins=f"core,wrong={wrong}")
    reason_lines = [line for line in result.stdout.splitlines() if "reason:" in line]
    assert len(reason_lines) == 1
    assert reason_lines[0].strip().startswith("reason: invalid plugin: hook validate_goal takes")


class RaisesLong:
    """A modality whose rule raises with a multi-line message holding a path."""

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        register(Modality("longfail", "Long failure"))

    @hookimpl
    def validate_goal(self, goal: Any) -> None:
        raise OSError("cannot open /srv/rules/table.csv\n  while checking")


def test_a_hook_failure_is_one_line_too() -> None:
    with engine_with(longfail=RaisesLong()) as engine:
        client = engine.add_client("Alex", modality="longfail")
        before = engine.fingerprint()
        with pytest.raises(PluginError) as refused:
            engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
        assert refused.value.message == (
            "plugin longfail raised in validate_goal: OSError: cannot open table.csv while "
            "checking; nothing was recorded"
        )
        assert engine.fingerprint() == before


# -- listings without a store, uninstall of what is not installed ------------------------------


def test_plugin_listings_and_new_need_no_store(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = f"sqlite:///{blocker / 'goals.db'}"  # cannot be opened, nor created
    opened = run(store, "goal", "list")
    assert opened.exit_code == 3
    for args in (
        ("plugins", "list"),
        ("modalities", "list"),
        ("modalities", "show", "dbt"),
        ("plugins", "new", "habits", "--dir", str(tmp_path)),
    ):
        result = run(store, *args)
        assert result.exit_code == 0, (args, result.output)
        no_traceback(result)
    assert (tmp_path / "goalengine-habits" / "pyproject.toml").exists()
    shown = run_json(store, "modalities", "show", "dbt")
    assert shown["plugin"] == "dbt"
    assert [p["name"] for p in run_json(store, "plugins", "list")] == ["core", "act", "cbt", "dbt"]
    assert not blocker.is_dir()


def test_uninstalling_a_plugin_that_is_not_installed_exits_1(sqlite_url: str) -> None:
    result = run(sqlite_url, "plugins", "uninstall", "goalengine-no-such-plugin-xyz")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: not installed: goalengine-no-such-plugin-xyz; nothing was uninstalled "
        "(`pip list` shows what is, `goalengine plugins list` what loads)"
    )
    assert "Uninstalled" not in result.stdout
    no_traceback(result)
    as_json = run(sqlite_url, "--json", "plugins", "uninstall", "goalengine-no-such-plugin-xyz")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"]["type"] == "NotFound"


# -- goal chain: --attr and what a step inherits -----------------------------------------------


def test_a_step_inherits_from_its_parent_and_takes_attr(sqlite_url: str) -> None:
    with engine_with(sqlite_url) as engine:
        client = engine.add_client("Alex", modality="cbt", values=["family", "health"])
        parent = engine.create_goal(
            client["id"], "Stop hurting myself this year", horizon="long", kind="outcome",
            domains=["behavioral", "emotional"], values=["health"], authorship="client",
            client_agreed=False, modality="dbt",
            attributes={"category": "life-threatening", "risk": "imminent"},
        )  # fmt: skip
        step = engine.chain(parent["id"], "Call the crisis line when urges reach 4")
        assert step["horizon"] == "short"
        assert step["kind"] == "process"
        assert step["domains"] == parent["domains"]
        assert step["values"] == ["health"]
        assert step["authorship"] == "client"
        assert step["client_agreed"] is False
        assert step["modality"] == "dbt"
        assert step["attributes"] == {"category": "life-threatening", "risk": "imminent"}
        assert step["target"] is None
        assert step["due"] is None
        given = engine.chain(
            parent["id"], "Practise distress tolerance daily", domains=["cognitive"],
            attributes={"category": "skills"},
        )  # fmt: skip
        assert given["attributes"] == {"category": "skills"}  # exactly those
        assert given["domains"] == ["cognitive"]
        before = engine.fingerprint()
        with pytest.raises(InvalidInput, match="needs attribute category"):
            engine.chain(parent["id"], "A step without its category", attributes={})
        assert engine.fingerprint() == before
    # The CLI: --attr is set over the inherited attributes; KEY= drops one.
    over = run_json(
        sqlite_url, "goal", "chain", parent["id"], "Remove the means at home",
        "--attr", "risk=past",
    )  # fmt: skip
    assert over["attributes"] == {"category": "life-threatening", "risk": "past"}
    dropped = run_json(
        sqlite_url, "goal", "chain", parent["id"], "Learn two skills for urges",
        "--attr", "category=skills", "--attr", "risk=",
    )  # fmt: skip
    assert dropped["attributes"] == {"category": "skills"}
    refused = run(sqlite_url, "goal", "chain", parent["id"], "A bad step", "--attr", "colour=red")
    assert refused.exit_code == 2
    assert "unknown attribute(s) colour for modality dbt" in refused.stderr
    no_traceback(refused)
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    section = docs.split("### `goalengine goal chain", 1)[1].split("\n### ", 1)[0]
    assert "[--attr KEY=VALUE]…" in section
    for field in ("domains", "values", "authorship, client agreement", "modality attributes"):
        assert f"| {field} |" in section


# -- history, list order, raters ---------------------------------------------------------------


def test_text_history_shows_each_findings_plugin_and_version(sqlite_url: str) -> None:
    import goalengine

    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "cbt")["id"]
    made = run_json(
        sqlite_url, "goal", "create", cid, "Walk 20 minutes after lunch", "--horizon", "short",
        "--kind", "process", "--domain", "behavioral",
    )  # fmt: skip
    assert made["findings"]
    result = run(sqlite_url, "goal", "history", made["id"])
    assert result.exit_code == 0
    for f in made["findings"]:
        line = (
            f"{f['severity']}: {f['message']} ({f['rule']}; {f['plugin']} {goalengine.__version__})"
        )
        assert line in result.stdout


def test_goal_list_for_a_client_orders_as_client_priorities(sqlite_url: str) -> None:
    with engine_with(sqlite_url) as engine:
        client = engine.add_client("Alex", modality="dbt")
        ids = [
            engine.create_goal(client["id"], title, attributes={"category": c}, **LONG)["id"]
            for title, c in (
                ("Practise one skill daily", "skills"),
                ("Go to every session", "therapy-interfering"),
                ("No self-harm this month", "life-threatening"),
            )
        ]
        engine.chain(ids[0], "Use one skill at work", attributes={"category": "skills"})
    listed = run_json(sqlite_url, "goal", "list", "--client", client["id"])
    order = run_json(sqlite_url, "client", "priorities", client["id"])
    top = [g for g in listed if g["depth"] == 0]
    assert [g["id"] for g in top] == [o["id"] for o in order] == [ids[2], ids[1], ids[0]]
    assert [g["priority_reason"] for g in top] == [o["reason"] for o in order]
    assert top[0]["priority_reason"].startswith("1. life-threatening behaviour")
    assert [g["priority_reason"] for g in listed if g["depth"] == 1] == [None]
    text = run(sqlite_url, "goal", "list", "--client", client["id"]).stdout
    assert text.index("No self-harm") < text.index("Go to every") < text.index("Practise one")


def test_rater_errors_list_only_valid_raters(sqlite_url: str) -> None:
    with engine_with(sqlite_url) as engine:
        client = engine.add_client("Alex")
        goal = engine.create_goal(client["id"], "Walk 20 minutes after lunch", **SHORT)
        before = engine.fingerprint()
        for bad in ("bogus", "supervisor", "auditor"):
            for attempt in (
                lambda bad=bad: engine.scale(goal["id"], 3, rater=bad),
                lambda bad=bad: engine.ratings(goal["id"], rater=bad),
            ):
                with pytest.raises(InvalidInput) as refused:
                    attempt()
                message = refused.value.message
                assert message.endswith("choose one of: client, therapist, collateral"), message
                for invalid in ("supervisor", "auditor", "system"):
                    if invalid != bad:
                        assert invalid not in message
                assert refused.value.details["choices"] == ["client", "therapist", "collateral"]
        assert engine.fingerprint() == before
    for args in (
        ("goal", "scale", goal["id"], "3", "--rater", "supervisor"),
        ("goal", "ratings", goal["id"], "--rater", "system"),
    ):
        result = CliRunner().invoke(
            cli, ["--store", sqlite_url, "--as", "therapist:lee", *args], catch_exceptions=False
        )
        assert result.exit_code == 2
        assert "'client', 'therapist', 'collateral'" in result.stderr
        assert "auditor" not in result.stderr
        no_traceback(result)

"""The built-in rules (core, CBT, ACT, DBT), each through the public API, and through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalengine import GoalEngine, InvalidInput, RuleViolation
from goalengine.modalities import core
from plugin_helpers import engine_with, rules, run, run_json

#: A goal that satisfies every SMART check (for the client below).
SMART: dict[str, Any] = {
    "horizon": "short",
    "kind": "process",
    "domains": ["behavioral"],
    "values": ["1"],
    "target": "walks>=3/week",
    "due": "2027-03-01",
}


@pytest.fixture
def engine() -> Iterator[GoalEngine]:
    with engine_with() as e:
        yield e


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'goals.db'}"


def client(engine: GoalEngine, modality: str | None = None, **kw: Any) -> str:
    values = kw.pop("values", ["family", "health"])
    return str(engine.add_client("Alex", modality=modality, values=values, **kw)["id"])


def smart_rules(result: dict[str, Any]) -> set[str]:
    return {r for r in rules(result) if r.startswith("core.smart.")}


# -- core: SMART ---------------------------------------------------------------------------------


def test_a_smart_goal_gets_no_smart_finding(engine: GoalEngine) -> None:
    goal = engine.create_goal(client(engine), "Walk 20 minutes after lunch", **SMART)
    assert smart_rules(goal) == set()
    assert goal["findings"] == []


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        ("core.smart.specific", {"title": "Exercise"}),
        ("core.smart.measurable", {"target": None}),
        ("core.smart.achievable", {"client_agreed": False}),
        ("core.smart.time-bound", {"due": None}),
    ],
)
def test_each_smart_check_the_goal_lacks(
    engine: GoalEngine, rule: str, change: dict[str, Any]
) -> None:
    fields = {"title": "Walk 20 minutes after lunch", **SMART, **change}
    goal = engine.create_goal(client(engine), fields.pop("title"), **fields)
    assert smart_rules(goal) == {rule}
    finding = rules(goal)[rule]
    assert finding["severity"] == "suggestion"
    assert finding["plugin"] == "core"


def test_relevant_means_linked_to_a_value_or_a_problem(engine: GoalEngine) -> None:
    cid = client(engine)
    neither = engine.create_goal(
        cid, "Walk 20 minutes after lunch", **{**SMART, "values": (), "target": None},
        anchor_low="never", anchor_high="every day",
    )  # fmt: skip
    assert smart_rules(neither) == {"core.smart.relevant"}
    a_problem = engine.create_goal(
        cid, "Walk 20 minutes after lunch", **{**SMART, "values": (), "target": "phq9<10"}
    )
    assert smart_rules(a_problem) == set()


def test_anchors_make_a_goal_measurable(engine: GoalEngine) -> None:
    goal = engine.create_goal(
        client(engine), "Walk 20 minutes after lunch", **{**SMART, "target": None},
        anchor_low="I never leave my desk", anchor_high="I walk every working day",
    )  # fmt: skip
    assert smart_rules(goal) == set()


# -- core: vague goals, too many goals, steps, outcome without process --------------------------


@pytest.mark.parametrize("title", ["Feel better", "Be happier", "I want to be less stressed"])
def test_a_vague_goal_gets_the_drill_down_questions(engine: GoalEngine, title: str) -> None:
    goal = engine.create_goal(client(engine), title, **{**SMART, "target": None})
    vague = rules(goal)["core.vague-goal"]
    assert vague["severity"] == "warning"
    assert "If a camera recorded your day, what would we see" in vague["message"]
    assert "core.smart.specific" in rules(goal)


def test_an_observable_goal_is_not_vague(engine: GoalEngine) -> None:
    goal = engine.create_goal(client(engine), "Text one friend each week", **SMART)
    assert "core.vague-goal" not in rules(goal)
    # A feeling word with a measure is not vague: the target says what would be seen.
    measured = engine.create_goal(
        client(engine), "Feel calm enough to sit through a meeting", **SMART
    )
    assert "core.vague-goal" not in rules(measured)
    assert core.DRILL_DOWN[-1].startswith("If a camera recorded your day")


def test_more_than_three_active_goals_is_a_warning(engine: GoalEngine) -> None:
    cid = client(engine)
    made = [engine.create_goal(cid, f"Walk {n} minutes after lunch", **SMART) for n in (10, 20, 30)]
    assert all("core.too-many-goals" not in rules(g) for g in made)
    fourth = engine.create_goal(cid, "Read 10 pages every night", **SMART)
    warning = rules(fourth)["core.too-many-goals"]
    assert warning["severity"] == "warning"
    assert "Alex would have 4 active goals" in warning["message"]
    # Pausing one and resuming it when three others are active: the warning is in that event.
    engine.pause(made[0]["id"])
    resumed = engine.resume(made[0]["id"])
    assert "core.too-many-goals" in rules(resumed)
    assert engine.history(made[0]["id"])[-1]["findings"] == resumed["findings"]
    # Steps do not count as goals of their own.
    parent = engine.create_goal(cid, "Run a 5k by the spring", **{**SMART, "horizon": "long"})
    step = engine.chain(parent["id"], "Walk 15 minutes three times a week", target="walks>=3/week")
    assert "core.too-many-goals" not in rules(step)


def test_a_long_term_goal_wants_three_to_five_steps(engine: GoalEngine) -> None:
    cid = client(engine)
    goal = engine.create_goal(cid, "Run a 5k by the spring", **{**SMART, "horizon": "long"})
    assert "has no steps yet" in rules(goal)["core.step-count"]["message"]
    assert rules(goal)["core.step-count"]["severity"] == "suggestion"
    for n in range(3):
        engine.chain(goal["id"], f"Walk {n + 1}0 minutes three times a week")
    revised = engine.revise(goal["id"], title="Run a 5k by the end of spring", reason="clearer")
    assert "core.step-count" not in rules(revised)
    for n in range(3):
        engine.chain(goal["id"], f"Jog {n + 1} km twice a week")
    revised = engine.revise(goal["id"], title="Run a 5k in spring", reason="shorter")
    assert "has 6 step(s)" in rules(revised)["core.step-count"]["message"]


def test_an_outcome_goal_wants_a_process_goal(engine: GoalEngine) -> None:
    cid = client(engine)
    outcome = {**SMART, "kind": "outcome", "target": "phq9<10", "domains": ["emotional"]}
    alone = engine.create_goal(cid, "Score under 10 on the PHQ-9", **outcome)
    assert rules(alone)["core.outcome-needs-process"]["severity"] == "suggestion"
    engine.create_goal(cid, "Walk 20 minutes after lunch", **SMART)  # serves value 1 too
    supported = engine.create_goal(cid, "Score under 10 on the PHQ-9 again", **outcome)
    assert "core.outcome-needs-process" not in rules(supported)


# -- CBT ------------------------------------------------------------------------------------------


def test_cbt_outcome_goals_need_a_symptom_target_with_a_date(engine: GoalEngine) -> None:
    cid = client(engine, "cbt")
    before = engine.fingerprint()
    base = {**SMART, "kind": "outcome", "domains": ["emotional"]}
    for change, missing in (
        ({"target": None}, "a target on an instrument"),
        ({"due": None}, "a due date"),
        ({"target": "good_days>=3/week"}, "a symptom threshold, not a count per week"),
    ):
        with pytest.raises(RuleViolation) as refused:
            engine.create_goal(cid, "Score under 10 on the PHQ-9", **{**base, **change})
        assert missing in refused.value.screen
        assert "[cbt.symptom-target]" in refused.value.screen
        assert "cbt.symptom-target" in refused.value.message
        (error,) = [f for f in refused.value.details["findings"] if f["severity"] == "error"]
        assert error["rule"] == "cbt.symptom-target"
        assert error["plugin"] == "cbt"
    assert engine.fingerprint() == before
    ok = engine.create_goal(cid, "Score under 10 on the PHQ-9", **{**base, "target": "phq9<10"})
    assert "cbt.symptom-target" not in rules(ok)
    # Revising the target away is refused too.
    with pytest.raises(RuleViolation, match=r"cbt\.symptom-target"):
        engine.revise(ok["id"], target="", reason="no measure")


def test_cbt_behavioural_goals_get_a_count_target(engine: GoalEngine) -> None:
    cid = client(engine, "cbt")
    uncounted = engine.create_goal(cid, "Walk 20 minutes after lunch", **{**SMART, "target": None})
    assert rules(uncounted)["cbt.count-target"]["severity"] == "warning"
    counted = engine.create_goal(cid, "Walk 20 minutes after lunch", **SMART)
    assert "cbt.count-target" not in rules(counted)


def test_cbt_suggests_behavioural_experiments_for_beliefs(engine: GoalEngine) -> None:
    cid = client(engine, "cbt")
    belief = engine.create_goal(
        cid, "Test the belief that people find me boring", **{**SMART, "domains": ["cognitive"]}
    )
    assert rules(belief)["cbt.behavioural-experiment"]["severity"] == "suggestion"
    planned = engine.create_goal(
        cid, "Test the belief that people find me boring",
        attributes={"technique": "behavioural-experiment"}, **{**SMART, "domains": ["cognitive"]},
    )  # fmt: skip
    assert "cbt.behavioural-experiment" not in rules(planned)


def test_cbt_suggests_an_exposure_ladder(engine: GoalEngine) -> None:
    cid = client(engine, "cbt")
    goal = engine.create_goal(
        cid, "Go to a party and stay an hour", attributes={"technique": "exposure"},
        **{**SMART, "horizon": "long"},
    )  # fmt: skip
    titles = [s["title"] for s in engine.suggest_steps(goal["id"]) if s["plugin"] == "cbt"]
    assert titles[0].startswith("Build a fear ladder")
    assert len(titles) == 4


# -- ACT ------------------------------------------------------------------------------------------


def test_act_goals_must_serve_a_declared_value(engine: GoalEngine) -> None:
    cid = client(engine, "act")
    before = engine.fingerprint()
    with pytest.raises(RuleViolation) as refused:
        engine.create_goal(cid, "Walk 20 minutes after lunch", **{**SMART, "values": ()})
    assert "name the value it serves with --value (1. family; 2. health)" in refused.value.screen
    assert "[act.value-link]" in refused.value.screen
    assert "family" not in refused.value.message  # the message names rules, never content
    no_values = client(engine, "act", values=[])
    with pytest.raises(RuleViolation) as refused:
        engine.create_goal(no_values, "Walk 20 minutes after lunch", **{**SMART, "values": ()})
    assert "has no declared values yet" in refused.value.screen
    assert engine.fingerprint() != before  # the second client was added …
    served = engine.create_goal(
        cid, "Walk 20 minutes after lunch", attributes={"process": "values-based-action"}, **SMART
    )
    assert served["findings"] == []


def test_act_prefers_process_goals(engine: GoalEngine) -> None:
    cid = client(engine, "act")
    outcome = engine.create_goal(
        cid, "Score under 10 on the PHQ-9", **{**SMART, "kind": "outcome", "target": "phq9<10"}
    )
    assert (
        "willingness, defusion or values-based action"
        in (rules(outcome)["act.process-default"]["message"])
    )
    unnamed = engine.create_goal(cid, "Walk 20 minutes after lunch", **SMART)
    assert rules(unnamed)["act.process-named"]["severity"] == "suggestion"
    with pytest.raises(InvalidInput, match="choose one of: willingness, defusion"):
        engine.create_goal(
            cid, "Walk 20 minutes after lunch", attributes={"process": "acceptance"}, **SMART
        )


def test_act_review_names_values_no_goal_serves(engine: GoalEngine) -> None:
    cid = client(engine, "act")
    engine.create_goal(
        cid, "Walk 20 minutes after lunch", attributes={"process": "values-based-action"}, **SMART
    )
    messages = [i["message"] for i in engine.client_review(cid)["items"] if i["plugin"] == "act"]
    assert messages == ["no open goal serves the value 'health': is it still a priority?"]


# -- DBT ------------------------------------------------------------------------------------------


def dbt_goal(engine: GoalEngine, cid: str, title: str, category: str, **attrs: str) -> str:
    return str(
        engine.create_goal(cid, title, attributes={"category": category, **attrs}, **SMART)["id"]
    )


def test_dbt_goals_carry_their_target_category(engine: GoalEngine) -> None:
    cid = client(engine, "dbt")
    before = engine.fingerprint()
    with pytest.raises(InvalidInput) as refused:
        engine.create_goal(cid, "Go to every session this month", **SMART)
    assert refused.value.details["attribute"] == "category"
    assert refused.value.details["choices"] == [
        "life-threatening",
        "therapy-interfering",
        "quality-of-life-interfering",
        "skills",
    ]
    assert engine.fingerprint() == before
    goal = engine.create_goal(
        cid, "Go to every session this month", attributes={"category": "therapy-interfering"},
        **SMART,
    )  # fmt: skip
    assert goal["attributes"] == {"category": "therapy-interfering"}
    assert rules(goal)["dbt.diary-card"]["severity"] == "suggestion"


def test_dbt_orders_by_the_hierarchy_then_recency_with_reasons(engine: GoalEngine) -> None:
    cid = client(engine, "dbt")
    skills = dbt_goal(engine, cid, "Practise one skill every day", "skills")
    old_qol = dbt_goal(engine, cid, "No binge drinking on weekdays", "quality-of-life-interfering")
    life = dbt_goal(engine, cid, "No self-harm this month", "life-threatening")
    new_qol = dbt_goal(engine, cid, "Apply for two jobs a week", "quality-of-life-interfering")
    order = engine.prioritized_goals(cid)
    assert [o["id"] for o in order] == [life, new_qol, old_qol, skills]
    assert order[0]["reason"] == (
        "1. life-threatening behaviour (DBT hierarchy), then most recently changed first"
    )
    assert order[3]["reason"].startswith("4. increasing behavioural skills")
    assert [o["position"] for o in order] == [1, 2, 3, 4]
    # A change makes a goal the most recent of its category.
    engine.revise(old_qol, title="No binge drinking Monday to Thursday", reason="clearer")
    assert [o["id"] for o in engine.prioritized_goals(cid)][1:3] == [old_qol, new_qol]


def test_dbt_refuses_a_lower_category_first_while_life_is_at_risk(engine: GoalEngine) -> None:
    cid = client(engine, "dbt")
    skills = dbt_goal(engine, cid, "Practise one skill every day", "skills")
    therapy = dbt_goal(engine, cid, "Go to every session this month", "therapy-interfering")
    life = dbt_goal(engine, cid, "No self-harm this month", "life-threatening")
    before = engine.fingerprint()
    with pytest.raises(RuleViolation) as refused:
        engine.prioritize_client(cid, [therapy, life])
    assert "'No self-harm this month' is an active life-threatening target" in refused.value.screen
    assert "No self-harm" not in refused.value.message  # a goal's title stays out of it
    assert engine.fingerprint() == before
    # Putting life first but skills above therapy: allowed, with a warning stored in the event.
    done = engine.prioritize_client(cid, [life, skills, therapy])
    assert rules(done)["dbt.hierarchy-order"]["severity"] == "warning"
    event = engine.client_history(cid)[-1]
    assert event["event"] == "GoalsPrioritized"
    assert event["findings"] == done["findings"]
    assert event["order"] == [life, skills, therapy]
    assert event["reasons"][0].startswith("1. life-threatening behaviour")
    # goal list --client orders exactly as client priorities does (DBT: the hierarchy first).
    listed = engine.list_goals(client=cid)
    order = engine.prioritized_goals(cid)
    assert [g["id"] for g in listed] == [o["id"] for o in order] == [life, therapy, skills]
    assert [g["priority_reason"] for g in listed] == [o["reason"] for o in order]
    # Once the risk is resolved, a lower category may go first.
    engine.achieve(life)
    engine.prioritize_client(cid, [skills, therapy])
    active = [g["id"] for g in engine.list_goals(client=cid, status="active")]
    assert active == [o["id"] for o in engine.prioritized_goals(cid)] == [therapy, skills]


def test_dbt_review_puts_imminent_risk_first(engine: GoalEngine) -> None:
    cid = client(engine, "dbt")
    dbt_goal(engine, cid, "Practise one skill every day", "skills")
    dbt_goal(engine, cid, "No overdose this month", "life-threatening", risk="past")
    imminent = dbt_goal(engine, cid, "No self-harm this week", "life-threatening", risk="imminent")
    items = engine.client_review(cid)["items"]
    agenda = [i for i in items if i["kind"] == "agenda"]
    assert agenda[0]["goal_id"] == imminent
    assert agenda[0]["message"].startswith("imminent risk:")
    assert [i["risk"] for i in agenda] == [True, True, False]
    assert items[0] == agenda[0]


# -- through the CLI ------------------------------------------------------------------------------


def test_findings_are_printed_and_in_json(sqlite_url: str) -> None:
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "cbt", "--value", "health")[
        "id"
    ]
    args = ["goal", "create", cid, "Feel better", "--horizon", "short", "--kind", "process",
            "--domain", "emotional"]  # fmt: skip
    human = run(sqlite_url, *args)
    assert human.exit_code == 0
    assert "warning: 'Feel better' is vague: drill down" in human.stdout
    assert "(core.vague-goal)" in human.stdout
    assert "suggestion: not time-bound" in human.stdout
    data = json.loads(run(sqlite_url, "--json", *args).stdout)
    assert rules(data)["core.vague-goal"]["plugin_version"]
    refused = run(sqlite_url, "--json", "goal", "create", cid, "Score under 10 on the PHQ-9",
                  "--horizon", "long", "--kind", "outcome", "--domain", "emotional")  # fmt: skip
    assert refused.exit_code == 1
    error = json.loads(refused.stdout)["error"]
    assert error["type"] == "RuleViolation"
    assert "cbt.symptom-target" in [f["rule"] for f in error["details"]["findings"]]
    # With --json the stderr line is the message, which names the rule, not the content.
    assert refused.stderr.startswith("Error: refused by rule cbt.symptom-target")
    plain = run(sqlite_url, "goal", "create", cid, "Score under 10 on the PHQ-9",
                "--horizon", "long", "--kind", "outcome", "--domain", "emotional")  # fmt: skip
    assert plain.exit_code == 1
    assert plain.stderr.startswith("Error: refused: a CBT outcome goal needs")  # for a person


def test_dbt_through_the_cli(sqlite_url: str) -> None:
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "dbt")["id"]

    def create(title: str, category: str) -> str:
        made = run_json(sqlite_url, "goal", "create", cid, title, "--horizon", "short", "--kind",
                        "process", "--domain", "behavioral", "--attr", f"category={category}")  # fmt: skip
        return str(made["id"])

    skills = create("Practise one skill every day", "skills")
    life = create("No self-harm this month", "life-threatening")
    refused = run(sqlite_url, "client", "prioritize", cid, skills)
    assert refused.exit_code == 1
    assert "dbt.hierarchy" in refused.stderr
    done = run(sqlite_url, "client", "prioritize", cid, life, skills)
    assert done.exit_code == 0
    assert "1. life-threatening behaviour (DBT hierarchy), then clinician's order" in done.stdout
    listed = run_json(sqlite_url, "goal", "list", "--client", cid)
    assert [g["id"] for g in listed] == [life, skills]
    shown = run(sqlite_url, "modalities", "show", "dbt")
    assert "category (required)" in shown.stdout
    assert "dbt.hierarchy  [error]" in shown.stdout
    review = run(sqlite_url, "review", cid)
    assert review.stdout.splitlines()[0].startswith("agenda: life-threatening: 'No self-harm")


def test_modalities_show_an_unknown_name(sqlite_url: str) -> None:
    result = run(sqlite_url, "modalities", "show", "gestalt")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown modality 'gestalt'; registered modalities: act")


# -- properties -----------------------------------------------------------------------------------

TITLES = st.sampled_from(
    ["Feel better", "Walk 20 minutes after lunch", "Exercise", "Be happier", "Read nightly"]
)


@settings(max_examples=25)
@given(
    modality=st.sampled_from(["cbt", "act", "dbt"]),
    title=TITLES,
    kind=st.sampled_from(["process", "outcome"]),
    horizon=st.sampled_from(["short", "long"]),
    target=st.sampled_from([None, "phq9<10", "walks>=3/week"]),
    due=st.sampled_from([None, "2027-01-01"]),
    values=st.sampled_from([(), ("1",)]),
    category=st.sampled_from(["life-threatening", "skills"]),
)
def test_a_refused_goal_leaves_no_trace_and_a_recorded_one_carries_its_findings(
    modality: str,
    title: str,
    kind: str,
    horizon: str,
    target: str | None,
    due: str | None,
    values: tuple[str, ...],
    category: str,
) -> None:
    with engine_with() as engine:
        cid = client(engine, modality)
        attributes = {"category": category} if modality == "dbt" else {}
        before = engine.fingerprint()
        try:
            goal = engine.create_goal(
                cid, title, horizon=horizon, kind=kind, domains=["behavioral"], target=target,
                due=due, values=values, attributes=attributes,
            )  # fmt: skip
        except RuleViolation as refused:
            findings = refused.details["findings"]
            refused_ok = engine.fingerprint() == before
            assert refused_ok
            assert any(f["severity"] == "error" for f in findings)
            return
        assert all(f["severity"] != "error" for f in goal["findings"])
        assert engine.history(goal["id"])[0]["findings"] == goal["findings"]
        # The same input gives the same findings (rules are pure functions of the views) …
        again = engine.create_goal(
            cid, title, horizon=horizon, kind=kind, domains=["behavioral"], target=target,
            due=due, values=values, attributes=attributes,
        )  # fmt: skip
        others = {"core.too-many-goals", "core.outcome-needs-process"}
        assert {f["rule"] for f in again["findings"]} - others == {
            f["rule"] for f in goal["findings"]
        } - others


# -- every built-in rule through the CLI ---------------------------------------------------------

BASE = ["--horizon", "short", "--kind", "process", "--domain", "behavioral"]


def cli_rules(url: str, *args: str) -> set[str]:
    """The rule ids a CLI command reported (findings, or the findings of its refusal)."""
    result = run(url, "--json", *args)
    data = json.loads(result.stdout)
    if "error" in data:
        assert result.exit_code == 1, result.output
        return {f["rule"] for f in data["error"]["details"]["findings"]}
    assert result.exit_code == 0, result.output
    return {f["rule"] for f in data["findings"]}


def new_client(url: str, modality: str | None = None, *values: str) -> str:
    args = ["client", "add", "Alex"] + (["--modality", modality] if modality else [])
    for value in values:
        args += ["--value", value]
    return str(run_json(url, *args)["id"])


def goal(url: str, cid: str, title: str, *args: str) -> set[str]:
    return cli_rules(url, "goal", "create", cid, title, *args)


def dbt_order(url: str, order: tuple[str, ...]) -> set[str]:
    cid = new_client(url, "dbt")
    ids = {}
    for category in ("life-threatening", "therapy-interfering", "skills"):
        made = run_json(url, "goal", "create", cid, f"Work on {category} goal", *BASE,
                        "--attr", f"category={category}")  # fmt: skip
        ids[category] = made["id"]
    return cli_rules(url, "client", "prioritize", cid, *(ids[c] for c in order))


def too_many(url: str) -> set[str]:
    cid = new_client(url)
    for n in range(3):
        goal(url, cid, f"Walk {n + 1}0 minutes daily", *BASE)
    return goal(url, cid, "Read ten pages nightly", *BASE)


SCENARIOS = {
    "core.smart.specific": lambda u: goal(u, new_client(u), "Exercise", *BASE),
    "core.smart.measurable": lambda u: goal(u, new_client(u), "Walk after lunch daily", *BASE),
    "core.smart.achievable": lambda u: goal(
        u, new_client(u), "Walk after lunch daily", *BASE, "--client-not-agreed"
    ),
    "core.smart.relevant": lambda u: goal(u, new_client(u), "Walk after lunch daily", *BASE),
    "core.smart.time-bound": lambda u: goal(u, new_client(u), "Walk after lunch daily", *BASE),
    "core.vague-goal": lambda u: goal(u, new_client(u), "Feel better", *BASE),
    "core.too-many-goals": too_many,
    "core.step-count": lambda u: goal(
        u,
        new_client(u),
        "Run a 5k in spring",
        "--horizon",
        "long",
        "--kind",
        "process",
        "--domain",
        "behavioral",
    ),
    "core.outcome-needs-process": lambda u: goal(
        u,
        new_client(u),
        "Score under 10 on the PHQ-9",
        "--horizon",
        "short",
        "--kind",
        "outcome",
        "--domain",
        "emotional",
        "--target",
        "phq9<10",
    ),
    "act.value-link": lambda u: goal(u, new_client(u, "act", "family"), "Call home weekly", *BASE),
    "act.process-default": lambda u: goal(
        u,
        new_client(u, "act", "family"),
        "Score under 10 on the PHQ-9",
        "--horizon",
        "short",
        "--kind",
        "outcome",
        "--domain",
        "emotional",
        "--value",
        "1",
    ),
    "act.process-named": lambda u: goal(
        u, new_client(u, "act", "family"), "Call home weekly", *BASE, "--value", "family"
    ),
    "cbt.symptom-target": lambda u: goal(
        u,
        new_client(u, "cbt"),
        "Score under 10 on the PHQ-9",
        "--horizon",
        "short",
        "--kind",
        "outcome",
        "--domain",
        "emotional",
    ),
    "cbt.count-target": lambda u: goal(u, new_client(u, "cbt"), "Walk after lunch daily", *BASE),
    "cbt.behavioural-experiment": lambda u: goal(
        u,
        new_client(u, "cbt"),
        "Test the belief that I am boring",
        "--horizon",
        "short",
        "--kind",
        "process",
        "--domain",
        "cognitive",
    ),
    "dbt.diary-card": lambda u: goal(
        u,
        new_client(u, "dbt"),
        "No self-harm this month",
        *BASE,
        "--attr",
        "category=life-threatening",
    ),
    "dbt.hierarchy": lambda u: dbt_order(u, ("skills",)),
    "dbt.hierarchy-order": lambda u: dbt_order(
        u, ("life-threatening", "skills", "therapy-interfering")
    ),
}


def test_every_built_in_rule_has_a_cli_scenario() -> None:
    from goalengine.modalities.manager import builtin_plugins, make_manager

    manager = make_manager(builtin_plugins())
    registered = {r.id for p in manager.plugins() for r in manager.rules(p.name)}
    assert set(SCENARIOS) == registered


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_each_built_in_rule_through_the_cli(rule: str, sqlite_url: str) -> None:
    assert rule in SCENARIOS[rule](sqlite_url)


def test_revise_changes_one_attribute_and_keeps_the_others(sqlite_url: str) -> None:
    cid = run_json(sqlite_url, "client", "add", "Alex", "--modality", "dbt", "--value", "family")[
        "id"
    ]
    goal = run_json(
        sqlite_url, "goal", "create", cid, "Use a distress-tolerance skill at each urge",
        "--horizon", "short", "--kind", "process", "--domain", "behavioral", "--value", "1",
        "--target", "skills_used>=3/week", "--due", "2027-03-01",
        "--attr", "category=life-threatening", "--attr", "risk=past",
    )  # fmt: skip
    revised = run_json(
        sqlite_url, "goal", "revise", goal["id"][:8], "--attr", "risk=imminent",
        "--reason", "the urges came back this week",
    )  # fmt: skip
    assert revised["attributes"] == {"category": "life-threatening", "risk": "imminent"}
    assert revised["changes"][0]["field"] == "attributes"
    removed = run_json(
        sqlite_url, "goal", "revise", goal["id"][:8], "--attr", "risk=", "--reason", "resolved"
    )
    assert removed["attributes"] == {"category": "life-threatening"}

    # An invalid category is refused by the modality and records nothing.
    before = GoalEngine(sqlite_url).fingerprint()
    bad = run(
        sqlite_url, "goal", "revise", goal["id"][:8], "--attr", "category=urgent",
        "--reason", "typo",
    )  # fmt: skip
    assert bad.exit_code == 2, bad.output
    assert "category" in bad.stderr
    assert "Traceback" not in bad.output
    assert GoalEngine(sqlite_url).fingerprint() == before

"""Built-in plugin ``cbt``: cognitive behavioural therapy.

Outcome goals carry a measurable symptom target with a date (PHQ-9 < 10 by 2027-03-01);
behavioural goals carry a count target (3 practices a week); beliefs are tested with behavioural
experiments (prediction → outcome).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from goalengine.modalities.hookspecs import hookimpl
from goalengine.modalities.types import (
    Attribute,
    Flag,
    GoalView,
    Modality,
    ReviewItem,
    Rule,
    StepTemplate,
)
from goalengine.values import Domain, Kind

SOURCE = "Beck JS (2011), Cognitive Behavior Therapy: Basics and Beyond; clinical-reference.md"

SYMPTOM_TARGET = Rule(
    "cbt.symptom-target",
    "error",
    "Outcome goals have a measurable symptom target",
    "A CBT outcome goal names an instrument, a comparator, a value and a due date, e.g. "
    "--target 'phq9<10' --due 2027-03-01.",
    SOURCE,
)
COUNT_TARGET = Rule(
    "cbt.count-target",
    "warning",
    "Behavioural goals have a count target",
    "A behavioural process goal is counted: --target 'practices>=3/week'.",
    SOURCE,
)
EXPERIMENT = Rule(
    "cbt.behavioural-experiment",
    "suggestion",
    "Test beliefs with behavioural experiments",
    "A cognitive goal is tested by a behavioural experiment: write the prediction, run it, record "
    "the outcome (goal note --kind experiment).",
    "Bennett-Levy J et al. (2004), Oxford Guide to Behavioural Experiments in Cognitive Therapy",
)
TECHNIQUES = (
    "behavioural-activation",
    "exposure",
    "cognitive-restructuring",
    "behavioural-experiment",
    "problem-solving",
)


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(
        Modality(
            "cbt",
            "Cognitive behavioural therapy",
            "Symptom targets on standard measures, counted behavioural goals, behavioural "
            "experiments.",
        )
    )


@hookimpl
def register_attributes(register: Callable[[Attribute], None]) -> None:
    register(
        Attribute(
            "cbt", "technique", "the CBT technique the goal works through", choices=TECHNIQUES
        )
    )


@hookimpl
def register_rules(register: Callable[[Rule], None]) -> None:
    for rule in (SYMPTOM_TARGET, COUNT_TARGET, EXPERIMENT):
        register(rule)


@hookimpl
def validate_goal(goal: GoalView, action: str) -> list[Flag]:
    if action not in ("create", "revise"):
        return []
    flags = []
    if goal.kind is Kind.OUTCOME:
        missing = []
        if goal.target is None:
            missing.append("a target on an instrument (--target 'phq9<10')")
        elif goal.target.per is not None:
            missing.append(f"a symptom threshold, not a count per {goal.target.per}")
        if goal.due is None:
            missing.append("a due date (--due 2027-03-01)")
        if missing:
            flags.append(
                SYMPTOM_TARGET.flag(
                    "a CBT outcome goal needs a measurable symptom target: " + " and ".join(missing)
                )
            )
    if (
        goal.kind is Kind.PROCESS
        and Domain.BEHAVIORAL in goal.domains
        and (goal.target is None or goal.target.per is None)
    ):
        flags.append(
            COUNT_TARGET.flag(
                "count this behavioural goal: add a count target such as "
                "--target 'practices>=3/week'"
            )
        )
    if Domain.COGNITIVE in goal.domains and goal.attr("technique") != "behavioural-experiment":
        flags.append(
            EXPERIMENT.flag(
                "test the belief behind this goal with a behavioural experiment: write the "
                "prediction, run it, then record the outcome"
            )
        )
    return flags


@hookimpl
def suggest_steps(goal: GoalView) -> list[StepTemplate]:
    if goal.attr("technique") == "exposure":
        return [
            StepTemplate(f"Build a fear ladder for '{goal.title}' (10 situations rated 0-100)"),
            StepTemplate("Exposure: a situation rated about 30, twice this week"),
            StepTemplate("Exposure: a situation rated about 50, until anxiety halves"),
            StepTemplate("Exposure: the top of the ladder, with the therapist"),
        ]
    return [
        StepTemplate(
            "Self-monitor: an activity and mood diary every day for a week",
            target="diary_days>=7/week",
        ),
        StepTemplate("Schedule three valued activities a week", target="activities>=3/week"),
        StepTemplate(
            "Behavioural experiment: write a prediction, test it, record the outcome",
            description="goal note --kind experiment",
        ),
    ]


@hookimpl
def review(goals: Sequence[GoalView]) -> list[ReviewItem]:
    return [
        ReviewItem(
            "suggestion",
            f"administer {g.target.measure} again to check '{g.title}' ({g.target})",
            str(g.id),
        )
        for g in goals
        if g.kind is Kind.OUTCOME and g.target is not None and g.target.per is None
    ]

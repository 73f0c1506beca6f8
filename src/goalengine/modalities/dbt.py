"""Built-in plugin ``dbt``: dialectical behaviour therapy, stage 1.

Every goal carries its stage-1 target category (``--attr category=...``). The client's goals are
ordered by the target hierarchy (Linehan 1993), then the clinician's explicit order, then the most
recently changed first; while a life-threatening target is active nothing else may be put first,
and the review's agenda starts with imminent risk.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from goalengine.modalities.hookspecs import hookimpl
from goalengine.modalities.types import (
    Attribute,
    ClientView,
    Flag,
    GoalView,
    Modality,
    Priority,
    ReviewItem,
    Rule,
    StepTemplate,
)
from goalengine.values import Status

SOURCE = "Linehan MM (1993), Cognitive-Behavioral Treatment of Borderline Personality Disorder"

#: The stage-1 target hierarchy, highest first.
HIERARCHY = (
    "life-threatening",
    "therapy-interfering",
    "quality-of-life-interfering",
    "skills",
)
LABELS = {
    "life-threatening": "life-threatening behaviour",
    "therapy-interfering": "therapy-interfering behaviour",
    "quality-of-life-interfering": "quality-of-life-interfering behaviour",
    "skills": "increasing behavioural skills",
}

HIERARCHY_RULE = Rule(
    "dbt.hierarchy",
    "error",
    "Life-threatening targets come first",
    "While a life-threatening target is active, no lower category is put first.",
    SOURCE,
)
ORDER_RULE = Rule(
    "dbt.hierarchy-order",
    "warning",
    "Order follows the target hierarchy",
    "A lower target category placed above a higher one goes against the stage-1 hierarchy.",
    SOURCE,
)
DIARY_RULE = Rule(
    "dbt.diary-card",
    "suggestion",
    "Track targets on the diary card",
    "Target behaviours are tracked daily on the diary card (urges 0-5, actions yes/no).",
    SOURCE,
)


def rank(goal: GoalView) -> int:
    """0 for life-threatening … 3 for skills (4 when the category is missing)."""
    category = goal.attr("category")
    return HIERARCHY.index(category) if category in HIERARCHY else len(HIERARCHY)


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(
        Modality(
            "dbt",
            "Dialectical behaviour therapy",
            "Stage-1 target hierarchy: life-threatening, therapy-interfering, "
            "quality-of-life-interfering behaviours, then skills.",
        )
    )


@hookimpl
def register_attributes(register: Callable[[Attribute], None]) -> None:
    register(
        Attribute(
            "dbt",
            "category",
            "the stage-1 target category (the DBT hierarchy)",
            choices=HIERARCHY,
            required=True,
        )
    )
    register(
        Attribute(
            "dbt",
            "risk",
            "for life-threatening targets: imminent (now) or past behaviour",
            choices=("imminent", "past"),
        )
    )


@hookimpl
def register_rules(register: Callable[[Rule], None]) -> None:
    for rule in (HIERARCHY_RULE, ORDER_RULE, DIARY_RULE):
        register(rule)


@hookimpl
def validate_goal(goal: GoalView, action: str) -> list[Flag]:
    if action == "create" and rank(goal) < 3 and goal.parent_id is None:
        return [
            DIARY_RULE.flag(
                f"track this {LABELS[HIERARCHY[rank(goal)]]} on the daily diary card "
                "(urges 0-5, action yes/no)"
            )
        ]
    return []


def _active_life_threatening(client: ClientView) -> list[GoalView]:
    return [g for g in client.open_goals() if g.status is Status.ACTIVE and rank(g) == 0]


@hookimpl
def validate_priorities(goals: Sequence[GoalView], client: ClientView) -> list[Flag]:
    flags = []
    risky = _active_life_threatening(client)
    if goals and risky and rank(goals[0]) != 0:
        first = goals[0]
        flags.append(
            HIERARCHY_RULE.flag(
                f"'{risky[0].title}' is an active life-threatening target: it comes before "
                f"'{first.title}' ({first.attr('category')}); put a life-threatening goal first"
            )
        )
    for above, below in itertools.pairwise(goals):
        if rank(above) > rank(below):
            flags.append(
                ORDER_RULE.flag(
                    f"'{above.title}' ({above.attr('category')}) is placed above "
                    f"'{below.title}' ({below.attr('category')})"
                )
            )
    return flags


@hookimpl
def prioritize_goals(goals: Sequence[GoalView], client: ClientView) -> list[Priority]:
    explicit = {goal_id: i for i, goal_id in enumerate(client.priorities)}

    def recency(g: GoalView) -> float:
        when = g.updated_at or g.created_at
        return -when.timestamp() if when else 0.0

    ordered = sorted(
        goals, key=lambda g: (rank(g), explicit.get(str(g.id), len(explicit)), recency(g))
    )
    out = []
    for g in ordered:
        r = rank(g)
        label = LABELS.get(HIERARCHY[r], "") if r < len(HIERARCHY) else "no target category"
        then = "clinician's order" if str(g.id) in explicit else "most recently changed first"
        out.append(Priority(str(g.id), f"{r + 1}. {label} (DBT hierarchy), then {then}"))
    return out


@hookimpl
def suggest_steps(goal: GoalView) -> list[StepTemplate]:
    if rank(goal) == 0:
        return [
            StepTemplate("Write a crisis plan with the therapist"),
            StepTemplate("Chain analysis of the last episode"),
            StepTemplate("Distress tolerance: practise TIPP when urges reach 3/5"),
        ]
    return [
        StepTemplate("Diary card every day this week", target="diary_days>=7/week"),
        StepTemplate("Practise one skill from this week's skills group daily"),
    ]


@hookimpl
def review(goals: Sequence[GoalView]) -> list[ReviewItem]:
    def key(g: GoalView) -> tuple[int, int]:
        imminent = 0 if rank(g) == 0 and g.attr("risk") == "imminent" else 1
        return (imminent, rank(g))

    items = []
    for g in sorted((g for g in goals if g.parent_id is None), key=key):
        r = rank(g)
        if r == 0:
            when = "imminent risk" if g.attr("risk") == "imminent" else "life-threatening"
            items.append(
                ReviewItem(
                    "agenda",
                    f"{when}: '{g.title}' — review the diary card first",
                    str(g.id),
                    risk=True,
                )
            )
        elif r < len(HIERARCHY):
            items.append(ReviewItem("agenda", f"{LABELS[HIERARCHY[r]]}: '{g.title}'", str(g.id)))
    return items

"""goalengine plugin: the psychodynamic modality.

Insight-oriented goals (recognising recurring relational patterns, understanding the origins of
reactions) have no standard measure: they are rated on an idiographic 0-10 scale, so they need
anchors describing what insight looks like at 0 and at 10 (clinical-reference.md, "Psychodynamic").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from goalengine import hookimpl
from goalengine.modalities import (
    Attribute,
    Flag,
    GoalView,
    Modality,
    ReviewItem,
    Rule,
    StepTemplate,
)

__version__ = "0.1.0"

SOURCE = (
    "Luborsky L (1984), Principles of Psychoanalytic Psychotherapy (CCRT); idiographic 0-10 "
    "goals as in Goal-Based Outcomes (Law 2011)"
)
FOCUS = ("relational-pattern", "origins", "insight", "symptom", "other")
INSIGHT_FOCUS = ("relational-pattern", "origins", "insight")
_INSIGHT_WORDS = re.compile(
    r"\b(pattern|patterns|insight|understand\w*|origin\w*|recogni[sz]\w*|relational)\b",
    re.IGNORECASE,
)

INSIGHT_ANCHORS = Rule(
    "psychodynamic.insight-anchors",
    "error",
    "Insight goals have 0-10 anchors",
    "An insight-oriented goal says what 0 and 10 look like (--anchor-low, --anchor-high): there "
    "is no standard measure of insight, so the anchors are the measure.",
    SOURCE,
)
PATTERN_TRACKING = Rule(
    "psychodynamic.pattern-tracking",
    "suggestion",
    "Track the pattern in notes",
    "Insight goals are helped by pattern-tracking notes: each time the pattern shows, what "
    "happened, what was wished for, how the other responded, how the client responded.",
    SOURCE,
)


def is_insight(goal: GoalView) -> bool:
    """An insight-oriented goal: its focus says so, or its title speaks of patterns or origins."""
    focus = goal.attr("focus")
    if focus is not None:
        return focus in INSIGHT_FOCUS
    return bool(_INSIGHT_WORDS.search(goal.title))


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(
        Modality(
            "psychodynamic",
            "Psychodynamic therapy",
            "Insight-oriented goals: recurring relational patterns and the origins of reactions, "
            "rated on idiographic 0-10 scales.",
        )
    )


@hookimpl
def register_attributes(register: Callable[[Attribute], None]) -> None:
    register(
        Attribute(
            "psychodynamic",
            "focus",
            "what the goal works on (insight goals: relational-pattern, origins, insight)",
            choices=FOCUS,
        )
    )


@hookimpl
def register_rules(register: Callable[[Rule], None]) -> None:
    register(INSIGHT_ANCHORS)
    register(PATTERN_TRACKING)


@hookimpl
def validate_goal(goal: GoalView, action: str) -> list[Flag]:
    if action not in ("create", "revise") or not is_insight(goal):
        return []
    flags = []
    missing = [
        name
        for name, text in (("--anchor-low", goal.anchors.low), ("--anchor-high", goal.anchors.high))
        if not text
    ]
    if missing:
        flags.append(
            INSIGHT_ANCHORS.flag(
                "an insight goal is rated 0-10 against anchors that say what insight looks like: "
                f"give {' and '.join(missing)} (e.g. 0 = 'I don't see why it keeps happening', "
                "10 = 'I notice the pattern as it starts and can choose')"
            )
        )
    if action == "create":
        flags.append(
            PATTERN_TRACKING.flag(
                "keep pattern-tracking notes (goal note): each time the pattern shows, note the "
                "situation, the wish, the other's response and the client's response"
            )
        )
    return flags


@hookimpl
def suggest_steps(goal: GoalView) -> list[StepTemplate]:
    if not is_insight(goal):
        return []
    return [
        StepTemplate(
            "Note one instance of the pattern each week",
            description="Situation, wish, the other's response, my response.",
            target="pattern_notes>=1/week",
        ),
        StepTemplate("Bring one noted instance to the session and explore it together"),
        StepTemplate("Link the pattern to an earlier relationship in a session"),
    ]


@hookimpl
def review(goals: Sequence[GoalView]) -> list[ReviewItem]:
    return [
        ReviewItem(
            "suggestion",
            f"rate '{g.title}' 0-10 against its anchors and read back the pattern notes",
            str(g.id),
        )
        for g in goals
        if is_insight(g)
    ]

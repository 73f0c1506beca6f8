"""Built-in plugin ``act``: acceptance and commitment therapy.

Every goal serves at least one of the client's declared values; process goals (willingness,
defusion, values-based action) are the default, and outcome goals are nudged towards one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from goalengine.modalities.hookspecs import hookimpl
from goalengine.modalities.types import (
    Attribute,
    ClientView,
    Flag,
    GoalView,
    Modality,
    ReviewItem,
    Rule,
    StepTemplate,
)
from goalengine.values import Kind

SOURCE = "Hayes SC, Strosahl KD, Wilson KG (2012), Acceptance and Commitment Therapy, 2nd ed."
PROCESSES = ("willingness", "defusion", "values-based-action")

VALUE_LINK = Rule(
    "act.value-link",
    "error",
    "Goals serve a declared value",
    "Every ACT goal serves at least one of the client's declared values (--value).",
    SOURCE,
)
PROCESS_DEFAULT = Rule(
    "act.process-default",
    "suggestion",
    "Process goals are the default",
    "An outcome goal gets a process goal beside it: willingness, defusion or values-based action.",
    SOURCE,
)
PROCESS_NAMED = Rule(
    "act.process-named",
    "suggestion",
    "Name the ACT process",
    "A process goal says which process it trains (--attr process=...).",
    SOURCE,
)


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(
        Modality(
            "act",
            "Acceptance and commitment therapy",
            "Goals that serve the client's values; willingness, defusion and values-based action.",
        )
    )


@hookimpl
def register_attributes(register: Callable[[Attribute], None]) -> None:
    register(
        Attribute("act", "process", "the ACT process a process goal trains", choices=PROCESSES)
    )


@hookimpl
def register_rules(register: Callable[[Rule], None]) -> None:
    for rule in (VALUE_LINK, PROCESS_DEFAULT, PROCESS_NAMED):
        register(rule)


@hookimpl
def validate_goal(goal: GoalView, client: ClientView, action: str) -> list[Flag]:
    if action not in ("create", "revise"):
        return []
    flags = []
    if not goal.values:
        if client.values:
            declared = "; ".join(f"{i}. {v}" for i, v in enumerate(client.values, 1))
            hint = f"name the value it serves with --value ({declared})"
        else:
            hint = f"{client.name} has no declared values yet: add them with client revise --value"
        flags.append(VALUE_LINK.flag(f"an ACT goal must serve one of the client's values: {hint}"))
    if goal.kind is Kind.OUTCOME:
        flags.append(
            PROCESS_DEFAULT.flag(
                "ACT works with process goals by default: add a willingness, defusion or "
                "values-based action goal serving the same value"
            )
        )
    elif goal.attr("process") is None:
        flags.append(
            PROCESS_NAMED.flag(
                "say which process this goal trains: --attr process=willingness|defusion|"
                "values-based-action"
            )
        )
    return flags


@hookimpl
def suggest_steps(goal: GoalView) -> list[StepTemplate]:
    value = goal.values[0] if goal.values else "the value it serves"
    return [
        StepTemplate(
            "Willingness: stay with the urge to avoid for two minutes before choosing",
            description="Notice, name and allow the feeling; then act on purpose.",
        ),
        StepTemplate(
            "Defusion: once a day write the sticky thought as 'I'm having the thought that …'"
        ),
        StepTemplate(f"Values-based action: one small act a day that serves '{value}'"),
    ]


@hookimpl
def review(client: ClientView, goals: Sequence[GoalView]) -> list[ReviewItem]:
    served = {v for g in goals for v in g.values}
    return [
        ReviewItem("suggestion", f"no open goal serves the value '{v}': is it still a priority?")
        for v in client.values
        if v not in served
    ]

"""Built-in plugin ``core``: the modality-independent rules, applied to every goal.

It registers no modality, so its hooks run for every goal whatever its modality (see the dispatch
rules in :mod:`goalengine.modalities.hookspecs`). Sources: the therapy-goals guide shipped with the
project (SMART goals, vague goals, 3-5 steps per long-term goal) and Goal-Based Outcomes (Law 2011:
up to about three goals at a time).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from goalengine.modalities.hookspecs import hookimpl
from goalengine.modalities.types import ClientView, Flag, GoalView, ReviewItem, Rule, StepTemplate
from goalengine.values import Horizon, Kind

#: More open top-level goals than this gets a warning (Goal-Based Outcomes: about three).
MAX_ACTIVE_GOALS = 3
#: A long-term goal works best broken into this many steps.
STEPS = (3, 5)

GUIDE = "goalengine therapy-goals guide (SMART goals; goal chaining)"

SPECIFIC = Rule(
    "core.smart.specific",
    "suggestion",
    "Specific",
    "The title names what the client will do (at least three words, no vague wording).",
    GUIDE,
)
MEASURABLE = Rule(
    "core.smart.measurable",
    "suggestion",
    "Measurable",
    "The goal has a target (--target) or 0-10 anchors saying what 0 and 10 look like.",
    GUIDE,
)
ACHIEVABLE = Rule(
    "core.smart.achievable",
    "suggestion",
    "Achievable",
    "The client has agreed the goal is within reach (client_agreed).",
    GUIDE,
)
RELEVANT = Rule(
    "core.smart.relevant",
    "suggestion",
    "Relevant",
    "The goal is linked to one of the client's values (--value) or to a problem (a target).",
    GUIDE,
)
TIME_BOUND = Rule(
    "core.smart.time-bound",
    "suggestion",
    "Time-bound",
    "The goal has a due date (--due).",
    GUIDE,
)
VAGUE = Rule(
    "core.vague-goal",
    "warning",
    "Vague goal",
    "Goals such as 'feel better' or 'be happier' name no observable behaviour; drill down with "
    "concrete questions until they do.",
    GUIDE + ", 'Vague or overly abstract goals'",
)
TOO_MANY = Rule(
    "core.too-many-goals",
    "warning",
    "Too many active goals",
    f"More than {MAX_ACTIVE_GOALS} active goals at once dilutes the work.",
    "Law D (2011), Goals and Goal Based Outcomes (GBOs); the guide",
)
STEP_COUNT = Rule(
    "core.step-count",
    "suggestion",
    "Steps of a long-term goal",
    f"A long-term goal is broken into {STEPS[0]} to {STEPS[1]} short-term steps.",
    GUIDE + ", 'Goal chaining'",
)
OUTCOME_PROCESS = Rule(
    "core.outcome-needs-process",
    "suggestion",
    "Outcome goal without a process goal",
    "An outcome goal is supported by at least one process goal (a step of it, or an open process "
    "goal serving the same value).",
    GUIDE + ", 'Process and outcome goals'",
)
RULES = (
    SPECIFIC,
    MEASURABLE,
    ACHIEVABLE,
    RELEVANT,
    TIME_BOUND,
    VAGUE,
    TOO_MANY,
    STEP_COUNT,
    OUTCOME_PROCESS,
)

DRILL_DOWN = (
    "What would be different about your morning routine?",
    "How would you know it had happened if we couldn't use a feeling word?",
    "If a camera recorded your day, what would we see that would tell us you are making progress?",
)

_VAGUE = re.compile(
    r"\b(feel(ing)? (better|good|happier|happy|ok|okay|normal|less \w+|more \w+)"
    r"|be (happier|happy|better|ok|okay|normal|less \w+|more \w+|a better \w+)"
    r"|get better|improve my life|get my life together|sort (myself|my life) out"
    r"|be myself|find myself)\b",
    re.IGNORECASE,
)
_FEELING_START = re.compile(r"^\s*(to\s+)?(feel|be|become|get)\b", re.IGNORECASE)


def is_vague(goal: GoalView) -> bool:
    """True when the title names no observable behaviour ("feel better", "be happier")."""
    if _VAGUE.search(goal.title):
        return True
    return bool(
        _FEELING_START.match(goal.title)
        and goal.target is None
        and not re.search(r"\d", goal.title)
    )


@hookimpl
def register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


def _smart(goal: GoalView) -> Iterator[Flag]:
    words = re.findall(r"\w+", goal.title)
    if len(words) < 3 or is_vague(goal):
        yield SPECIFIC.flag(
            f"'{goal.title}' is not specific: say what the client will do, where and how often"
        )
    if goal.target is None and not (goal.anchors.low and goal.anchors.high):
        yield MEASURABLE.flag(
            "not measurable: give a target (--target 'phq9<10', 'walks>=3/week') or say what 0 "
            "and 10 look like (--anchor-low/--anchor-high)"
        )
    if not goal.client_agreed:
        yield ACHIEVABLE.flag(
            "not agreed as achievable: the client has not agreed this goal is within reach; "
            "agree a smaller one or revise it together"
        )
    if not goal.values and goal.target is None:
        yield RELEVANT.flag(
            "not linked to a value or a problem: name the client's value it serves (--value) or "
            "the problem it addresses (a --target on a symptom measure)"
        )
    if goal.due is None:
        yield TIME_BOUND.flag("not time-bound: give a date to review or reach it by (--due)")


def _supported(goal: GoalView, client: ClientView) -> bool:
    if any(step.kind is Kind.PROCESS for step in goal.steps):
        return True
    for other in client.goals:
        if other.kind is not Kind.PROCESS or not other.is_open or other.id == goal.id:
            continue
        if not goal.values or set(goal.values) & set(other.values):
            return True
    return False


@hookimpl
def validate_goal(goal: GoalView, client: ClientView, action: str) -> list[Flag]:
    flags: list[Flag] = []
    if action in ("create", "revise"):
        flags += _smart(goal)
        if is_vague(goal):
            flags.append(
                VAGUE.flag(
                    f"'{goal.title}' is vague: drill down to observable behaviour. "
                    + " ".join(DRILL_DOWN)
                )
            )
        if goal.horizon is Horizon.LONG and not STEPS[0] <= len(goal.steps) <= STEPS[1]:
            have = f"has {len(goal.steps)} step(s)" if goal.steps else "has no steps yet"
            flags.append(
                STEP_COUNT.flag(
                    f"this long-term goal {have}: break it into {STEPS[0]} to {STEPS[1]} "
                    "short-term steps (goal chain)"
                )
            )
        if goal.kind is Kind.OUTCOME and not _supported(goal, client):
            flags.append(
                OUTCOME_PROCESS.flag(
                    "no process goal supports this outcome goal: add one the client can do "
                    "regardless of the result (e.g. 'practise the exercise twice a week')"
                )
            )
    if action in ("create", "resume") and goal.parent_id is None:
        others = [g for g in client.open_goals() if g.id != goal.id and g.status.value == "active"]
        if len(others) + 1 > MAX_ACTIVE_GOALS:
            flags.append(
                TOO_MANY.flag(
                    f"{client.name} would have {len(others) + 1} active goals; more than "
                    f"{MAX_ACTIVE_GOALS} at once dilutes the work — pause or merge one"
                )
            )
    return flags


@hookimpl
def suggest_steps(goal: GoalView) -> list[StepTemplate]:
    if goal.horizon is not Horizon.LONG or len(goal.steps) >= STEPS[0]:
        return []
    return [
        StepTemplate(
            f"First small step toward '{goal.title}' this week",
            description="Something the client is confident (7/10 or more) they can do now.",
        ),
        StepTemplate(
            "Track the goal daily for two weeks",
            description="A tally or a short journal entry each day; it shows what to build on.",
        ),
    ]


@hookimpl
def review(client: ClientView, goals: Sequence[GoalView]) -> list[ReviewItem]:
    items = []
    top = [g for g in goals if g.parent_id is None and g.status.value == "active"]
    if len(top) > MAX_ACTIVE_GOALS:
        items.append(
            ReviewItem(
                "suggestion",
                f"{len(top)} active goals: agree which {MAX_ACTIVE_GOALS} matter most now",
            )
        )
    for g in top:
        if g.horizon is Horizon.LONG and not g.steps:
            items.append(
                ReviewItem("suggestion", f"'{g.title}' has no steps yet: chain 3 to 5", str(g.id))
            )
    return items

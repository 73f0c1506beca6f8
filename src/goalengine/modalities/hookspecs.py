"""The plugin contract: markers and every hook goalengine calls.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names are the hook names
below; it may accept fewer arguments than the spec, never other ones. The host calls hooks with
keywords only. Docstrings follow one order: summary, whether one answer or all answers are used,
each parameter, the return value.

Dispatch (who answers what):

* a plugin that registers **no modality** (e.g. ``core``) has its evaluation hooks called for every
  goal and client;
* a plugin that registers modalities has them called only for goals whose *effective* modality (the
  goal's own, else its client's) is one of its own;
* ``prioritize_goals`` is answered by the one plugin that owns the client's modality; when it
  answers ``None`` (or there is none) the engine uses its default order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
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

PROJECT = "goalengine"
#: The entry-point group plugins declare: ``[project.entry-points.goalengine]``.
ENTRY_POINT_GROUP = "goalengine"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_modalities(register: Callable[[Modality], None]) -> None:
    """Register the modalities this plugin provides.

    Every plugin's implementation is called once, when the plugin loads.

    :param register: call ``register(Modality(name=..., title=..., description=...))`` once per
        modality. A built-in's modality name (``core``, ``act``, ``cbt``, ``dbt``) makes this
        plugin fail to load; a name another outside plugin also registers makes both fail (each
        failure names the other) — the load order never decides.
    :return: nothing.
    """


@hookspec
def register_attributes(register: Callable[[Attribute], None]) -> None:
    """Register the goal attributes (``--attr KEY=VALUE``) the plugin's modalities use.

    Every plugin's implementation is called once, when the plugin loads.

    :param register: call ``register(Attribute(modality=..., key=..., description=...,
        choices=(...), required=...))`` once per attribute; ``modality`` must be one this plugin
        registers. The engine refuses unknown keys, values outside ``choices`` and goals without a
        ``required`` attribute before any rule runs.
    :return: nothing.
    """


@hookspec
def register_rules(register: Callable[[Rule], None]) -> None:
    """Register the rules this plugin applies, with their stable ids and severities.

    Every plugin's implementation is called once, when the plugin loads. Only registered rule ids
    may be flagged by the plugin's evaluation hooks; ``modalities show`` lists them.

    :param register: call ``register(Rule(id=..., severity=..., title=..., explanation=...,
        source=...))`` once per rule. An id under a built-in's prefix (``core.``, ``act.``,
        ``cbt.``, ``dbt.``) makes this plugin fail to load; an id another outside plugin also
        registers makes both fail.
    :return: nothing.
    """


@hookspec
def validate_goal(
    goal: GoalView, client: ClientView, modality: str | None, action: str
) -> Iterable[Flag] | None:
    """Check a goal about to be created, revised or moved to another status.

    All answers are used (modality-independent plugins for every goal, a modality's plugin for its
    goals). A flag of an ``error`` rule refuses the command and nothing is recorded; ``warning`` and
    ``suggestion`` flags are stored in the event with the plugin's name and version.

    :param goal: the goal as it will be if the command goes ahead (``goal.id`` is ``None`` on
        create).
    :param client: the goal's client with their other goals.
    :param modality: the goal's effective modality, or ``None``.
    :param action: ``create``, ``revise``, ``pause``, ``resume``, ``achieve``, ``abandon`` or
        ``void``.
    :return: the flags raised (``Rule.flag(message)``), or ``None`` for none.
    """


@hookspec
def validate_priorities(
    goals: Sequence[GoalView], client: ClientView, modality: str | None
) -> Iterable[Flag] | None:
    """Check the clinician's explicit order of a client's goals (``client prioritize``).

    All answers are used (modality-independent plugins, and the plugin of the client's modality).
    An ``error`` flag refuses the order; the others are stored with it.

    :param goals: the proposed order, first = top priority.
    :param client: the client, with all of their goals.
    :param modality: the client's modality, or ``None``.
    :return: the flags raised, or ``None`` for none.
    """


@hookspec(firstresult=True)
def prioritize_goals(
    goals: Sequence[GoalView], client: ClientView, modality: str
) -> Sequence[Priority] | None:
    """Order a client's open goals, with the reason for each goal's place.

    Single answer: only the plugin that owns the client's modality is asked; ``None`` means "use
    the engine's default order" (the clinician's explicit order, then oldest first).

    :param goals: the client's open top-level goals, in the engine's default order.
    :param client: the client; ``client.priorities`` holds the clinician's explicit order, if any.
    :param modality: the client's modality.
    :return: one :class:`Priority` per goal in ``goals`` (each exactly once), first = top, or
        ``None``.
    """


@hookspec
def suggest_steps(
    goal: GoalView, client: ClientView, modality: str | None
) -> Iterable[StepTemplate] | None:
    """Suggest steps to chain under a long-term goal (e.g. an exposure ladder).

    All answers are used (modality-independent plugins, then the goal's modality plugin).

    :param goal: the goal to break down.
    :param client: its client.
    :param modality: the goal's effective modality, or ``None``.
    :return: step templates, or ``None`` for none.
    """


@hookspec
def review(
    client: ClientView, goals: Sequence[GoalView], measures: Sequence[Any], modality: str | None
) -> Iterable[ReviewItem] | None:
    """Contribute alerts, agenda items and suggestions to the review of a client.

    All answers are used; ``risk`` items come first. A plugin that raises here does not stop the
    review: its answer becomes an ``error`` item naming the plugin.

    :param client: the client.
    :param goals: the client's open goals (steps included).
    :param measures: the client's measure administrations (empty until measures exist).
    :param modality: the client's modality, or ``None``.
    :return: review items, or ``None`` for none.
    """


#: Every hook, in the order the docs list them.
HOOKS: tuple[str, ...] = (
    "register_modalities",
    "register_attributes",
    "register_rules",
    "validate_goal",
    "validate_priorities",
    "prioritize_goals",
    "suggest_steps",
    "review",
)

__all__ = ["ENTRY_POINT_GROUP", "HOOKS", "PROJECT", "hookimpl", "hookspec"]

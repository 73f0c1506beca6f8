"""Rules and plugins: priorities, step suggestions, the client review, plugin listings.

Each command is get → decide → save like the rest of the engine; the deciding is done by the plugin
manager (:mod:`goalengine.modalities.manager`) on frozen views. Replay never comes here.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import attrs

from goalengine.aggregates import Client
from goalengine.engine import checks
from goalengine.engine.core import EngineCore
from goalengine.errors import Conflict, InvalidInput
from goalengine.modalities import listing
from goalengine.modalities.manager import PluginManager
from goalengine.modalities.types import ClientView, GoalView
from goalengine.results import (
    ClientReview,
    ModalityDetail,
    ModalityInfo,
    PluginInfo,
    Prioritized,
    PriorityEntry,
    StepSuggestion,
)
from goalengine.serialization import unstructure
from goalengine.values import Actor


class RulesArea(EngineCore):
    """Modality rules, priorities, step suggestions, the client review and plugin listings."""

    def _open_views(self, client: Client) -> tuple[ClientView, list[GoalView]]:
        view = self._client_view(client)
        return view, list(view.open_goals())

    # -- priorities -----------------------------------------------------------------------------

    def prioritized_goals(self, client: str | UUID) -> list[PriorityEntry]:
        """The client's open top-level goals in priority order, each with the reason for its place.

        The plugin of the client's modality answers (DBT: the target hierarchy); without one, the
        clinician's explicit order (``prioritize_client``) comes first, then the oldest goals.
        """
        c = self._client(checks.ref(client, "client"))
        view, goals = self._open_views(c)
        return self._order(view, goals)

    def _order(self, view: ClientView, goals: list[GoalView]) -> list[PriorityEntry]:
        return priority_order(self.plugins, view, goals)

    def prioritize_client(
        self, client: str | UUID, goals: Sequence[str | UUID], *, actor: Actor | str | None = None
    ) -> Prioritized:
        """Record the clinician's explicit order of a client's goals (first = top priority).

        The goals listed come first in that order; the others keep their places after them. The
        modality's rules check the order (DBT refuses a lower category first while a
        life-threatening target is active); their findings and reasons are stored in the event.
        """
        client = checks.ref(client, "client")
        if isinstance(goals, (str, UUID)) or not isinstance(goals, (list, tuple)):
            raise checks.wrong_type("goals", "a list of goal ids", goals)
        goals = [checks.ref(g, f"goals[{i}]") for i, g in enumerate(goals)]
        actor = checks.actor(actor)
        c = self._client(client)
        if not goals:
            raise InvalidInput("give the goals in priority order: client prioritize CLIENT GOAL…")
        view, open_goals = self._open_views(c)
        by_id = {str(g.id): g for g in open_goals}
        chosen: list[GoalView] = []
        for ref in goals:
            goal_id = str(self._read.resolve("goal", ref))
            doc = next((g for g in view.goals if str(g.id) == goal_id), None)
            if doc is None:
                raise InvalidInput(
                    f"goal {goal_id[:8]} is not one of client {str(c.id)[:8]}'s goals"
                )
            if goal_id not in by_id:
                why = "a step (its parent's chain orders it)" if doc.parent_id else doc.status.value
                raise Conflict(
                    f"goal {goal_id[:8]} is {why}; only open top-level goals are ordered"
                )
            if by_id[goal_id] in chosen:
                raise InvalidInput(f"goal {goal_id[:8]} is listed twice")
            chosen.append(by_id[goal_id])
        order = chosen + [g for g in open_goals if g not in chosen]
        findings = self.plugins.check_priorities(order, view)
        proposed = attrs.evolve(view, priorities=tuple(str(g.id) for g in chosen))
        reasons = {e["id"]: e["reason"] for e in self._order(proposed, order)}
        c.prioritize(
            [UUID(str(g.id)) for g in chosen],
            [reasons[str(g.id)] for g in chosen],
            self._who(actor),
            findings,
        )
        self._save(c)
        return {
            "client_id": str(c.id),
            "priorities": [str(g.id) for g in chosen],
            "order": self.prioritized_goals(c.id),
            "findings": [unstructure(f) for f in findings],
        }

    # -- suggestions and the review -------------------------------------------------------------

    def suggest_steps(self, goal: str | UUID) -> list[StepSuggestion]:
        """Step templates for chaining under ``goal``, from every plugin that applies to it."""
        g = self._goal(checks.ref(goal, "goal"))
        c = self._client(g.client_id)
        view = self._client_view(c)
        target = next((x for x in view.goals if x.id == str(g.id)), None)
        if target is None:
            raise Conflict(f"goal {str(g.id)[:8]} was voided; it gets no suggestions")
        return [
            {
                "title": s.title,
                "kind": unstructure(s.kind),
                "description": s.description,
                "target": s.target,
                "plugin": info.name,
                "plugin_version": info.version,
            }
            for s, info in self.plugins.suggest_steps(target, view)
        ]

    def client_review(self, client: str | UUID) -> ClientReview:
        """Compute a client's review: alerts, agenda and suggestions, risk items first (nothing
        is recorded)."""
        c = self._client(checks.ref(client, "client"))
        view, _ = self._open_views(c)
        goals = [g for g in view.goals if g.is_open]
        items = self.plugins.review(view, goals, ())
        ordered = sorted(items, key=lambda pair: not pair[0].risk)
        return {
            "client_id": str(c.id),
            "modality": c.modality,
            "items": [
                {
                    "kind": unstructure(item.kind),
                    "message": item.message,
                    "goal_id": item.goal_id,
                    "risk": item.risk,
                    "plugin": info.name,
                    "plugin_version": info.version,
                }
                for item, info in ordered
            ],
        }

    # -- listings -------------------------------------------------------------------------------

    def list_plugins(self) -> list[PluginInfo]:
        """Every plugin the engine tried to load: name, version, status (ok/failed), reason,
        modalities, hooks, rules and attributes."""
        return listing.plugins(self.plugins)

    def list_modalities(self) -> list[ModalityInfo]:
        """The registered modalities with the plugin that provides each."""
        return listing.modalities(self.plugins)

    def show_modality(self, name: str) -> ModalityDetail:
        """One modality: its attributes (schema) and its rules, then the rules every goal gets."""
        return listing.modality(self.plugins, checks.text(name, "name", max_len=100))


def priority_order(
    pm: PluginManager, view: ClientView, goals: list[GoalView]
) -> list[PriorityEntry]:
    """The one ordering of a client's open top-level goals, each with the reason for its place:
    ``client priorities`` and ``goal list --client`` both show it. The plugin owning the
    client's modality answers; otherwise (or when it answers None, or its plugin is not loaded)
    the clinician's explicit order, then the oldest goals first."""
    by_id = {str(g.id): g for g in goals}
    rows: Sequence[tuple[GoalView, str, str | None, str | None]]
    answer = pm.prioritize(goals, view)
    if answer is not None:
        order, plugin = answer
        info = pm.plugins()
        version = next((p.version for p in info if p.name == plugin), "unknown")
        rows = [(by_id[p.goal_id], p.reason, plugin, version) for p in order]
    else:
        explicit = [by_id[i] for i in view.priorities if i in by_id]
        rest = [g for g in goals if g not in explicit]
        rows = [(g, "clinician's order", None, None) for g in explicit] + [
            (g, "default order: oldest first", None, None) for g in rest
        ]
    return [
        {
            "position": position,
            "id": str(g.id),
            "title": g.title,
            "status": unstructure(g.status),
            "category": g.attr("category"),
            "attributes": dict(g.attributes),
            "reason": reason,
            "plugin": plugin,
            "plugin_version": version,
        }
        for position, (g, reason, plugin, version) in enumerate(rows, 1)
    ]

"""The plugin manager: the factory, dispatch, attribution and isolation.

:func:`make_manager` is the factory. Without arguments it discovers the plugins of the entry-point
group ``goalengine`` (:mod:`.discovery`) — the built-ins (``core``, ``act``, ``cbt``, ``dbt``) are
entry points of this package, registered exactly like an outside plugin — limited by
``GOALENGINE_PLUGINS`` when set. With an explicit mapping
(``make_manager({"core": "goalengine.modalities.core", "x": my_module})``) it loads exactly those
and never looks at what is installed: that is what tests use.

Loading (:mod:`.registry`) is lazy and plugin by plugin: a plugin that fails to import, registers a
name another plugin holds, or raises while registering is recorded as ``failed`` with the reason,
and the others keep working. At command time each plugin's implementation is called on its own, so
every finding is attributed to its plugin and a plugin that raises is named in the
:class:`PluginError` that refuses the command.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from goalengine.errors import InvalidInput, PluginError, RuleViolation
from goalengine.modalities.discovery import (
    BUILTIN_PLUGINS,
    ENV_VAR,
    PluginInfo,
    discover,
    given_plugins,
    host_info,
)
from goalengine.modalities.registry import PluginRegistry, one_line
from goalengine.modalities.types import (
    ClientView,
    Flag,
    GoalView,
    Priority,
    ReviewItem,
    StepTemplate,
)
from goalengine.values import Finding, Severity

#: ``validate_goal``'s ``action`` for each command.
ACTIONS = ("create", "revise", "pause", "resume", "achieve", "abandon", "void")


def make_manager(
    plugins: Mapping[str, object | str] | None = None, *, only: Sequence[str] | None = None
) -> PluginManager:
    """The plugin manager factory (nothing is imported until the manager is first used).

    :param plugins: load exactly these (name → module object, plugin object, or dotted module
        path) and nothing that is installed; ``None`` discovers the installed entry points.
    :param only: with discovery, the names to load (default: ``GOALENGINE_PLUGINS``).
    """
    if plugins is None:
        return PluginManager(lambda: discover(only))
    candidates = given_plugins(plugins)
    return PluginManager(lambda: candidates)


def builtin_plugins() -> dict[str, object | str]:
    """The built-ins as a mapping for :func:`make_manager` (tests add their own to it)."""
    return dict(BUILTIN_PLUGINS)


class PluginManager(PluginRegistry):
    """The loaded plugins (:class:`~goalengine.modalities.registry.PluginRegistry`); calls hooks
    plugin by plugin."""

    # -- calling --------------------------------------------------------------------------------

    def _call(self, hook: str, plugin: str, **kwargs: Any) -> Any:
        impl = self._impl(hook, plugin)
        if impl is None:
            return None
        try:
            return self._invoke(impl, kwargs)
        except Exception as e:
            raise self._failed(plugin, hook, f"raised in {hook}: {type(e).__name__}: {e}") from e

    def _bad_answer(self, plugin: str, hook: str, what: str) -> PluginError:
        return self._failed(plugin, hook, f"returned {what} from {hook}")

    def _failed(self, plugin: str, hook: str, reason: str) -> PluginError:
        """Mark ``plugin`` failed for ``reason``: the error that refuses the command."""
        info = self._info[plugin]
        reason = one_line(reason)
        info.status, info.reason = "failed", reason
        return PluginError(
            f"plugin {info.label} {reason}; nothing was recorded",
            plugin=plugin,
            hook=hook,
        )

    def _items(self, plugin: str, hook: str, answer: Any, cls: type[Any]) -> list[Any]:
        if answer is None:
            return []
        if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
            raise self._bad_answer(plugin, hook, f"{answer!r} (not a list of {cls.__name__})")
        items = list(answer)
        for item in items:
            if not isinstance(item, cls):
                raise self._bad_answer(plugin, hook, f"{item!r} (not a {cls.__name__})")
        return items

    def _dispatch(self, modality: str | None) -> list[str]:
        plugins = self._unscoped()
        if modality is not None:
            plugins.append(self.owner(modality))
        return plugins

    # -- evaluation -----------------------------------------------------------------------------

    def check_attributes(self, goal: GoalView) -> None:
        """Refuse unknown, invalid or missing modality attributes (InvalidInput)."""
        self.load()
        given = dict(goal.attributes)
        if goal.modality is None:
            if given:
                raise InvalidInput(
                    f"attribute(s) {', '.join(sorted(given))} need a modality; give --modality "
                    "(or set the client's)"
                )
            return
        schema = {a.key: a for a in self.attributes(goal.modality)}
        unknown = sorted(set(given) - set(schema))
        if unknown:
            valid = ", ".join(sorted(schema)) or "none"
            raise InvalidInput(
                f"unknown attribute(s) {', '.join(unknown)} for modality {goal.modality}; "
                f"valid: {valid}",
                valid=sorted(schema),
            )
        for key, value in given.items():
            checked = schema[key].check(value)
            if checked != value:
                raise InvalidInput(
                    f"attribute {key}={value!r}: write it as {checked!r}",
                    choices=list(schema[key].choices),
                )
        for key, attribute in sorted(schema.items()):
            if attribute.required and key not in given:
                choices = f" (one of: {', '.join(attribute.choices)})" if attribute.choices else ""
                raise InvalidInput(
                    f"modality {goal.modality} needs attribute {key}{choices}: "
                    f"{attribute.description}; add --attr {key}=VALUE",
                    attribute=key,
                    choices=list(attribute.choices),
                )

    def _findings(self, plugin: str, hook: str, answer: Any) -> list[Finding]:
        info = self._info[plugin]
        findings = []
        for flag in self._items(plugin, hook, answer, Flag):
            registered = self._rules.get(flag.rule)
            if registered is None or registered[1] != plugin:
                raise self._bad_answer(
                    plugin, hook, f"a flag of rule {flag.rule!r} it did not register"
                )
            findings.append(
                Finding(
                    rule=flag.rule,
                    severity=registered[0].severity,
                    message=flag.message,
                    plugin=plugin,
                    plugin_version=info.version,
                )
            )
        return findings

    @staticmethod
    def _refuse_errors(findings: Sequence[Finding]) -> tuple[Finding, ...]:
        from goalengine.serialization import unstructure

        errors = [f for f in findings if f.severity is Severity.ERROR]
        if errors:
            rules = ", ".join(dict.fromkeys(f.rule for f in errors))
            raise RuleViolation(
                f"refused by rule {rules} (the findings say why)",
                findings=[unstructure(f) for f in findings],
            )
        return tuple(findings)

    def evaluate(self, goal: GoalView, client: ClientView, action: str) -> tuple[Finding, ...]:
        """Run every rule that applies to ``goal``: RuleViolation on an error, else the findings."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        plugins = self._dispatch(goal.modality)  # PluginError when the modality is missing
        self.check_attributes(goal)
        findings: list[Finding] = []
        for plugin in plugins:
            answer = self._call(
                "validate_goal",
                plugin,
                goal=goal,
                client=client,
                modality=goal.modality,
                action=action,
            )
            findings += self._findings(plugin, "validate_goal", answer)
        return self._refuse_errors(findings)

    def check_priorities(
        self, goals: Sequence[GoalView], client: ClientView
    ) -> tuple[Finding, ...]:
        """Run ``validate_priorities`` on a proposed order: RuleViolation on an error."""
        findings: list[Finding] = []
        for plugin in self._dispatch(client.modality):
            answer = self._call(
                "validate_priorities",
                plugin,
                goals=tuple(goals),
                client=client,
                modality=client.modality,
            )
            findings += self._findings(plugin, "validate_priorities", answer)
        return self._refuse_errors(findings)

    def prioritize(
        self, goals: Sequence[GoalView], client: ClientView
    ) -> tuple[list[Priority], str] | None:
        """The owner's order of ``goals`` and its plugin name, or None when nobody answers."""
        if client.modality is None or not goals:
            return None
        if not self.has_modality(client.modality):
            return None  # a read: the engine's default order while the plugin is missing
        plugin = self.owner(client.modality)
        answer = self._call(
            "prioritize_goals", plugin, goals=tuple(goals), client=client, modality=client.modality
        )
        if answer is None:
            return None
        order = self._items(plugin, "prioritize_goals", answer, Priority)
        wanted = sorted(str(g.id) for g in goals)
        if sorted(p.goal_id for p in order) != wanted:
            raise self._bad_answer(
                plugin, "prioritize_goals", "an order that does not list each goal exactly once"
            )
        return order, plugin

    def suggest_steps(
        self, goal: GoalView, client: ClientView
    ) -> list[tuple[StepTemplate, PluginInfo]]:
        out: list[tuple[StepTemplate, PluginInfo]] = []
        for plugin in self._dispatch(goal.modality):
            answer = self._call(
                "suggest_steps", plugin, goal=goal, client=client, modality=goal.modality
            )
            out += [
                (s, self._info[plugin])
                for s in self._items(plugin, "suggest_steps", answer, StepTemplate)
            ]
        return out

    def review(
        self, client: ClientView, goals: Sequence[GoalView], measures: Sequence[Any]
    ) -> list[tuple[ReviewItem, PluginInfo]]:
        """Every plugin's review items; a plugin that fails yields an error item naming it."""
        self.load()
        plugins = self._unscoped()
        if client.modality is not None:
            try:
                plugins.append(self.owner(client.modality))
            except PluginError as e:
                return [(ReviewItem("error", e.message, risk=False), host_info())] + [
                    item for p in plugins for item in self._review_one(p, client, goals, measures)
                ]
        return [item for p in plugins for item in self._review_one(p, client, goals, measures)]

    def _review_one(
        self, plugin: str, client: ClientView, goals: Sequence[GoalView], measures: Sequence[Any]
    ) -> list[tuple[ReviewItem, PluginInfo]]:
        info = self._info[plugin]
        try:
            answer = self._call(
                "review",
                plugin,
                client=client,
                goals=tuple(goals),
                measures=tuple(measures),
                modality=client.modality,
            )
            items = self._items(plugin, "review", answer, ReviewItem)
        except PluginError as e:
            return [(ReviewItem("error", e.message.replace("; nothing was recorded", "")), info)]
        return [(item, info) for item in items]


__all__ = [
    "ACTIONS",
    "BUILTIN_PLUGINS",
    "ENV_VAR",
    "PluginInfo",
    "PluginManager",
    "builtin_plugins",
    "discover",
    "make_manager",
]

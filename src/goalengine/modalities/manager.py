"""The plugin manager: loading, attribution, dispatch and isolation.

:func:`make_manager` is the factory. Without arguments it discovers the plugins of the entry-point
group ``goalengine`` — the built-ins (``core``, ``act``, ``cbt``, ``dbt``) are entry points of this
package, registered exactly like an outside plugin — limited by ``GOALENGINE_PLUGINS`` when set.
With an explicit mapping (``make_manager({"core": "goalengine.modalities.core", "x": my_module})``)
it loads exactly those and never looks at what is installed: that is what tests use.

Loading is lazy (on first use) and plugin by plugin: a plugin that fails to import, registers a name
another plugin holds, or raises while registering is recorded as ``failed`` with the reason, and the
others keep working. At command time each plugin's implementation is called on its own, so every
finding is attributed to its plugin and a plugin that raises is named in the :class:`PluginError`
that refuses the command.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pluggy
from attrs import define, field

from goalengine.errors import InvalidInput, PluginError, RuleViolation
from goalengine.modalities import hookspecs
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
from goalengine.values import Finding, Severity

#: The plugins shipped inside goalengine: entry-point name → module. They are also declared as
#: entry points in pyproject.toml; this map is the fallback when the package metadata is absent.
BUILTIN_PLUGINS: dict[str, str] = {
    "core": "goalengine.modalities.core",
    "act": "goalengine.modalities.act",
    "cbt": "goalengine.modalities.cbt",
    "dbt": "goalengine.modalities.dbt",
}

ENV_VAR = "GOALENGINE_PLUGINS"
_BUILTIN_SOURCE = dict.fromkeys(BUILTIN_PLUGINS.values(), "built-in")

#: ``validate_goal``'s ``action`` for each command.
ACTIONS = ("create", "revise", "pause", "resume", "achieve", "abandon", "void")


@define
class _Candidate:
    name: str
    load: Callable[[], object]
    module: str
    source: str
    version: str | None = None


@define
class PluginInfo:
    """What ``plugins list`` shows about one plugin."""

    name: str
    module: str
    source: str
    version: str = "unknown"
    status: str = "ok"
    reason: str | None = None
    hooks: list[str] = field(factory=list)
    modalities: list[str] = field(factory=list)
    attributes: list[str] = field(factory=list)
    rules: list[str] = field(factory=list)

    @property
    def label(self) -> str:
        """``name version`` (just the name when the version is unknown)."""
        return self.name if self.version == "unknown" else f"{self.name} {self.version}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "source": self.source,
            "module": self.module,
            "modalities": list(self.modalities),
            "hooks": list(self.hooks),
            "rules": list(self.rules),
            "attributes": list(self.attributes),
        }


def _goalengine_version() -> str:
    from goalengine import __version__

    return __version__


def _dist_version(obj: object) -> str:
    """The version of the installed distribution holding ``obj``'s top-level package."""
    top = _module_name(obj).split(".")[0]
    for dist in importlib.metadata.packages_distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs
            continue
    return _goalengine_version() if top == "goalengine" else "unknown"


def _given(obj: object) -> Callable[[], object]:
    return lambda: obj


def _import(module: str) -> Callable[[], object]:
    return lambda: importlib.import_module(module)


def _module_name(obj: object) -> str:
    return str(getattr(obj, "__name__", None) or type(obj).__module__ + "." + type(obj).__name__)


def discover(only: Sequence[str] | None = None) -> list[_Candidate]:
    """The installed plugins (entry points of group ``goalengine``), built-ins first.

    ``only`` (default: ``GOALENGINE_PLUGINS`` split on commas, when set) limits them by name; an
    item ``name=package.module`` loads that module as plugin ``name`` without installing it.
    """
    if only is None and ENV_VAR in os.environ:
        only = [p.strip() for p in os.environ[ENV_VAR].split(",") if p.strip()]
    found: dict[str, _Candidate] = {}
    extra: list[_Candidate] = []
    for ep in importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        dist = ep.dist
        version = dist.version if dist is not None else None
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        source = (
            "built-in" if ep.value in BUILTIN_PLUGINS.values() else f"entry point of {dist_name}"
        )
        candidate = _Candidate(ep.name, ep.load, ep.value, source, version)
        previous = found.get(ep.name)
        if previous is None:
            found[ep.name] = candidate
        elif previous.module != ep.value:
            # Two distributions claim one plugin name: the later one fails to load.
            extra.append(candidate)
    for name, module in BUILTIN_PLUGINS.items():
        found.setdefault(name, _Candidate(name, _import(module), module, "built-in"))
    ordered = [found[n] for n in BUILTIN_PLUGINS] + sorted(
        (c for n, c in found.items() if n not in BUILTIN_PLUGINS), key=lambda c: c.name
    )
    ordered += extra
    if only is None:
        return ordered
    chosen: list[_Candidate] = []
    for item in only:
        name, sep, module = item.partition("=")
        name = name.strip()
        if sep:
            chosen.append(_Candidate(name, _import(module.strip()), module.strip(), ENV_VAR))
            continue
        matches = [c for c in ordered if c.name == name]
        if not matches:
            chosen.append(_Candidate(name, _missing(name), "?", ENV_VAR))
        chosen.extend(matches)
    return chosen


def _missing(name: str) -> Callable[[], object]:
    def load() -> object:
        raise LookupError(f"{ENV_VAR} names {name!r}, but no installed plugin has that name")

    return load


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
    candidates = [
        _Candidate(name, _import(obj), obj, _BUILTIN_SOURCE.get(obj, "given"))
        if isinstance(obj, str)
        else _Candidate(name, _given(obj), _module_name(obj), "given")
        for name, obj in plugins.items()
    ]
    return PluginManager(lambda: candidates)


def builtin_plugins() -> dict[str, object | str]:
    """The built-ins as a mapping for :func:`make_manager` (tests add their own to it)."""
    return dict(BUILTIN_PLUGINS)


class PluginManager:
    """The loaded plugins and what they registered; calls hooks plugin by plugin."""

    def __init__(self, candidates: Callable[[], list[_Candidate]]) -> None:
        self._candidates = candidates
        self._loaded = False
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self._modalities: dict[str, tuple[Modality, str]] = {}
        self._attributes: dict[tuple[str, str], Attribute] = {}
        self._rules: dict[str, tuple[Rule, str]] = {}

    # -- loading --------------------------------------------------------------------------------

    def load(self) -> PluginManager:
        """Load every candidate once (later calls do nothing)."""
        if not self._loaded:
            self._loaded = True
            for candidate in self._candidates():
                self._load_one(candidate)
        return self

    def _fail(self, info: PluginInfo, reason: str, obj: object | None = None) -> None:
        if obj is not None and self.pm.is_registered(obj):
            self.pm.unregister(obj)
        info.status, info.reason = "failed", reason
        info.hooks = info.modalities = info.attributes = info.rules = []

    def _load_one(self, c: _Candidate) -> None:
        info = PluginInfo(name=c.name, module=c.module, source=c.source)
        if c.name in self._info:
            other = self._info[c.name]
            info.status = "failed"
            info.reason = (
                f"plugin name {c.name!r} is already taken by {other.module} ({other.source}); "
                f"{c.module} was not loaded"
            )
            self._info[f"{c.name} ({c.module})"] = info
            return
        self._info[c.name] = info
        try:
            obj = c.load()
        except Exception as e:
            self._fail(info, f"cannot import {c.module}: {type(e).__name__}: {e}")
            return
        info.version = str(c.version or getattr(obj, "__version__", None) or _dist_version(obj))
        try:
            self.pm.register(obj, name=c.name)
        except Exception as e:
            self._fail(info, f"invalid plugin: {type(e).__name__}: {e}", obj)
            return
        hooks = sorted(h.name for h in self.pm.get_hookcallers(obj) or [])
        unknown = [h for h in hooks if h not in hookspecs.HOOKS]
        if unknown:
            self._fail(info, f"implements unknown hook(s): {', '.join(unknown)}", obj)
            return
        if any(impl.hookwrapper or impl.wrapper for impl in self._impls_of(c.name)):
            self._fail(info, "hook wrappers are not part of the goalengine contract", obj)
            return
        info.hooks = hooks
        staged: dict[str, list[Any]] = {"modalities": [], "attributes": [], "rules": []}
        for hook, kind, cls in (
            ("register_modalities", "modalities", Modality),
            ("register_attributes", "attributes", Attribute),
            ("register_rules", "rules", Rule),
        ):
            impl = self._impl(hook, c.name)
            if impl is None:
                continue

            def register(item: Any, *, _kind: str = kind, _cls: type[Any] = cls) -> None:
                if not isinstance(item, _cls):
                    raise TypeError(f"register() takes a {_cls.__name__}, not {item!r}")
                staged[_kind].append(item)

            try:
                self._invoke(impl, {"register": register})
            except Exception as e:
                self._fail(info, f"raised in {hook}: {type(e).__name__}: {e}", obj)
                return
        conflict = self._conflict(c.name, staged)
        if conflict:
            self._fail(info, conflict, obj)
            return
        for m in staged["modalities"]:
            self._modalities[m.name] = (m, c.name)
        for a in staged["attributes"]:
            self._attributes[(a.modality, a.key)] = a
        for r in staged["rules"]:
            self._rules[r.id] = (r, c.name)
        info.modalities = [m.name for m in staged["modalities"]]
        info.attributes = [f"{a.modality}.{a.key}" for a in staged["attributes"]]
        info.rules = [r.id for r in staged["rules"]]

    def _conflict(self, name: str, staged: dict[str, list[Any]]) -> str | None:
        own: set[str] = set()
        for m in staged["modalities"]:
            if m.name in self._modalities:
                holder = self._modalities[m.name][1]
                return (
                    f"registers modality {m.name!r}, already registered by plugin {holder!r}; "
                    f"plugin {name!r} was not loaded"
                )
            if m.name in own:
                return f"registers modality {m.name!r} twice"
            own.add(m.name)
        keys: set[tuple[str, str]] = set()
        for a in staged["attributes"]:
            if a.modality not in own:
                return f"registers attribute {a.key!r} for modality {a.modality!r}, which it does not provide"
            if (a.modality, a.key) in keys:
                return f"registers attribute {a.key!r} of modality {a.modality!r} twice"
            keys.add((a.modality, a.key))
        ids: set[str] = set()
        for r in staged["rules"]:
            if r.id in self._rules:
                holder = self._rules[r.id][1]
                return (
                    f"registers rule {r.id!r}, already registered by plugin {holder!r}; "
                    f"plugin {name!r} was not loaded"
                )
            if r.id in ids:
                return f"registers rule {r.id!r} twice"
            if r.modality is not None and r.modality not in own:
                return f"registers rule {r.id!r} for modality {r.modality!r}, which it does not provide"
            ids.add(r.id)
        return None

    # -- calling --------------------------------------------------------------------------------

    def _impls_of(self, plugin: str) -> list[Any]:
        return [
            impl
            for name in hookspecs.HOOKS
            for impl in getattr(self.pm.hook, name).get_hookimpls()
            if impl.plugin_name == plugin
        ]

    def _impl(self, hook: str, plugin: str) -> Any:
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == plugin:
                return impl
        return None

    @staticmethod
    def _invoke(impl: Any, kwargs: Mapping[str, Any]) -> Any:
        # As pluggy's own _multicall: the implementation's arguments, by the names it declares.
        return impl.function(*[kwargs[a] for a in impl.argnames])

    def _call(self, hook: str, plugin: str, **kwargs: Any) -> Any:
        impl = self._impl(hook, plugin)
        if impl is None:
            return None
        try:
            return self._invoke(impl, kwargs)
        except Exception as e:
            info = self._info[plugin]
            reason = f"raised in {hook}: {type(e).__name__}: {e}"
            info.status, info.reason = "failed", reason
            raise PluginError(
                f"plugin {info.label} {reason}; nothing was recorded",
                plugin=plugin,
                hook=hook,
            ) from e

    def _bad_answer(self, plugin: str, hook: str, what: str) -> PluginError:
        info = self._info[plugin]
        reason = f"returned {what} from {hook}"
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

    def _unscoped(self) -> list[str]:
        """Loaded plugins that register no modality: their rules apply to every goal."""
        registered = set(self._names())
        return [n for n, i in self._info.items() if n in registered and not i.modalities]

    def _names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]

    def _dispatch(self, modality: str | None) -> list[str]:
        plugins = self._unscoped()
        if modality is not None:
            plugins.append(self.owner(modality))
        return plugins

    # -- registry queries -----------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        return list(self.load()._info.values())

    def modalities(self) -> list[tuple[Modality, PluginInfo]]:
        self.load()
        return [(m, self._info[p]) for _, (m, p) in sorted(self._modalities.items())]

    def modality(self, name: str) -> tuple[Modality, PluginInfo]:
        self.check_modality(name)
        m, p = self._modalities[name]
        return m, self._info[p]

    def attributes(self, modality: str) -> list[Attribute]:
        self.load()
        return [a for (m, _), a in self._attributes.items() if m == modality]

    def rules(self, plugin: str, modality: str | None = None) -> list[Rule]:
        self.load()
        return [
            r
            for r, p in self._rules.values()
            if p == plugin and (r.modality is None or modality is None or r.modality == modality)
        ]

    def rule(self, rule_id: str) -> tuple[Rule, PluginInfo]:
        self.load()
        r, p = self._rules[rule_id]
        return r, self._info[p]

    def unscoped_plugins(self) -> list[PluginInfo]:
        self.load()
        return [self._info[n] for n in self._unscoped()]

    def _unavailable(self, name: str) -> str | None:
        """Why modality ``name`` has no working plugin (None when it has one)."""
        if name in self._modalities:
            return None
        failed = self._info.get(name)
        if failed is not None and failed.status == "failed":
            return f"plugin {name} failed to load: {failed.reason}"
        return None

    def check_modality(self, name: str) -> str:
        """``name`` if a loaded plugin provides it; else InvalidInput (unknown) or PluginError."""
        self.load()
        if name in self._modalities:
            return name
        why = self._unavailable(name)
        if why:
            raise PluginError(f"modality {name!r} is not available: {why}", plugin=name)
        known = ", ".join(sorted(self._modalities)) or "none"
        raise InvalidInput(
            f"unknown modality {name!r}; registered modalities: {known} "
            "(see `goalengine plugins list`)",
            choices=sorted(self._modalities),
        )

    def owner(self, modality: str) -> str:
        """The plugin that provides ``modality``; PluginError when none is loaded now."""
        self.load()
        if modality in self._modalities:
            return self._modalities[modality][1]
        why = self._unavailable(modality) or "no loaded plugin provides it"
        raise PluginError(
            f"modality {modality!r} is not available ({why}); commands on its goals are refused "
            "until its plugin is installed and loads — reading and history still work",
            plugin=modality,
        )

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
            text = "; ".join(f"{f.message} [{f.rule}]" for f in errors)
            raise RuleViolation(f"refused: {text}", findings=[unstructure(f) for f in findings])
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
                return [(ReviewItem("error", e.message, risk=False), _host_info())] + [
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


def _host_info() -> PluginInfo:
    return PluginInfo(
        name="goalengine", module="goalengine", source="host", version=_goalengine_version()
    )


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

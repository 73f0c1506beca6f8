"""The plugin registry: loading each plugin on its own, and what the loaded ones registered.

Loading is lazy (on first use) and plugin by plugin: a plugin that fails to import, registers a name
another plugin holds, or raises while registering is recorded as ``failed`` with the reason, and the
others keep working. :class:`~goalengine.modalities.manager.PluginManager` calls the hooks of what
is registered here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Self

import pluggy
from attrs import define, field

from goalengine.errors import InvalidInput, PluginError
from goalengine.modalities import hookspecs
from goalengine.modalities.discovery import BUILTIN_PLUGINS, Candidate, PluginInfo, dist_version
from goalengine.modalities.types import Attribute, Modality, Rule

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s'\"<>()]+)+[\\/]([^\\/\s'\"<>()]+)")
_REPR = re.compile(r"<(?:module|function|bound method|class|object)? ?'?([\w.]+)'?[^<>]*>")


def one_line(text: str) -> str:
    """``text`` as one line, without module reprs or absolute paths (only their last part)."""
    text = _REPR.sub(lambda m: m.group(1), text)
    text = _PATH.sub(lambda m: m.group(1), text)
    return " ".join(text.split())


def _describe(e: BaseException) -> str:
    """An exception as ``Type: message`` on one line; pluggy's validation errors made short."""
    if isinstance(e, pluggy.PluginValidationError):
        lines = str(e).splitlines()
        hook = re.search(r"for hook '(\w+)'", lines[0]) if lines else None
        args = re.search(r"Argument\(s\) \{(.*)\} are declared", str(e))
        if hook and args:
            names = ", ".join(a.strip(" '") for a in args.group(1).split(","))
            spec = getattr(hookspecs, hook.group(1), None)
            known = (
                ", ".join(spec.__code__.co_varnames[: spec.__code__.co_argcount]) if spec else ""
            )
            return (
                f"hook {hook.group(1)} takes argument(s) {names} that goalengine does not pass "
                f"(it passes: {known})"
            )
        return one_line(lines[-1] if lines else type(e).__name__)
    message = str(e)
    return one_line(f"{type(e).__name__}: {message}" if message else type(e).__name__)


def _is_builtin(c: Candidate) -> bool:
    """Whether ``c`` is one of goalengine's own plugins (its module is a built-in's)."""
    return BUILTIN_PLUGINS.get(c.name) == c.module


def _reserved(what: str, key: str) -> bool:
    """Modality names and rule-id prefixes that belong to the built-ins, loaded or not."""
    return (key if what == "modality" else key.split(".")[0]) in BUILTIN_PLUGINS


@define
class _Staged:
    """One plugin's registrations, collected but not yet committed."""

    candidate: Candidate
    obj: object
    builtin: bool
    items: dict[str, list[Any]] = field(
        factory=lambda: {"modalities": [], "attributes": [], "rules": []}
    )

    def names(self) -> list[tuple[str, str]]:
        """The names it claims: ("modality", name) and ("rule", id)."""
        return [("modality", m.name) for m in self.items["modalities"]] + [
            ("rule", r.id) for r in self.items["rules"]
        ]


class PluginRegistry:
    """The loaded plugins and what they registered: modalities, attributes, rules."""

    def __init__(self, candidates: Callable[[], list[Candidate]]) -> None:
        self._candidates = candidates
        self._loaded = False
        self._loading = threading.RLock()
        self._busy = False
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self._modalities: dict[str, tuple[Modality, str]] = {}
        self._attributes: dict[tuple[str, str], Attribute] = {}
        self._rules: dict[str, tuple[Rule, str]] = {}
        #: modality → the plugins that registered it but failed to load (why it is missing)
        self._claimed: dict[str, list[str]] = {}

    # -- loading --------------------------------------------------------------------------------

    def load(self) -> Self:
        """Load every candidate once (later calls do nothing). Thread-safe: a second thread
        waits until the first has loaded everything, never sees half the plugins.

        Loading has two phases: each plugin is imported and its registrations are collected on
        its own (a failure fails only that plugin); then the names are settled across plugins.
        The built-ins' names (plugins ``core``, ``act``, ``cbt``, ``dbt``, their modalities and
        rule ids) are reserved; a name that two outside plugins claim goes to neither of them —
        so installing a plugin never takes a name over from one already in use."""
        if self._loaded:
            return self
        with self._loading:
            if self._loaded or self._busy:  # done, or a plugin's import asked from inside
                return self
            self._busy = True
            try:
                candidates = self._candidates()
                staged = [s for c in self._names_settled(candidates) if (s := self._stage(c))]
                self._settle(staged)
            finally:
                self._busy = False
            self._loaded = True
        return self

    def _fail(self, info: PluginInfo, reason: str, obj: object | None = None) -> None:
        if obj is not None and self.pm.is_registered(obj):
            self.pm.unregister(obj)
        info.status, info.reason = "failed", one_line(reason)
        info.hooks = info.modalities = info.attributes = info.rules = []

    def _names_settled(self, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates that may load under their name: a built-in name is reserved for the
        built-in, and a name two outside plugins claim goes to neither (both fail)."""
        modules: dict[str, list[str]] = {}
        for c in candidates:
            if c.name not in BUILTIN_PLUGINS and c.module not in modules.get(c.name, []):
                modules.setdefault(c.name, []).append(c.module)
        ok: list[Candidate] = []
        for c in candidates:
            info = PluginInfo(
                name=c.name, module=c.module, source=c.source, version=c.version or "unknown"
            )
            key = c.name
            if key in self._info:
                key = f"{c.name} ({c.module})"
            if c.name in BUILTIN_PLUGINS and not _is_builtin(c):
                self._info[key] = info
                self._fail(
                    info,
                    f"plugin name {c.name!r} is reserved for goalengine's built-in plugin; "
                    f"{c.module} was not loaded (give it another entry-point name)",
                )
                continue
            others = [m for m in modules.get(c.name, []) if m != c.module]
            if key != c.name and not others:  # the same module listed twice: load it once
                continue
            self._info[key] = info
            if others:
                self._fail(
                    info,
                    f"plugin name {c.name!r} is claimed by {c.module} and {', '.join(others)}; "
                    "neither is loaded until one is left out of GOALENGINE_PLUGINS or "
                    "uninstalled",
                )
                continue
            ok.append(c)
        return ok

    def _stage(self, c: Candidate) -> _Staged | None:
        """Import ``c``, register it with pluggy and collect what it registers (not yet
        committed); None when it failed."""
        info = self._info[c.name]
        try:
            obj = c.load()
        except Exception as e:
            self._fail(info, f"cannot import {c.module}: {_describe(e)}")
            return None
        info.version = str(c.version or getattr(obj, "__version__", None) or dist_version(obj))
        try:
            self.pm.register(obj, name=c.name)
        except Exception as e:
            self._fail(info, f"invalid plugin: {_describe(e)}", obj)
            return None
        hooks = sorted(h.name for h in self.pm.get_hookcallers(obj) or [])
        unknown = [h for h in hooks if h not in hookspecs.HOOKS]
        if unknown:
            self._fail(info, f"implements unknown hook(s): {', '.join(unknown)}", obj)
            return None
        if any(impl.hookwrapper or impl.wrapper for impl in self._impls_of(c.name)):
            self._fail(info, "hook wrappers are not part of the goalengine contract", obj)
            return None
        info.hooks = hooks
        staged = _Staged(c, obj, _is_builtin(c))
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
                staged.items[_kind].append(item)

            try:
                self._invoke(impl, {"register": register})
            except Exception as e:
                self._fail(info, f"raised in {hook}: {_describe(e)}", obj)
                return None
        problem = self._own_problem(staged.items)
        if problem:
            self._fail(info, problem, obj)
            return None
        return staged

    def _settle(self, staged: list[_Staged]) -> None:
        """Commit the registrations: built-ins first; an outside plugin fails on a reserved
        name, and outside plugins claiming one name fail together, each naming the others."""
        reserved: dict[tuple[str, str], str] = {}
        for s in staged:
            if s.builtin:
                for what, key in s.names():
                    reserved[(what, key)] = s.candidate.name
        outside: list[_Staged] = []
        for s in staged:
            if s.builtin:
                self._commit(s)
                continue
            taken = next((n for n in s.names() if _reserved(*n) or n in reserved), None)
            if taken is None:
                outside.append(s)
                continue
            self._unsettled(s)
            self._fail(
                self._info[s.candidate.name],
                f"registers {taken[0]} {taken[1]!r}, a name reserved for goalengine's built-in "
                f"plugins; plugin {s.candidate.name!r} was not loaded",
                s.obj,
            )
        claims: dict[tuple[str, str], list[str]] = {}
        for s in outside:
            for claim in s.names():
                claims.setdefault(claim, []).append(s.candidate.name)
        for s in outside:
            name = s.candidate.name
            contested = next(((n, claims[n]) for n in s.names() if len(claims[n]) > 1), None)
            if contested is None:
                self._commit(s)
                continue
            (what, key), holders = contested
            rivals = ", ".join(repr(o) for o in holders if o != name)
            self._unsettled(s)
            self._fail(
                self._info[name],
                f"registers {what} {key!r}, also registered by plugin {rivals}; neither is "
                "loaded until one is left out of GOALENGINE_PLUGINS or uninstalled",
                s.obj,
            )

    def _unsettled(self, s: _Staged) -> None:
        for m in s.items["modalities"]:
            self._claimed.setdefault(m.name, []).append(s.candidate.name)

    def _commit(self, s: _Staged) -> None:
        name, items, info = s.candidate.name, s.items, self._info[s.candidate.name]
        for m in items["modalities"]:
            self._modalities[m.name] = (m, name)
        for a in items["attributes"]:
            self._attributes[(a.modality, a.key)] = a
        for r in items["rules"]:
            self._rules[r.id] = (r, name)
        info.modalities = [m.name for m in items["modalities"]]
        info.attributes = [f"{a.modality}.{a.key}" for a in items["attributes"]]
        info.rules = [r.id for r in items["rules"]]

    @staticmethod
    def _own_problem(staged: dict[str, list[Any]]) -> str | None:
        """What is wrong within one plugin's registrations (a name twice, an attribute or rule
        for a modality it does not provide); None when nothing is."""
        own: set[str] = set()
        for m in staged["modalities"]:
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
            if r.id in ids:
                return f"registers rule {r.id!r} twice"
            ids.add(r.id)
            if r.modality is not None and r.modality not in own:
                return f"registers rule {r.id!r} for modality {r.modality!r}, which it does not provide"
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

    def _unscoped(self) -> list[str]:
        """Loaded plugins that register no modality: their rules apply to every goal."""
        registered = set(self._names())
        return [n for n, i in self._info.items() if n in registered and not i.modalities]

    def _names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]

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
        if name in self._claimed:
            return "; ".join(
                f"plugin {p} failed to load: {self._info[p].reason}" for p in self._claimed[name]
            )
        failed = self._info.get(name)
        if failed is not None and failed.status == "failed":
            return f"plugin {name} failed to load: {failed.reason}"
        return None

    def has_modality(self, name: str) -> bool:
        """Whether a loaded plugin provides modality ``name``."""
        return name in self.load()._modalities

    def check_modality(self, name: str) -> str:
        """``name`` if a loaded plugin provides it; else InvalidInput (unknown) or PluginError."""
        self.load()
        if name in self._modalities:
            return name
        why = self._unavailable(name)
        if why:
            raise PluginError(
                f"modality {name!r} is not available: {why}", **self._plugins_of(name)
            )
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
            **self._plugins_of(modality),
        )

    def _plugins_of(self, modality: str) -> dict[str, Any]:
        """The error details naming the plugin(s) of a missing modality."""
        claimed = self._claimed.get(modality, [])
        return {"plugin": claimed[0] if claimed else modality, "plugins": claimed or [modality]}

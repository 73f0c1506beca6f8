"""The plugin registry: loading each plugin on its own, and what the loaded ones registered.

Loading is lazy (on first use) and plugin by plugin: a plugin that fails to import, registers a name
another plugin holds, or raises while registering is recorded as ``failed`` with the reason, and the
others keep working. :class:`~goalengine.modalities.manager.PluginManager` calls the hooks of what
is registered here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Self

import pluggy

from goalengine.errors import InvalidInput, PluginError
from goalengine.modalities import hookspecs
from goalengine.modalities.discovery import Candidate, PluginInfo, dist_version
from goalengine.modalities.types import Attribute, Modality, Rule


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

    # -- loading --------------------------------------------------------------------------------

    def load(self) -> Self:
        """Load every candidate once (later calls do nothing). Thread-safe: a second thread
        waits until the first has loaded everything, never sees half the plugins."""
        if self._loaded:
            return self
        with self._loading:
            if self._loaded or self._busy:  # done, or a plugin's import asked from inside
                return self
            self._busy = True
            try:
                for candidate in self._candidates():
                    self._load_one(candidate)
            finally:
                self._busy = False
            self._loaded = True
        return self

    def _fail(self, info: PluginInfo, reason: str, obj: object | None = None) -> None:
        if obj is not None and self.pm.is_registered(obj):
            self.pm.unregister(obj)
        info.status, info.reason = "failed", reason
        info.hooks = info.modalities = info.attributes = info.rules = []

    def _load_one(self, c: Candidate) -> None:
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
        info.version = str(c.version or getattr(obj, "__version__", None) or dist_version(obj))
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
            if taken := self._taken(name, "modality", m.name, self._modalities, own):
                return taken
        keys: set[tuple[str, str]] = set()
        for a in staged["attributes"]:
            if a.modality not in own:
                return f"registers attribute {a.key!r} for modality {a.modality!r}, which it does not provide"
            if (a.modality, a.key) in keys:
                return f"registers attribute {a.key!r} of modality {a.modality!r} twice"
            keys.add((a.modality, a.key))
        ids: set[str] = set()
        for r in staged["rules"]:
            if taken := self._taken(name, "rule", r.id, self._rules, ids):
                return taken
            if r.modality is not None and r.modality not in own:
                return f"registers rule {r.id!r} for modality {r.modality!r}, which it does not provide"
        return None

    @staticmethod
    def _taken(
        plugin: str, what: str, key: str, held: Mapping[str, tuple[Any, str]], own: set[str]
    ) -> str | None:
        """Why ``plugin`` cannot register ``what`` ``key`` (another plugin holds it, or it
        registers it twice); None when it can, and ``key`` is added to its ``own``."""
        if key in held:
            return (
                f"registers {what} {key!r}, already registered by plugin {held[key][1]!r}; "
                f"plugin {plugin!r} was not loaded"
            )
        if key in own:
            return f"registers {what} {key!r} twice"
        own.add(key)
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

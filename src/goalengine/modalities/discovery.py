"""Which plugins there are, and what ``plugins list`` shows of each.

:func:`discover` finds the plugins of the entry-point group ``goalengine`` — the built-ins
(``core``, ``act``, ``cbt``, ``dbt``) are entry points of this package, registered exactly like an
outside plugin — limited by ``GOALENGINE_PLUGINS`` when set; :func:`given_plugins` takes an
explicit mapping instead. Each is a :class:`Candidate`: nothing is imported until the registry
loads it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import define, field

from goalengine.modalities import hookspecs

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


@define
class Candidate:
    """A plugin to load: its name, how to import it, where it comes from."""

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


def goalengine_version() -> str:
    from goalengine import __version__

    return __version__


def dist_version(obj: object) -> str:
    """The version of the installed distribution holding ``obj``'s top-level package."""
    top = _module_name(obj).split(".")[0]
    for dist in importlib.metadata.packages_distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs
            continue
    return goalengine_version() if top == "goalengine" else "unknown"


def _given(obj: object) -> Callable[[], object]:
    return lambda: obj


def _import(module: str) -> Callable[[], object]:
    return lambda: importlib.import_module(module)


def _module_name(obj: object) -> str:
    return str(getattr(obj, "__name__", None) or type(obj).__module__ + "." + type(obj).__name__)


def discover(only: Sequence[str] | None = None) -> list[Candidate]:
    """The installed plugins (entry points of group ``goalengine``), built-ins first.

    ``only`` (default: ``GOALENGINE_PLUGINS`` split on commas, when set) limits them by name; an
    item ``name=package.module`` loads that module as plugin ``name`` without installing it.
    """
    if only is None and ENV_VAR in os.environ:
        only = [p.strip() for p in os.environ[ENV_VAR].split(",") if p.strip()]
    found: dict[str, Candidate] = {}
    extra: list[Candidate] = []
    for ep in importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        dist = ep.dist
        version = dist.version if dist is not None else None
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        source = (
            "built-in" if ep.value in BUILTIN_PLUGINS.values() else f"entry point of {dist_name}"
        )
        candidate = Candidate(ep.name, ep.load, ep.value, source, version)
        previous = found.get(ep.name)
        if previous is None:
            found[ep.name] = candidate
        elif previous.module != ep.value:
            # Two distributions claim one plugin name: the later one fails to load.
            extra.append(candidate)
    for name, module in BUILTIN_PLUGINS.items():
        found.setdefault(name, Candidate(name, _import(module), module, "built-in"))
    ordered = [found[n] for n in BUILTIN_PLUGINS] + sorted(
        (c for n, c in found.items() if n not in BUILTIN_PLUGINS), key=lambda c: c.name
    )
    ordered += extra
    if only is None:
        return ordered
    chosen: list[Candidate] = []
    for item in only:
        name, sep, module = item.partition("=")
        name = name.strip()
        if sep:
            chosen.append(Candidate(name, _import(module.strip()), module.strip(), ENV_VAR))
            continue
        matches = [c for c in ordered if c.name == name]
        if not matches:
            chosen.append(Candidate(name, _missing(name), "?", ENV_VAR))
        chosen.extend(matches)
    return chosen


def _missing(name: str) -> Callable[[], object]:
    def load() -> object:
        raise LookupError(f"{ENV_VAR} names {name!r}, but no installed plugin has that name")

    return load


def given_plugins(plugins: Mapping[str, object | str]) -> list[Candidate]:
    """Exactly these plugins (name → module object, plugin object, or dotted module path)."""
    return [
        Candidate(name, _import(obj), obj, _BUILTIN_SOURCE.get(obj, "given"))
        if isinstance(obj, str)
        else Candidate(name, _given(obj), _module_name(obj), "given")
        for name, obj in plugins.items()
    ]


def host_info() -> PluginInfo:
    """goalengine itself, named where a plugin's failure is reported in its place."""
    return PluginInfo(
        name="goalengine", module="goalengine", source="host", version=goalengine_version()
    )

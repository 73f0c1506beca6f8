"""What ``plugins list``, ``modalities list`` and ``modalities show`` report, from a plugin
manager alone: no store is needed (the engine's ``list_plugins`` etc. call these)."""

from __future__ import annotations

from typing import cast

from goalengine.modalities.discovery import PluginInfo as LoadedPlugin
from goalengine.modalities.manager import PluginManager
from goalengine.modalities.types import Modality, Rule
from goalengine.results import (
    ModalityBase,
    ModalityDetail,
    ModalityInfo,
    PluginInfo,
    RuleInfo,
)
from goalengine.serialization import unstructure


def plugins(pm: PluginManager) -> list[PluginInfo]:
    """Every plugin the engine tried to load: name, version, status (ok/failed), reason,
    modalities, hooks, rules and attributes."""
    return [cast(PluginInfo, p.as_dict()) for p in pm.plugins()]


def modalities(pm: PluginManager) -> list[ModalityInfo]:
    """The registered modalities with the plugin that provides each."""
    return [
        {
            **_modality(m, info),
            "attributes": [a.key for a in pm.attributes(m.name)],
            "rules": [r.id for r in pm.rules(info.name, m.name)],
        }
        for m, info in pm.modalities()
    ]


def modality(pm: PluginManager, name: str) -> ModalityDetail:
    """One modality: its attributes (schema) and its rules, then the rules every goal gets."""
    m, info = pm.modality(name.strip().lower())

    def rule(r: Rule, plugin: LoadedPlugin) -> RuleInfo:
        return {
            "id": r.id,
            "severity": unstructure(r.severity),
            "title": r.title,
            "explanation": r.explanation,
            "source": r.source,
            "plugin": plugin.name,
            "plugin_version": plugin.version,
        }

    return {
        **_modality(m, info),
        "attributes": [
            {
                "key": a.key,
                "description": a.description,
                "choices": list(a.choices),
                "required": a.required,
            }
            for a in pm.attributes(m.name)
        ],
        "rules": [rule(r, info) for r in pm.rules(info.name, m.name)],
        "general_rules": [rule(r, p) for p in pm.unscoped_plugins() for r in pm.rules(p.name)],
    }


def _modality(m: Modality, info: LoadedPlugin) -> ModalityBase:
    return {
        "name": m.name,
        "title": m.title,
        "description": m.description,
        "plugin": info.name,
        "plugin_version": info.version,
        "plugin_status": info.status,
    }

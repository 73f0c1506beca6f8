"""Plugins load once, whole, however many threads ask at the same moment: a thread never runs
with half of the plugins loaded (their rules would silently not apply)."""

from __future__ import annotations

import threading
import time
from typing import Any

from goalengine import hookimpl
from goalengine.modalities.manager import builtin_plugins, make_manager
from goalengine.modalities.types import Modality


class SlowToRegister:
    """A plugin whose registration takes a while, so other threads arrive mid-load."""

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        time.sleep(0.2)
        register(Modality(name="slow", title="Slow", description="registers slowly"))


def test_threads_asking_at_once_all_see_every_plugin() -> None:
    manager = make_manager({**builtin_plugins(), "slow": SlowToRegister()})
    seen: list[set[str]] = []
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait()
        loaded = manager.load()
        seen.append({m.name for m, _ in loaded.modalities()})

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(seen) == 4
    assert all({"slow", "cbt", "act", "dbt"} <= names for names in seen), seen
    assert [p.name for p in manager.plugins()].count("slow") == 1

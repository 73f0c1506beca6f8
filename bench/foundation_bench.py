"""Foundation benchmark: a goal's everyday costs stay flat however long its history grows.

    .venv/bin/python bench/foundation_bench.py [--quick] [--json OUT] [--check]

On a fresh SQLite file store in a temporary directory it builds a goal with 10,000 ratings
(``--quick``: 2,000) and a few small goals, then times, in milliseconds of wall clock
(``time.perf_counter``), the median of one full snapshot cycle of consecutive calls
(``goalengine.store.SNAPSHOT_INTERVAL`` calls, 50 today) of:

- ``scale``: ``GoalEngine.scale(goal, v)`` on the big goal vs on a goal that starts the cycle with
  10 ratings (it has 60 by its end: a cycle of ratings is part of the measurement);
- ``get_goal``: ``GoalEngine.get_goal(goal)`` of the big goal vs a goal with 10 ratings. The big
  goal's read follows each of its ``scale`` calls, so the reads see every distance from the
  latest snapshot that one interval holds;
- ``ratings``: ``GoalEngine.ratings(goal, limit=50)`` on the big goal vs a goal with 50 ratings
  (``n/a`` while the engine has no ``ratings`` query).

Each figure's ratio is big / small, measured in the same run; the target is <= 1.5 for each.
The big and the small side run in alternating blocks of 10 steps, so that a change in the
machine's load hits both alike. It always exits 0 (it is a report) unless it crashes; with
``--check`` it exits 1 when a target is missed (a row that is ``n/a`` counts as missed: the
target cannot be confirmed).

Seeding 10,000 ratings through 10,000 ``GoalEngine.scale`` calls takes too long while scale
costs grow with a goal's history, so ``_seed`` builds the history in memory on the aggregate and
saves it in batches through the engine's own save path (events, read-model rows, integrity chain
and snapshots as in normal use), falling back to plain ``scale`` calls when those internals are
gone. Then ``2 * SNAPSHOT_INTERVAL`` plain ``scale`` calls bring the goal to its size, a snapshot
near its head and the measured calls to a steady state.

Without ``PYTHONPATH`` it measures the code of the checkout it lives in (``src/``, ``cli/``);
with ``PYTHONPATH`` set, the code found there (e.g. a ``git worktree`` of another commit).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BIG = 10_000
QUICK_BIG = 2_000
TARGET = 1.5
BATCH = 500  # events per save while seeding
BLOCK = 10  # steps per side before the other side's turn
IMPORT_TRIES = 4  # the other engineer may be mid-edit: retry a failed import ...
IMPORT_WAIT = 60  # ... after this many seconds

NA = "n/a (no ratings query)"


# -- importing the code under test ---------------------------------------------------------------


def _use_checkout_source() -> None:
    """Put this checkout's ``src/`` and ``cli/`` ahead of the installed package, unless the
    caller chose the code with ``PYTHONPATH`` (the venv's editable install is a tree of links
    to the files that existed at install time: a module added since is not in it)."""
    if os.environ.get("PYTHONPATH"):
        return
    root = Path(__file__).resolve().parents[1]
    for name in ("cli", "src"):
        if (root / name / ("goalengine" if name == "src" else "goalengine_cli")).is_dir():
            sys.path.insert(1, str(root / name))


def _import_goalengine() -> tuple[Any, int, str]:
    """``GoalEngine``, ``SNAPSHOT_INTERVAL`` and where goalengine was found; a failed import
    (a file mid-edit) is retried ``IMPORT_TRIES`` times, ``IMPORT_WAIT`` seconds apart."""
    for attempt in range(1, IMPORT_TRIES + 1):
        try:
            goalengine = importlib.import_module("goalengine")
            store = importlib.import_module("goalengine.store")
            return goalengine.GoalEngine, int(store.SNAPSHOT_INTERVAL), str(goalengine.__file__)
        except Exception as e:
            if attempt == IMPORT_TRIES:
                raise
            print(
                f"importing goalengine failed ({type(e).__name__}: {e}); the code may be "
                f"mid-edit, retrying in {IMPORT_WAIT} s ({attempt}/{IMPORT_TRIES - 1})",
                flush=True,
            )
            time.sleep(IMPORT_WAIT)
            for name in [m for m in sys.modules if m.split(".")[0] == "goalengine"]:
                del sys.modules[name]
            importlib.invalidate_caches()
    raise AssertionError("unreachable")


# -- building the store --------------------------------------------------------------------------


def _seed(engine: Any, goal_id: str, count: int, interval: int) -> str:
    """Rate ``goal_id`` until it has ``count`` ratings; return how it was done.

    ENGINE INTERNALS, HERE ONLY: ``engine._goal`` (get), the aggregate's own ``scale`` command
    (decide) and ``engine._save`` (save: events, read-model rows and chain in one transaction,
    snapshots at each interval the batch crosses) — what ``GoalEngine.scale`` does, 500 events
    a save instead of one. Without those internals: plain ``engine.scale`` calls. The last
    ``2 * interval`` ratings are always plain ``engine.scale`` calls (steady state, and a
    snapshot taken the normal way), then the latest snapshot is checked to be near the head.
    """
    batched = max(0, count - 2 * interval)
    made = 0
    how = f"batched saves of {BATCH}"
    get, save = getattr(engine, "_goal", None), getattr(engine, "_save", None)
    try:
        from goalengine.values import Role

        if get is None or save is None:
            raise AttributeError("GoalEngine has no _goal/_save")
        while made < batched:
            goal = get(goal_id)
            n = min(BATCH, batched - made)
            for i in range(made, made + n):
                goal.scale(i % 11, Role.THERAPIST, engine.actor)
            save(goal)
            made += n
            if made % 2000 == 0 or made == batched:
                print(f"  seeded {made}/{count} ratings ({how})", flush=True)
    except (AttributeError, TypeError, ImportError) as e:
        how = f"engine.scale calls (no batched path: {type(e).__name__}: {e})"
        print(f"  seeding falls back to {how}", flush=True)
    t0 = time.perf_counter()
    for i in range(made, count):
        engine.scale(goal_id, i % 11)
        done = i + 1 - made
        if (i + 1) % 250 == 0 and count - made > 2 * interval:
            rate = done / (time.perf_counter() - t0)
            print(f"  seeded {i + 1}/{count} ratings ({rate:.0f}/s)", flush=True)
    head = engine.get_goal(goal_id)["version"]
    snapshots = getattr(getattr(getattr(engine, "_store", None), "app", None), "snapshots", None)
    if snapshots is not None:
        from uuid import UUID

        latest = list(snapshots.get(UUID(goal_id), desc=True, limit=1))
        at = latest[0].originator_version if latest else 0
        if head - at >= interval:
            raise AssertionError(f"goal at version {head}: latest snapshot at {at}")
        how += f"; latest snapshot at version {at} of {head}"
    return how


def _goal(engine: Any, client_id: str, title: str) -> str:
    goal = engine.create_goal(
        client_id, title, horizon="short", kind="process", domains=["behavioral"]
    )
    return str(goal["id"])


def _rate(engine: Any, goal_id: str, n: int) -> None:
    for i in range(n):
        engine.scale(goal_id, i % 11)


# -- measuring -----------------------------------------------------------------------------------


class Figure:
    """One row: the big and the small side's call times, in seconds."""

    def __init__(self, name: str, label: str, target: float | None = TARGET) -> None:
        self.name, self.label, self.target = name, label, target
        self.big: list[float] = []
        self.small: list[float] = []
        self.na = False

    def ms(self, side: list[float]) -> float:
        return statistics.median(side) * 1000

    @property
    def ratio(self) -> float | None:
        return None if self.na else self.ms(self.big) / self.ms(self.small)

    @property
    def ok(self) -> bool:
        ratio = self.ratio
        return ratio is not None and (self.target is None or ratio <= self.target)

    def as_json(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "label": self.label,
            "big_ms": None if self.na else self.ms(self.big),
            "small_ms": None if self.na else self.ms(self.small),
            "ratio": self.ratio,
            "target": self.target,
            "ok": None if self.na else self.ok,
            "note": NA if self.na else None,
            "big_samples_ms": [t * 1000 for t in self.big],
            "small_samples_ms": [t * 1000 for t in self.small],
        }


def _timed(samples: list[float], fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    result = fn()
    samples.append(time.perf_counter() - t0)
    return result


def measure(engine: Any, goals: dict[str, str], interval: int, has_ratings: bool) -> list[Figure]:
    """One snapshot cycle (``interval`` steps) a side, in alternating blocks of ``BLOCK``.

    A big step: scale the big goal, read it, list its latest 50 ratings. A small step: scale
    the small goal, read the 10-rating goal, list the 50-rating goal's ratings.
    """
    scale = Figure("scale", "engine.scale(goal, v)")
    get = Figure("get_goal", "engine.get_goal(goal)")
    # Reported, no target: a load that skips the engine's aggregate cache (a past version is
    # always replayed from the nearest snapshot), as the first load in a new process is.
    cold = Figure("get_goal_cold", "get_goal(goal, version=latest)", target=None)
    ratings = Figure("ratings", "engine.ratings(goal, limit=50)")
    ratings.na = not has_ratings
    sides = {
        "big": (goals["big"], goals["big"], goals["big"]),
        "small": (goals["scaled"], goals["ten"], goals["fifty"]),
    }
    counts: dict[str, set[int]] = {"big": set(), "small": set()}
    for start in range(0, interval, BLOCK):
        for side, (to_scale, to_get, to_list) in sides.items():
            for step in range(start, min(start + BLOCK, interval)):
                big = side == "big"
                _timed(
                    scale.big if big else scale.small,
                    lambda g=to_scale, v=step: engine.scale(g, v % 11),
                )
                shown = _timed(get.big if big else get.small, lambda g=to_get: engine.get_goal(g))
                _timed(
                    cold.big if big else cold.small,
                    lambda g=to_get, v=shown["version"]: engine.get_goal(g, version=v),
                )
                if has_ratings:
                    listed = _timed(
                        ratings.big if big else ratings.small,
                        lambda g=to_list: engine.ratings(g, limit=50),
                    )
                    if isinstance(listed, list):
                        counts[side].add(len(listed))
    for side, seen in counts.items():
        if seen and seen != {50}:
            print(f"warning: ratings(limit=50) on the {side} side returned {sorted(seen)} items")
    return [scale, get, ratings, cold]


# -- report --------------------------------------------------------------------------------------


def table(figures: list[Figure]) -> str:
    lines = [
        f"{'figure':<34}{'big (ms)':>10}{'small (ms)':>12}{'ratio':>8}{'target':>9}{'':>3}ok/MISS"
    ]
    for f in figures:
        if f.na:
            lines.append(f"{f.label:<34}  {NA:<28}{'<= ' + str(TARGET):>9}   n/a")
            continue
        ratio = f.ratio
        assert ratio is not None
        target = "report" if f.target is None else f"<= {f.target}"
        verdict = "" if f.target is None else ("ok" if f.ok else "MISS")
        lines.append(
            f"{f.label:<34}{f.ms(f.big):>10.2f}{f.ms(f.small):>12.2f}{ratio:>7.2f}x"
            f"{target:>9}   {verdict}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BIG} ratings, not {BIG}")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the figures to OUT")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    started = time.perf_counter()

    _use_checkout_source()
    GoalEngine, interval, where = _import_goalengine()
    has_ratings = hasattr(GoalEngine, "ratings")
    big = QUICK_BIG if args.quick else BIG
    print(
        f"goalengine foundation benchmark: {big} ratings vs 10 / 50, median of one snapshot "
        f"cycle ({interval} calls) a side\ncode: {Path(where).parent}\n"
    )

    tmp = Path(tempfile.mkdtemp(prefix="goalengine-bench-"))
    try:
        with GoalEngine(f"sqlite:///{tmp / 'bench.db'}", actor="therapist:bench") as engine:
            client = engine.add_client("Bench client", values=["health"])["id"]
            goals = {
                "big": _goal(engine, client, f"{big} ratings"),
                "scaled": _goal(engine, client, "10 ratings, then scaled"),
                "ten": _goal(engine, client, "10 ratings"),
                "fifty": _goal(engine, client, "50 ratings"),
            }
            t0 = time.perf_counter()
            _rate(engine, goals["scaled"], 10)
            _rate(engine, goals["ten"], 10)
            _rate(engine, goals["fifty"], 50)
            how = _seed(engine, goals["big"], big, interval)
            seed_s = time.perf_counter() - t0
            print(f"seeded in {seed_s:.1f} s ({how})\n")
            figures = measure(engine, goals, interval, has_ratings)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    total_s = time.perf_counter() - started
    print(table(figures))
    print(
        f"\n(medians of {interval} calls a side, alternating blocks of {BLOCK}; "
        f"ratio = big / small; total run {total_s:.1f} s)"
    )
    if args.json is not None:
        report = {
            "benchmark": "foundation",
            "ratings": {"big": big, "scale_small_start": 10, "get_small": 10, "ratings_small": 50},
            "snapshot_interval": interval,
            "calls_per_side": interval,
            "quick": args.quick,
            "code": str(Path(where).parent),
            "python": platform.python_version(),
            "seed": {"how": how, "seconds": seed_s},
            "figures": [f.as_json() for f in figures],
            "total_seconds": total_s,
            "all_ok": all(f.ok for f in figures),
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures written to {args.json}")
    if args.check and not all(f.ok for f in figures):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

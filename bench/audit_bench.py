"""Audit benchmark: verify and offline replay speed beside eventsourcing's raw decoded read.

    .venv/bin/python bench/audit_bench.py [--events 20000] [--store sqlite|postgres|memory]
                                          [--postgres URL] [--repeat 5] [--reuse PATH]
                                          [--saves 400]

``--reuse PATH`` (SQLite only) keeps the built store in ``PATH`` between runs: the first run
builds it there, later runs open it as it is (building takes most of a run's time). Delete the
file to build afresh, e.g. after changing ``--events``. ``--saves 0`` skips the save timings
(they add events to the store, so a reused store grows with each run that times them).

In one process and on the same store it measures, in events per second (the best of ``--repeat``
rounds):

- ``raw read``: eventsourcing's own decoded read of the log — ``recorder.select_notifications`` in
  pages of 1000 + ``mapper.to_domain_event`` for each — the baseline;
- ``verify``: ``GoalEngine.verify(read_models=False)`` (chain, sequence, salted digests,
  snapshots: the record itself; the read-model phase is timed on its own, ``verify + read
  models``);
- ``export``: ``GoalEngine.export()`` to a JSON Lines file;
- ``replay``: verify the export file and rebuild every aggregate from it alone
  (``offline.load`` + ``offline.replay``);

and prints each rate's ratio to the raw read (the goal: verify and replay ≥ 0.5). The four run
in interleaved rounds (raw, verify, export, replay, then again), so that a change in the
machine's load hits them alike; each rate is the best round's, and the last column is the
worst round's CPU ratio. Then it times a save (get → one event → save, ``GoalEngine.scale``)
with and without writing the chain rows, to show what the integrity chain costs a normal command.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goalengine import GoalEngine
from goalengine.audit import offline
from goalengine.values import Role

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def build(engine: GoalEngine, events: int) -> None:
    """About ``events`` events: clients with a few goals each, rated week after week."""
    made = 0
    n = 0
    while made < events:
        n += 1
        client = engine.add_client(f"Client {n}", values=["health", "friendship"])
        made += 1
        goals = []
        for g in range(3):
            goals.append(
                engine.create_goal(
                    client["id"],
                    f"Goal {g} of client {n}",
                    horizon="short",
                    kind="process",
                    domains=["behavioral"],
                )["id"]
            )
            made += 1
        for week in range(40):
            # The first goal is rated twice a week: 80+ events, so snapshots are taken and
            # verify compares them with the replayed state.
            for goal in (goals[0], *goals):
                engine.scale(goal, (week + n) % 11, note=f"week {week}")
                made += 1
            if made >= events:
                break


def raw_read(engine: GoalEngine) -> int:
    app = engine._store.app
    recorder, mapper = app.recorder, app.mapper
    count, start = 0, 1
    while True:
        page = recorder.select_notifications(start=start, limit=1000)
        if not page:
            return count
        for n in page:
            mapper.to_domain_event(n)
            count += 1
        start = page[-1].id + 1


def timed(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, Timing]:
    """Each of ``fns`` run ``repeat`` times, interleaved round by round (so that a change in
    the machine's load hits every operation alike, not the one that happened to run then).

    CPU time is robust on a shared machine (other processes' load does not count) but leaves
    out a database server's own work; wall time counts it, and the machine's load with it.
    """
    walls: dict[str, list[float]] = {name: [] for name in fns}
    cpus: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            results[name] = fn()
            cpus[name].append(time.process_time() - c0)
            walls[name].append(time.perf_counter() - w0)
    return {name: Timing(walls[name], cpus[name], results[name]) for name in fns}


class Timing:
    """The wall and CPU seconds of each round of one operation, and its last result."""

    def __init__(self, walls: list[float], cpus: list[float], result: Any) -> None:
        self.walls, self.cpus, self.result = walls, cpus, result
        self.wall, self.cpu = min(walls), min(cpus)  # the best run of each

    def round_ratios(self, base: Timing) -> list[float]:
        """CPU ratio to ``base`` (the raw read) in each round: base time / this time."""
        return [b / t for b, t in zip(base.cpus, self.cpus, strict=True)]


def save_latencies(
    engine: GoalEngine, client_id: str, n: int, *, bare: bool
) -> tuple[float, float]:
    """Median CPU milliseconds of a save without and with the chain, alternating in blocks of
    10 so that drift in the machine's load hits both alike. Each block rates a new goal (a
    goal's save costs grow with its own history, whatever the chain does).

    ``bare``: eventsourcing's get → one event → save (with the read-model row), no rules;
    else the whole ``GoalEngine.scale`` command (plugins' rules included).
    """
    app = engine._store.app

    goal_id = ""

    def scale(i: int) -> None:
        if bare:
            goal: Any = app.repository.get(uuid.UUID(goal_id))
            goal.scale(i, Role.THERAPIST, engine.actor)
            app.save(goal)  # the application adds the read-model rows itself
        else:
            engine.scale(goal_id, i)

    recorder: Any = app.recorder
    kept = getattr(recorder, "_goalengine_chain", None)
    samples: dict[bool, list[float]] = {False: [], True: []}
    try:
        for block in range(max(2, n // 10)):
            chained = block % 2 == 1
            goal_id = engine.create_goal(
                client_id, f"timing {block}", horizon="short", kind="process", domains=["emotional"]
            )["id"]
            recorder._goalengine_chain = kept if chained else _NoChain()
            for i in range(10):
                t0 = time.process_time()
                scale(i)
                samples[chained].append(time.process_time() - t0)
    finally:
        recorder._goalengine_chain = kept
    return statistics.median(samples[False]) * 1000, statistics.median(samples[True]) * 1000


class _NoChain:
    """Stands in for the chain writer to time a save as it was before the chain."""

    def rows(self, *args: Any) -> list[Any]:
        return []

    def insert(self, *args: Any) -> None:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--store", choices=["sqlite", "postgres", "memory"], default="sqlite")
    parser.add_argument("--postgres", default=PG_DEFAULT, help="server for --store postgres")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--saves", type=int, default=400, help="saves timed with/without chain")
    parser.add_argument(
        "--reuse", type=Path, metavar="PATH", help="SQLite file kept between runs (see above)"
    )
    args = parser.parse_args()
    if args.reuse is not None and args.store != "sqlite":
        parser.error("--reuse works with --store sqlite only")

    tmp = Path(tempfile.mkdtemp(prefix="goalengine-bench-"))
    schema = None
    reused = args.reuse is not None and args.reuse.exists()
    if args.store == "sqlite":
        db = args.reuse.resolve() if args.reuse is not None else tmp / "bench.db"
        url = f"sqlite:///{db}"
    elif args.store == "memory":
        url = "memory://"
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = f"{args.postgres}?schema={schema}"
    print(f"goalengine audit benchmark: {args.store} store, target {args.events} events")
    try:
        with GoalEngine(url, actor="therapist:bench") as engine:
            t0 = time.perf_counter()
            if reused:
                total = engine.fingerprint()["events"]
                print(f"reused {args.reuse}: {total} events\n")
            else:
                build(engine, args.events)
                total = engine.fingerprint()["events"]
                print(f"built {total} events in {time.perf_counter() - t0:.1f} s\n")

            out = tmp / "export.jsonl"

            def replay() -> int:
                data = offline.load(out)
                aggregates, _ = offline.replay(data)
                assert len(aggregates) == data.manifest["counts"]["aggregates"]
                return len(data.lines)

            # Each export records an access (one event): the log grows by one a round.
            times = timed(
                {
                    "raw decoded read (eventsourcing)": lambda: raw_read(engine),
                    "audit verify": lambda: engine.verify(read_models=False),
                    "verify + read models": engine.verify,
                    "audit export": lambda: engine.export(out),
                    "audit replay (file → states)": replay,
                },
                args.repeat,
            )
            raw = times["raw decoded read (eventsourcing)"]
            assert total <= raw.result <= total + args.repeat
            report = times["audit verify"].result
            assert report["ok"], report["problems"][:3]
            print(
                f"{'':<34}{'wall clock':>24}{'CPU of this process':>26}{'CPU ratio':>12}\n"
                f"{'operation':<34}{'events/s':>12}{'ratio':>12}{'events/s':>14}{'ratio':>12}"
                f"{'worst round':>12}"
            )
            for name, t in times.items():
                print(
                    f"{name:<34}{total / t.wall:>12,.0f}{raw.wall / t.wall:>12.2f}"
                    f"{total / t.cpu:>14,.0f}{raw.cpu / t.cpu:>12.2f}"
                    f"{min(t.round_ratios(raw)):>12.2f}"
                )
            print(
                f"\n(verify checked {report['snapshots_checked']} snapshots; best of "
                f"{args.repeat} interleaved rounds; the goal: verify and replay at ≥ 0.5 of the "
                "raw rate)"
            )

            # The cost of the chain on a normal command.
            client = engine.list_clients()[0]["id"]
            print()
            timings = ((True, "get → 1 event → save"), (False, "goal scale command"))
            for bare, label in timings if args.saves > 0 else ():
                without, with_chain = save_latencies(engine, client, args.saves, bare=bare)
                print(
                    f"{label}, median of {args.saves}: {without:.3f} ms without the chain, "
                    f"{with_chain:.3f} ms with it ({(with_chain / without - 1) * 100:+.0f} %)"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the export (and a store not kept by --reuse)
        if schema is not None:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return 0


if __name__ == "__main__":
    sys.exit(main())

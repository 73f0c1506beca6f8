"""Audit benchmark: verify and offline replay speed beside eventsourcing's raw decoded read.

    .venv/bin/python bench/audit_bench.py [--events 20000] [--store sqlite|postgres|memory]
                                          [--postgres URL] [--repeat 3]

In one process and on the same store it measures, in events per second (median of ``--repeat``):

- ``raw read``: eventsourcing's own decoded read of the log — ``recorder.select_notifications`` in
  pages of 1000 + ``mapper.to_domain_event`` for each — the baseline;
- ``verify``: ``GoalEngine.verify()`` (chain, sequence, salted digests, snapshots);
- ``export``: ``GoalEngine.export()`` to a JSON Lines file;
- ``replay``: verify the export file and rebuild every aggregate from it alone
  (``offline.load`` + ``offline.replay``);

and prints each rate's ratio to the raw read (the goal: verify and replay ≥ 0.5). Then it times
a save (get → one event → save, ``GoalEngine.scale``) with and without writing the chain rows, to
show what the integrity chain costs a normal command.
"""

from __future__ import annotations

import argparse
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


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """The best of ``repeat`` runs: (wall seconds, CPU seconds of this process, result).

    CPU time is robust on a shared machine (other processes' load does not count) but leaves
    out a database server's own work; wall time counts it, and the machine's load with it.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return min(walls), min(cpus), result


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
            app.save(goal, readmodel=[engine._row(goal)])
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
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="goalengine-bench-"))
    schema = None
    if args.store == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    elif args.store == "memory":
        url = "memory://"
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = f"{args.postgres}?schema={schema}"
    print(f"goalengine audit benchmark: {args.store} store, target {args.events} events")
    try:
        with GoalEngine(url, actor="therapist:bench") as engine:
            t0 = time.perf_counter()
            build(engine, args.events)
            total = engine.fingerprint()["events"]
            print(f"built {total} events in {time.perf_counter() - t0:.1f} s\n")

            raw = timed(lambda: raw_read(engine), args.repeat)
            assert raw[2] == total
            verify = timed(lambda: engine.verify(), args.repeat)
            report = verify[2]
            assert report["ok"], report["problems"][:3]
            out = tmp / "export.jsonl"
            export = timed(lambda: engine.export(out), args.repeat)

            def replay() -> int:
                data = offline.load(out)
                aggregates, _ = offline.replay(data)
                assert len(aggregates) == data.manifest["counts"]["aggregates"]
                return len(data.lines)

            replayed = timed(replay, args.repeat)
            print(
                f"{'':<34}{'wall clock':>24}{'CPU of this process':>26}\n"
                f"{'operation':<34}{'events/s':>12}{'ratio':>12}{'events/s':>14}{'ratio':>12}"
            )
            for name, (wall, cpu, _) in (
                ("raw decoded read (eventsourcing)", raw),
                ("audit verify", verify),
                ("audit export", export),
                ("audit replay (file → states)", replayed),
            ):
                print(
                    f"{name:<34}{total / wall:>12,.0f}{raw[0] / wall:>12.2f}"
                    f"{total / cpu:>14,.0f}{raw[1] / cpu:>12.2f}"
                )
            print(
                f"\n(verify checked {report['snapshots_checked']} snapshots; best of "
                f"{args.repeat} runs; the goal: verify and replay at ≥ 0.5 of the raw rate)"
            )

            # The cost of the chain on a normal command.
            client = engine.list_clients()[0]["id"]
            print()
            for bare, label in ((True, "get → 1 event → save"), (False, "goal scale command")):
                without, with_chain = save_latencies(engine, client, args.saves, bare=bare)
                print(
                    f"{label}, median of {args.saves}: {without:.3f} ms without the chain, "
                    f"{with_chain:.3f} ms with it ({(with_chain / without - 1) * 100:+.0f} %)"
                )
    finally:
        if schema is not None:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Random valid and invalid command sequences, checked against a model and against replay.

A hypothesis state machine drives the public API with clients, goals, steps, ratings, revisions and
lifecycle moves — and with bad input: ratings out of range, blank reasons, unknown ids, commands on
closed goals. After every command it checks that

(a) a refused command left the store exactly as it was (``engine.fingerprint()``),
(b) the live state (what the command returned, what ``get_goal`` says) equals the state replayed
    from the store: by a second engine on the same SQLite file or PostgreSQL schema, and by folding
    ``history()`` independently of the aggregates,
(c) a simple model of statuses, scales (the latest rating by when it happened: a backfilled one
    does not count as the latest), the latest rating of each rater, counts, the last review, steps
    and versions agrees with the engine, the ratings and reviews series agree with the model and
    with a fold of the history, and the read model (``list_goals``) agrees with the aggregates,
(d) rebuilding the read models leaves the fingerprint unchanged.

It runs on memory://, on a SQLite file and (fewer examples) on PostgreSQL.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conftest import fold_goal_history, fold_goal_series, postgres_url
from goalengine import GoalEngine, GoalEngineError

OPEN = ("active", "paused")


def latest(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The item that happened last: by day, then by the order it was recorded in."""
    return max(items, key=lambda i: (i["day"], i["seq"])) if items else None


def expected_day(on: str | None, recorded_at: str) -> str:
    """The day a rating or review given ``on`` counts on: that day (``today`` and ``yesterday``
    are local dates), or without one the UTC day it was recorded."""
    today = datetime.now().astimezone().date()
    if on in ("today", "yesterday"):
        return (today - timedelta(days=1 if on == "yesterday" else 0)).isoformat()
    if on is not None:
        return on
    return datetime.fromisoformat(recorded_at).astimezone(UTC).date().isoformat()


def pick(*options: Any) -> st.SearchStrategy[Any]:
    """One of ``options``, chosen by position: repeating an option makes it likelier."""
    return st.sampled_from(range(len(options))).map(options.__getitem__)


def mostly(valid: st.SearchStrategy[Any], *invalid: Any) -> st.SearchStrategy[Any]:
    """Valid values about seven times in eight, else one of the invalid ones."""
    return st.sampled_from(range(8)).flatmap(lambda i: valid if i < 7 else st.sampled_from(invalid))


MOVES = {
    "pause": "paused",
    "resume": "active",
    "achieve": "achieved",
    "abandon": "abandoned",
    "void": "voided",
}
VALUES = ["health", "family", "courage", "art"]
TITLE = mostly(st.sampled_from(["Walk after lunch", "Call a friend", "Sleep by 11"]), " ", "")
REASON = mostly(st.just("it changed in session"), "", "   ")
DOMAINS = mostly(
    st.lists(st.sampled_from(["behavioral", "cognitive", "emotional"]), min_size=1, max_size=2),
    [],
    ["spiritual"],
    ["behavioral", "spiritual"],
)


def valid_title(title: str) -> bool:
    return bool(title.strip())


GOALS = Bundle("goals")


def make_machine(
    open_url: Callable[[], tuple[str, Callable[[], None]]], replay_engine: bool
) -> Any:
    class EngineMachine(RuleBasedStateMachine):
        clients = Bundle("clients")
        goals = GOALS

        def __init__(self) -> None:
            super().__init__()
            self.url, self._cleanup = open_url()
            self.engine = GoalEngine(self.url, actor="therapist:lee")
            # A second engine on the same store replays every aggregate from what was stored.
            self.replayer = GoalEngine(self.url) if replay_engine else None
            self.model: dict[str, dict[str, Any]] = {}
            self.client_values: dict[str, list[str]] = {}
            self.live: dict[str, dict[str, Any]] = {}
            self.dirty: set[str] = set()  # goals a command changed since the last check
            self.recorded = 0  # the ratings and reviews recorded so far, in order

        def teardown(self) -> None:
            self.dirty = set(self.model)
            self.live_state_equals_replayed_state()
            self.engine.close()
            if self.replayer is not None:
                self.replayer.close()
            self._cleanup()

        # -- running a command against the model ------------------------------------------------

        def run(self, expect_ok: bool, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            """Run a command; check it was accepted or refused as the model says, and that a
            refused one changed nothing."""
            event(f"{call.__name__} {'accepted' if expect_ok else 'refused'}")
            before = self.engine.fingerprint()
            refused: GoalEngineError | None = None
            try:
                result = call(*args, **kwargs)
            except GoalEngineError as e:
                refused = e
            if refused is not None:
                assert not expect_ok, f"refused unexpectedly: {refused.type}: {refused.message}"
                assert refused.message.strip()
                assert "\n" not in refused.message
                assert refused.exit_code in (1, 2, 3)
                assert self.engine.fingerprint() == before, f"refused {call.__name__} wrote"
                return None
            assert expect_ok, f"{call.__name__}{args}{kwargs} was accepted; the model refuses it"
            assert self.engine.fingerprint() != before
            return result

        def keep_live(self, state: dict[str, Any]) -> None:
            """Remember the state a command returned: the live aggregate, before any reload."""
            self.live[state["id"]] = {
                k: v for k, v in state.items() if k not in ("findings", "changes", "review")
            }
            self.dirty.add(state["id"])

        @staticmethod
        def ref(goal_id: str, short: bool) -> str:
            return goal_id[:8] if short else goal_id

        # -- a case to start from ----------------------------------------------------------------

        @initialize(target=clients)
        def first_client(self) -> str:
            result = self.run(True, self.engine.add_client, "Alex", values=["health", "family"])
            self.client_values[result["id"]] = ["health", "family"]
            return str(result["id"])

        @initialize(target=goals, client=clients)
        def first_goal(self, client: str) -> str:
            result = self.run(
                True,
                self.engine.create_goal,
                client,
                "Feel at ease with people",
                horizon="long",
                kind="outcome",
                domains=["emotional"],
            )
            self.keep_live(result)
            self.model[result["id"]] = self.new_goal(
                result["id"], client, "Feel at ease with people", "long", None
            )
            return str(result["id"])

        # -- clients ----------------------------------------------------------------------------

        @precondition(lambda self: len(self.client_values) < 3)
        @rule(
            target=clients,
            name=mostly(st.sampled_from(["Alex", "Sam", "  Jo "]), " ", ""),
            values=mostly(
                st.lists(st.sampled_from(VALUES), min_size=1, max_size=3, unique=True),
                [],
                VALUES,
                ["family", "family"],
            ),
        )
        def add_client(self, name: str, values: list[str]) -> Any:
            distinct = list(dict.fromkeys(values))
            ok = bool(name.strip()) and len(distinct) <= 3
            result = self.run(ok, self.engine.add_client, name, values=values)
            if result is None:
                return multiple()
            assert result["values"] == distinct
            self.client_values[result["id"]] = distinct
            return result["id"]

        # -- goals ------------------------------------------------------------------------------

        @precondition(lambda self: len(self.model) < 12)
        @rule(
            target=goals,
            client=clients,
            title=TITLE,
            horizon=mostly(pick("long", "long", "short"), "medium"),
            domains=DOMAINS,
            value=mostly(pick(None, None, "1"), "FAMILY", "money", "3"),
            parent=pick(False, False, True).flatmap(lambda p: GOALS if p else st.none()),
        )
        def create_goal(
            self,
            client: str,
            title: str,
            horizon: str,
            domains: list[str],
            value: str | None,
            parent: str | None,
        ) -> Any:
            values = self.client_values[client]
            value_ok = value is None or (
                (value.isdigit() and 1 <= int(value) <= len(values)) or value.lower() in values
            )
            ok = (
                valid_title(title)
                and horizon in ("short", "long")
                and bool(domains)
                and "spiritual" not in domains
                and value_ok
            )
            if parent is not None:
                p = self.model[parent]
                ok = ok and p["client"] == client and p["status"] in OPEN and p["horizon"] == "long"
            result = self.run(
                ok,
                self.engine.create_goal,
                client,
                title,
                horizon=horizon,
                kind="process",
                domains=domains,
                values=[] if value is None else [value],
                parent=parent,
            )
            if result is None:
                return multiple()
            self.keep_live(result)
            self.model[result["id"]] = self.new_goal(result["id"], client, title, horizon, parent)
            return result["id"]

        def new_goal(
            self, goal_id: str, client: str, title: str, horizon: str, parent: str | None
        ) -> dict[str, Any]:
            if parent is not None:
                self.model[parent]["steps"].append(goal_id)
                self.model[parent]["version"] += 1
                self.dirty.add(parent)
            return {
                "client": client,
                "title": title.strip(),
                "horizon": horizon,
                "status": "active",
                "ratings": [],
                "reviews": [],
                "steps": [],
                "parent": parent,
                "version": 1,
            }

        @rule(
            target=goals,
            goal=goals,
            position=mostly(st.none() | st.integers(min_value=1, max_value=3), 0, 6),
            short=st.booleans(),
        )
        def chain(self, goal: str, position: int | None, short: bool) -> Any:
            g = self.model[goal]
            ok = (
                g["status"] in OPEN
                and g["horizon"] == "long"
                and (position is None or 1 <= position <= len(g["steps"]) + 1)
            )
            result = self.run(
                ok, self.engine.chain, self.ref(goal, short), "A step", position=position
            )
            if result is None:
                return multiple()
            self.keep_live(result)
            assert result["parent_id"] == goal
            assert result["client_id"] == g["client"]
            self.model[result["id"]] = self.new_goal(
                result["id"], g["client"], "A step", "short", None
            )
            self.model[result["id"]]["parent"] = goal
            g["steps"].insert(len(g["steps"]) if position is None else position - 1, result["id"])
            g["version"] += 1
            self.dirty.add(goal)
            return result["id"]

        @rule(goal=goals, position=st.integers(min_value=0, max_value=5))
        def move_step(self, goal: str, position: int) -> None:
            g = self.model[goal]
            parent = self.model[g["parent"]] if g["parent"] else None
            ok = False
            if parent is not None and parent["status"] in OPEN:
                order = [s for s in parent["steps"] if s != goal]
                if 1 <= position <= len(parent["steps"]):
                    order.insert(position - 1, goal)
                    ok = order != parent["steps"]
            result = self.run(ok, self.engine.move_step, goal, position)
            if result is not None:
                assert parent is not None
                self.keep_live(result)
                parent["steps"] = order
                parent["version"] += 1

        # -- progress, revision, lifecycle ------------------------------------------------------

        @rule(
            goal=goals,
            value=mostly(st.integers(min_value=0, max_value=10), -1, 11, 12),
            rater=mostly(st.sampled_from([None, "client", "collateral"]), "auditor"),
            on=mostly(st.none() | st.sampled_from(["2026-10-01", "today"]), "2999-01-01", "soon"),
            short=st.booleans(),
        )
        def scale(
            self, goal: str, value: int, rater: str | None, on: str | None, short: bool
        ) -> None:
            g = self.model[goal]
            ok = (
                g["status"] in OPEN
                and 0 <= value <= 10
                and rater != "auditor"
                and on not in ("2999-01-01", "soon")
            )
            result = self.run(
                ok, self.engine.scale, self.ref(goal, short), value, rater=rater, note="n", on=on
            )
            if result is not None:
                # The rating recorded comes back: this goal's next version, with its day.
                g["version"] += 1
                self.recorded += 1
                day = expected_day(on, result["recorded_at"])
                assert result == {
                    **result,
                    "goal_id": goal,
                    "version": g["version"],
                    "value": value,
                    "rater": rater or "therapist",
                    "actor": "therapist:lee",
                    "note": "n",
                    "day": day,
                    "occurred_on": None if on is None else day,
                }
                g["ratings"].append(
                    {"day": day, "seq": self.recorded, "rater": result["rater"], "value": value}
                )
                self.dirty.add(goal)

        @rule(
            goal=goals,
            outcome=mostly(st.sampled_from(["keep", "adjust", "retire"]), "forget"),
            alignment=mostly(st.none() | st.integers(min_value=0, max_value=10), 11, -1),
            on=st.none() | st.sampled_from(["2026-10-01", "yesterday", "2999-01-01"]),
        )
        def review(self, goal: str, outcome: str, alignment: int | None, on: str | None) -> None:
            g = self.model[goal]
            ok = (
                g["status"] in OPEN
                and outcome != "forget"
                and (alignment is None or 0 <= alignment <= 10)
                and on != "2999-01-01"
            )
            result = self.run(
                ok, self.engine.record_goal_review, goal, outcome, value_alignment=alignment, on=on
            )
            if result is not None:
                self.keep_live(result)
                g["version"] += 1
                self.recorded += 1
                # The review is the goal's latest event: recorded when the goal was updated.
                day = expected_day(on, result["updated_at"])
                assert result["review"] == {
                    **result["review"],
                    "goal_id": goal,
                    "version": g["version"],
                    "outcome": outcome,
                    "value_alignment": alignment,
                    "actor": "therapist:lee",
                    "recorded_at": result["updated_at"],
                    "day": day,
                    "occurred_on": None if on is None else day,
                }
                g["reviews"].append(
                    {"day": day, "seq": self.recorded, "outcome": outcome, "alignment": alignment}
                )

        @rule(
            goal=goals,
            title=st.none() | TITLE,
            horizon=st.none() | st.sampled_from(["short", "long"]),
            reason=REASON,
        )
        def revise(self, goal: str, title: str | None, horizon: str | None, reason: str) -> None:
            g = self.model[goal]
            changed = (title is not None and title.strip() != g["title"]) or (
                horizon is not None and horizon != g["horizon"]
            )
            ok = (
                g["status"] in OPEN
                and bool(reason.strip())
                and (title is None or valid_title(title))
                and changed
                and not (horizon == "short" and g["steps"])
            )
            result = self.run(
                ok, self.engine.revise, goal, reason=reason, title=title, horizon=horizon
            )
            if result is not None:
                self.keep_live(result)
                g["title"] = title.strip() if title is not None else g["title"]
                g["horizon"] = horizon or g["horizon"]
                g["version"] += 1

        @rule(
            goal=goals,
            move=pick("pause", "resume", "pause", "resume", "achieve", "abandon", "void"),
            reason=REASON,
        )
        def transition(self, goal: str, move: str, reason: str) -> None:
            g = self.model[goal]
            to = MOVES[move]
            ok = g["status"] in OPEN and g["status"] != to
            if move == "void":
                ok = g["status"] != "voided" and bool(reason.strip())
                result = self.run(ok, self.engine.void, goal, reason=reason)
            elif move == "abandon":
                ok = ok and bool(reason.strip())
                result = self.run(ok, self.engine.abandon, goal, reason=reason)
            else:
                result = self.run(ok, getattr(self.engine, move), goal, note=reason or None)
            if result is not None:
                self.keep_live(result)
                g["status"] = to
                g["version"] += 1

        @rule(
            ref=st.sampled_from(["abc", "not-an-id", "new-uuid", "client"]),
            command=st.sampled_from(
                ["scale", "pause", "chain", "get_goal", "history", "client_history"]
            ),
        )
        def bad_id(self, ref: str, command: str) -> None:
            if ref == "new-uuid":
                ref = str(uuid.uuid4())
            elif ref == "client":  # an id of the wrong kind: a client's for a goal, and back
                ids = list(self.model if command == "client_history" else self.client_values)
                if not ids:
                    return
                ref = ids[0]
            args: dict[str, tuple[Any, ...]] = {
                "scale": (ref, 5),
                "pause": (ref,),
                "chain": (ref, "Step"),
                "get_goal": (ref,),
                "history": (ref,),
                "client_history": (ref,),
            }
            self.run(False, getattr(self.engine, command), *args[command])

        @rule()
        def rebuild(self) -> None:
            before = self.engine.fingerprint()
            counts = self.engine.rebuild_read_models()
            assert counts["goals"] == len(self.model)
            assert counts["clients"] == len(self.client_values)
            assert counts["ratings"] == sum(len(g["ratings"]) for g in self.model.values())
            assert counts["reviews"] == sum(len(g["reviews"]) for g in self.model.values())
            assert counts["sessions"] == 0
            assert self.engine.fingerprint() == before

        # -- invariants -------------------------------------------------------------------------

        @invariant()
        def live_state_equals_replayed_state(self) -> None:
            """Every goal a command changed (all of them at the end): model, live and replayed
            states agree. (Unchanged goals are covered by the read-model check below, which
            compares every goal's version with the model after every step.)"""
            for goal_id in sorted(self.dirty):
                expected = self.model[goal_id]
                shown = self.engine.get_goal(goal_id)
                # (c) the model agrees
                assert shown["status"] == expected["status"]
                assert shown["scale"] == scale_of(expected)
                assert shown["rating_count"] == len(expected["ratings"])
                assert {r: v["value"] for r, v in shown["latest_ratings"].items()} == (
                    latest_by_rater(expected)
                )
                assert shown["review_count"] == len(expected["reviews"])
                last = latest(expected["reviews"])
                if last is None:
                    assert shown["last_review"] is None
                else:
                    assert shown["last_review"]["outcome"] == last["outcome"]
                    assert shown["last_review"]["value_alignment"] == last["alignment"]
                    assert shown["last_review"]["day"] == last["day"]
                assert shown["steps"] == expected["steps"]
                assert shown["parent_id"] == expected["parent"]
                assert shown["client_id"] == expected["client"]
                assert shown["horizon"] == expected["horizon"]
                assert shown["title"] == expected["title"]
                assert shown["version"] == expected["version"]
                # (b) replayed from the store = live; the series = the history's
                history = self.engine.history(goal_id)
                assert shown == fold_goal_history(goal_id, history)
                ratings, reviews = fold_goal_series(goal_id, history)
                assert self.engine.ratings(goal_id, order="oldest") == ratings
                assert self.engine.reviews(goal_id, order="oldest") == reviews
                in_order = sorted(expected["ratings"], key=lambda x: (x["day"], x["seq"]))
                assert [r["value"] for r in ratings] == [x["value"] for x in in_order]
                if self.replayer is not None:
                    assert self.replayer.get_goal(goal_id) == shown
                if self.live.get(goal_id, {}).get("version") == shown["version"]:
                    assert self.live[goal_id] == shown
            self.dirty.clear()

        @invariant()
        def read_model_agrees_with_the_aggregates(self) -> None:
            listed = {g["id"]: g for g in self.engine.list_goals(include_voided=True)}
            assert set(listed) == set(self.model)
            for goal_id, doc in listed.items():
                expected = self.model[goal_id]
                assert doc["status"] == expected["status"]
                assert doc["scale"] == scale_of(expected)
                assert doc["rating_count"] == len(expected["ratings"])
                assert doc["steps"] == expected["steps"]
                assert doc["version"] == expected["version"]
                assert doc["title"] == expected["title"]
            if self.replayer is not None:
                for client_id in self.client_values:
                    assert self.replayer.get_client(client_id) == self.engine.get_client(client_id)
            unvoided = {g["id"] for g in self.engine.list_goals()}
            assert unvoided == {i for i, g in self.model.items() if g["status"] != "voided"}
            counts = {c["id"]: c["goals"] for c in self.engine.list_clients()}
            assert set(counts) == set(self.client_values)
            for client_id, by_status in counts.items():
                expected_counts: dict[str, int] = {}
                for g in self.model.values():
                    if g["client"] == client_id and g["status"] != "voided":
                        expected_counts[g["status"]] = expected_counts.get(g["status"], 0) + 1
                assert by_status == expected_counts

    return EngineMachine


def scale_of(goal: dict[str, Any]) -> int | None:
    """The model's scale: the value of the rating that happened last, from any rater."""
    found = latest(goal["ratings"])
    return None if found is None else int(found["value"])


def latest_by_rater(goal: dict[str, Any]) -> dict[str, int]:
    """The model's latest rating of each rater (a backfilled one does not replace a newer)."""
    out: dict[str, int] = {}
    for rater in {r["rater"] for r in goal["ratings"]}:
        found = latest([r for r in goal["ratings"] if r["rater"] == rater])
        assert found is not None
        out[rater] = int(found["value"])
    return out


def memory_store() -> tuple[str, Callable[[], None]]:
    return "memory://", lambda: None


def sqlite_store() -> tuple[str, Callable[[], None]]:
    directory = tempfile.mkdtemp(prefix="goalengine-prop-")
    return f"sqlite:///{directory}/goals.db", lambda: shutil.rmtree(directory, True)


def postgres_store() -> tuple[str, Callable[[], None]]:
    return postgres_url(), lambda: None  # the schemas are dropped at the end of the run


def run_machine(
    open_url: Callable[[], tuple[str, Callable[[], None]]],
    *,
    replay_engine: bool,
    examples: int,
    steps: int,
) -> None:
    run_state_machine_as_test(
        make_machine(open_url, replay_engine),
        settings=settings(max_examples=examples, stateful_step_count=steps, deadline=None),
    )


def test_random_command_sequences_in_memory() -> None:
    run_machine(memory_store, replay_engine=False, examples=30, steps=25)


def test_random_command_sequences_on_a_sqlite_file() -> None:
    run_machine(sqlite_store, replay_engine=True, examples=12, steps=25)


def test_random_command_sequences_on_postgresql() -> None:
    postgres_url()  # skips (or fails under CI=true) before hypothesis starts without a server
    run_machine(postgres_store, replay_engine=True, examples=4, steps=20)

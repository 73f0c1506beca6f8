"""What a plugin's hooks are handed: frozen views that carry every field of every goal.

An outside-style plugin (no modality of its own, so its evaluation hooks are called for every goal)
keeps each ``GoalView``/``ClientView`` it receives. The client's *other* goals reach a hook through
``ClientView.goals``, built from the read models — and so do a long-term goal's ``steps``. Those
views must carry the goals' own scale anchors, description and ``client_agreed``, exactly as given,
not the defaults (empty anchors, no description, ``True``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from goalengine import GoalEngine, ScaleAnchors, hookimpl
from goalengine.modalities.manager import builtin_plugins, make_manager
from goalengine.modalities.types import ClientView, GoalView


class Witness:
    """A plugin from outside the project: it flags nothing and suggests nothing, it only keeps
    what its hooks were given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def validate_goal(self, goal: GoalView, client: ClientView, action: str) -> None:
        self.calls.append(("validate_goal", {"goal": goal, "client": client, "action": action}))

    @hookimpl
    def suggest_steps(self, goal: GoalView, client: ClientView) -> None:
        self.calls.append(("suggest_steps", {"goal": goal, "client": client}))

    @hookimpl
    def review(self, client: ClientView, goals: Any) -> None:
        self.calls.append(("review", {"client": client, "goals": tuple(goals)}))

    def received(self, hook: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == hook]


@pytest.fixture
def witness() -> Witness:
    return Witness()


@pytest.fixture
def engine(store_url: str, witness: Witness) -> Iterator[GoalEngine]:
    """An engine on each store with the built-ins and the witness plugin."""
    plugins = make_manager({**builtin_plugins(), "witness": witness})
    with GoalEngine(store_url, actor="therapist:lee", plugins=plugins) as e:
        assert {p["name"]: p["status"] for p in e.list_plugins()}["witness"] == "ok"
        yield e


#: What each goal of the case was given: (description, anchor low, anchor high, client agreed).
GIVEN = {
    "long": (
        "Feel part of a circle of friends again",
        "no one I could call",
        "three friends I see every month",
        False,
    ),
    "text": (
        "Just a hello, no plan to meet",
        "haven't texted anyone",
        "texted, got a reply",
        False,
    ),
    "coffee": ("Somewhere quiet, an hour at most", "nothing arranged", "met and stayed", False),
    "walk": ("Twenty minutes, most days", "no walks", "five walks a week", False),
}


def build_case(engine: GoalEngine) -> dict[str, dict[str, Any]]:
    """A client with a long-term goal (two chained steps with anchors and descriptions of their
    own) and a short-term goal, none of them agreed by the client yet."""
    jo = engine.add_client("Jo", values=["connection", "health"])
    description, low, high, agreed = GIVEN["long"]
    long = engine.create_goal(
        jo["id"],
        "Rebuild three friendships",
        horizon="long",
        kind="outcome",
        domains=["emotional"],
        values=["connection"],
        description=description,
        anchor_low=low,
        anchor_high=high,
        client_agreed=agreed,
        due="2027-06-30",
    )
    steps = {}
    for key, title in (("text", "Text one old friend"), ("coffee", "Meet one friend for coffee")):
        description, low, high, _ = GIVEN[key]
        steps[key] = engine.chain(
            long["id"], title, description=description, anchor_low=low, anchor_high=high
        )
    description, low, high, agreed = GIVEN["walk"]
    walk = engine.create_goal(
        jo["id"],
        "Walk 20 minutes after lunch",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["health"],
        description=description,
        anchor_low=low,
        anchor_high=high,
        client_agreed=agreed,
        target="walks>=5/week",
    )
    return {"client": jo, "long": long, **steps, "walk": walk}


def check_goal(view: GoalView, key: str) -> None:
    description, low, high, agreed = GIVEN[key]
    assert view.description == description, (key, view.description)
    assert view.anchors == ScaleAnchors(low, high), (key, view.anchors)
    assert view.client_agreed is agreed, (key, view.client_agreed)


def check_long(view: GoalView, case: dict[str, dict[str, Any]]) -> None:
    """The long-term goal with its steps, each step's view carrying its own fields."""
    check_goal(view, "long")
    assert [s.id for s in view.steps] == [case["text"]["id"], case["coffee"]["id"]]
    for step, key in zip(view.steps, ("text", "coffee"), strict=True):
        check_goal(step, key)
        assert step.parent_id == case["long"]["id"]


def check_client(view: ClientView, case: dict[str, dict[str, Any]]) -> None:
    """Every goal of the case, as the client view carries it."""
    assert view.id == case["client"]["id"]
    by_id = {g.id: g for g in view.goals}
    for key in GIVEN:
        check_goal(by_id[case[key]["id"]], key)
    check_long(by_id[case["long"]["id"]], case)
    assert str(by_id[case["walk"]["id"]].target) == "walks>=5/week"


def test_another_goals_views_carry_their_anchors_description_and_agreement(
    engine: GoalEngine, witness: Witness
) -> None:
    case = build_case(engine)
    witness.calls.clear()

    # A third goal, created and then revised and paused: the hooks see the client's other goals.
    sleep = engine.create_goal(
        case["client"]["id"],
        "In bed by 11 on weeknights",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["health"],
    )
    engine.revise(sleep["id"], reason="client's words", title="In bed by 11, Sunday to Thursday")
    engine.pause(sleep["id"], note="night shifts this month")
    checked = witness.received("validate_goal")
    assert [c["action"] for c in checked] == ["create", "revise", "pause"]
    for call in checked:
        assert call["goal"].id in (None, sleep["id"])
        check_client(call["client"], case)
        # The goal being decided is not among the "other" goals.
        assert sleep["id"] not in [g.id for g in call["client"].goals]
    # The goal being decided carries what it was given, defaults included.
    assert checked[1]["goal"].client_agreed is True
    assert checked[1]["goal"].anchors == ScaleAnchors()
    assert checked[1]["goal"].description is None


def test_suggestions_and_the_review_see_every_goal_as_given(
    engine: GoalEngine, witness: Witness
) -> None:
    case = build_case(engine)
    engine.create_goal(
        case["client"]["id"],
        "In bed by 11 on weeknights",
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["health"],
    )
    witness.calls.clear()

    engine.suggest_steps(case["long"]["id"])
    (suggested,) = witness.received("suggest_steps")
    check_long(suggested["goal"], case)  # the goal to break down, with its steps
    check_client(suggested["client"], case)

    engine.client_review(case["client"]["id"])
    (reviewed,) = witness.received("review")
    check_client(reviewed["client"], case)
    goals = {g.id: g for g in reviewed["goals"]}
    for key in GIVEN:
        check_goal(goals[case[key]["id"]], key)
    check_long(goals[case["long"]["id"]], case)
    # A goal given no anchors, no description and the default agreement comes through as such.
    (sleep,) = [g for g in reviewed["goals"] if g.title == "In bed by 11 on weeknights"]
    assert (sleep.anchors, sleep.description, sleep.client_agreed) == (ScaleAnchors(), None, True)


def test_a_revised_goal_sees_its_own_steps_with_their_fields(
    engine: GoalEngine, witness: Witness
) -> None:
    """Revising the long-term goal: ``goal.steps`` of the goal being decided are views built from
    the read models too."""
    case = build_case(engine)
    witness.calls.clear()
    engine.revise(case["long"]["id"], reason="smaller", title="Rebuild two friendships")
    (call,) = witness.received("validate_goal")
    assert call["action"] == "revise"
    assert call["goal"].title == "Rebuild two friendships"
    check_long(call["goal"], case)
    assert case["long"]["id"] not in [g.id for g in call["client"].goals]
    by_id = {g.id: g for g in call["client"].goals}
    for key in ("text", "coffee", "walk"):
        check_goal(by_id[case[key]["id"]], key)


def test_the_client_view_counts_the_sessions_recorded(engine: GoalEngine, witness: Witness) -> None:
    """``ClientView.sessions`` is the number of sessions recorded (the client keeps a count, not
    the list, since its state stopped growing with its history)."""
    client = engine.add_client("Robin", values=["health"])
    for day in ("2026-10-01", "2026-10-08", "2026-10-15"):
        engine.record_session(client["id"], on=day)
    engine.create_goal(
        client["id"], "Walk after lunch", horizon="short", kind="process", domains=["behavioral"]
    )
    seen = witness.received("validate_goal")[-1]["client"]
    assert seen.sessions == 3

"""The engine opens, records and reads back on every kind of store."""

from goalengine import GoalEngine


def test_a_goal_round_trips_through_each_store(store_url: str) -> None:
    with GoalEngine(store_url, actor="therapist:lee") as engine:
        client = engine.add_client("Alex", values=["being a present parent"])
        goal = engine.create_goal(
            client["id"],
            "Walk after lunch",
            horizon="short",
            kind="process",
            domains=["behavioral"],
        )
        engine.scale(goal["id"], 4, note="two walks this week")
    with GoalEngine(store_url, actor="therapist:lee") as engine:
        if store_url == "memory://":
            return  # a memory store is gone when its engine closes
        shown = engine.get_goal(goal["id"][:8])
        assert shown["scale"] == 4
        assert shown["latest_ratings"]["therapist"]["note"] == "two walks this week"
        assert [r["note"] for r in engine.ratings(goal["id"])] == ["two walks this week"]

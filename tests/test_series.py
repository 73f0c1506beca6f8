"""The series a goal and a client no longer keep: ratings, reviews and sessions in the read models.

A goal keeps only the latest rating of each rater (by when it happened), the counts and the last
review; every rating, review and session is a row of a read-model table, listed newest first (or
oldest first) by when it happened, filtered by day, rater, version or moment and paged with a
version cursor. Narrated through the public API on memory://, a SQLite file and PostgreSQL, and
through the CLI on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import eventsourcing.domain
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_store_url
from goalengine import Conflict, GoalEngine, InvalidInput, NotFound
from goalengine_cli.main import cli

#: The keys of a rating as the goal keeps it in ``latest_ratings``.
LATEST_KEYS = ("value", "rater", "actor", "recorded_at", "note", "session", "occurred_on", "day")
RATERS = ("client", "therapist", "collateral")


def _goal(engine: GoalEngine, name: str = "Alex") -> tuple[dict[str, Any], dict[str, Any]]:
    client = engine.add_client(name, values=["being a present parent"])
    goal = engine.create_goal(
        client["id"],
        "Play with the kids after work",
        horizon="short",
        kind="process",
        domains=["behavioral"],
    )
    return client, goal


def _latest(rating: dict[str, Any]) -> dict[str, Any]:
    return {k: rating[k] for k in LATEST_KEYS}


def _happened(row: dict[str, Any]) -> tuple[str, str, int]:
    """The series order, computed from what the test recorded: day, recording time, version."""
    return row["day"], row["recorded_at"], row["version"]


def _walk(fetch: Any, page: int, **query: Any) -> list[dict[str, Any]]:
    """Every row, a page of ``page`` at a time, continuing after the last version of each page
    until an empty page."""
    rows: list[dict[str, Any]] = []
    after = None
    for _ in range(1000):
        got = fetch(limit=page, after=after, **query)
        assert len(got) <= page
        if not got:
            return rows
        rows += got
        after = got[-1]["version"]
    raise AssertionError("paging never ended")


# -- ratings: by when they happened -----------------------------------------------------------------


def test_a_backfilled_rating_takes_its_place_by_day_but_never_replaces_a_newer_one(
    engine: GoalEngine,
) -> None:
    _, goal = _goal(engine)
    gid = goal["id"]

    # Dr Lee rates 6 for 20 November, then remembers a 3 from the 1st of the month.
    six = engine.scale(gid, 6, on="2026-11-20")
    three = engine.scale(gid, 3, on="2026-11-01")
    assert (six["day"], three["day"]) == ("2026-11-20", "2026-11-01")
    assert three["version"] == six["version"] + 1  # recorded later…

    # …but it happened earlier: the scale, and the therapist's latest, stay the 6.
    shown = engine.get_goal(gid)
    assert shown["scale"] == 6
    assert shown["rated_at"] == six["recorded_at"]
    assert shown["latest_ratings"] == {"therapist": _latest(six)}
    assert shown["rating_count"] == 2
    assert "ratings" not in shown
    assert "reviews" not in shown

    # The series lists them by day: newest first 6 then 3, oldest first 3 then 6.
    assert engine.ratings(gid) == [six, three]
    assert engine.ratings(gid, order="newest") == [six, three]
    assert engine.ratings(gid, order="oldest") == [three, six]

    # A rating without a date counts on the UTC day it was recorded: today, after the 20th.
    now = engine.scale(gid, 8)
    assert now["occurred_on"] is None
    assert now["day"] == now["recorded_at"][:10]
    assert now["day"] > "2026-11-20"
    shown = engine.get_goal(gid)
    assert (shown["scale"], shown["rating_count"]) == (8, 3)
    assert shown["latest_ratings"]["therapist"] == _latest(now)
    assert engine.ratings(gid) == [now, six, three]
    assert engine.ratings(gid, since=now["day"], until=now["day"]) == [now]

    # A rating dated two days before that recording day is older than the undated one.
    earlier = date.fromisoformat(now["day"]) - timedelta(days=2)
    before = engine.scale(gid, 1, on=earlier)
    assert before["day"] == earlier.isoformat()
    shown = engine.get_goal(gid)
    assert (shown["scale"], shown["rating_count"]) == (8, 4)
    assert engine.ratings(gid) == [now, before, six, three]
    assert engine.ratings(gid, order="oldest") == [three, six, before, now]
    # What the goal keeps agrees with the read model's list of goals.
    assert engine.list_goals()[0]["scale"] == 8


def test_the_goal_keeps_the_latest_rating_of_each_rater(engine: GoalEngine) -> None:
    alex, goal = _goal(engine)
    gid = goal["id"]
    # Alex, Dr Lee and Alex's partner rate the goal over a fortnight, not in day order.
    c1 = engine.scale(gid, 4, on="2026-11-02", actor="client:alex")  # rater: the actor's role
    t1 = engine.scale(gid, 5, on="2026-11-03")
    k1 = engine.scale(gid, 7, rater="collateral", on="2026-11-04", note="calmer evenings")
    c2 = engine.scale(gid, 6, on="2026-11-05", actor="client:alex")
    t0 = engine.scale(gid, 2, on="2026-11-01")  # backfilled: older than Dr Lee's 5
    k2 = engine.scale(gid, 3, rater="collateral", on="2026-11-06")
    c0 = engine.scale(gid, 9, rater="client", on="2026-11-04")  # backfilled: older than c2
    assert (c1["rater"], c1["actor"]) == ("client", "client:alex")

    shown = engine.get_goal(gid)
    assert shown["rating_count"] == 7
    assert shown["latest_ratings"] == {
        "client": _latest(c2),
        "therapist": _latest(t1),
        "collateral": _latest(k2),
    }
    # The scale is the latest rating by when it happened, whoever gave it: the partner's 3.
    assert shown["scale"] == 3
    assert shown["rated_at"] == k2["recorded_at"]

    # A second rating on that same day, recorded later, is the latest.
    t2 = engine.scale(gid, 9, on="2026-11-06")
    shown = engine.get_goal(gid)
    assert shown["scale"] == 9
    assert shown["rated_at"] == t2["recorded_at"]
    assert shown["latest_ratings"]["therapist"] == _latest(t2)
    assert shown["latest_ratings"]["collateral"] == _latest(k2)
    assert engine.list_goals(client=alex["id"])[0]["scale"] == 9

    everything = [c1, t1, k1, c2, t0, k2, c0, t2]
    assert engine.ratings(gid) == sorted(everything, key=_happened, reverse=True)
    assert [r["value"] for r in engine.ratings(gid, order="oldest")] == [2, 4, 5, 7, 9, 6, 3, 9]
    # Each rater's own series; its first row is the one the goal keeps for that rater.
    for rater in RATERS:
        mine = engine.ratings(gid, rater=rater)
        assert mine == [r for r in engine.ratings(gid) if r["rater"] == rater]
        assert _latest(mine[0]) == shown["latest_ratings"][rater]
    assert engine.ratings(gid, rater="CLIENT") == engine.ratings(gid, rater="client")


def test_a_rating_recorded_on_a_whole_second_reads_the_same_everywhere(
    engine: GoalEngine,
) -> None:
    """Recording times are UTC text in one format wherever they are shown, so that the goal's
    latest rating, the series row and the history entry of one rating are equal (about one
    recording in a million falls on a whole second; the clock is pinned here to make it one)."""
    _, goal = _goal(engine)
    gid = goal["id"]
    whole = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: whole)
        rating = engine.scale(gid, 5)
    assert datetime.fromisoformat(rating["recorded_at"]) == whole
    shown = engine.get_goal(gid)
    assert shown["rated_at"] == rating["recorded_at"]
    assert shown["latest_ratings"]["therapist"] == _latest(rating)
    assert engine.history(gid)[-1]["recorded_at"] == rating["recorded_at"]
    assert engine.ratings(gid) == [rating]


# -- ratings: paging, as a property -----------------------------------------------------------------

RATING_PLAN = st.lists(
    st.tuples(
        st.integers(0, 10),
        st.one_of(st.none(), st.integers(0, 60)),  # days ago; None: no date given
        st.sampled_from(RATERS),
    ),
    max_size=18,
)


@settings(max_examples=25, deadline=None)
@given(plan=RATING_PLAN, page=st.integers(1, 7))
def test_walking_the_pages_gives_every_rating_once_in_order(
    plan: list[tuple[int, int | None, str]], page: int
) -> None:
    with GoalEngine("memory://", actor="therapist:lee") as engine:
        _, goal = _goal(engine)
        gid = goal["id"]
        today = date.today()
        recorded: list[dict[str, Any]] = []
        for value, ago, rater in plan:
            on = None if ago is None else today - timedelta(days=ago)
            rating = engine.scale(gid, value, rater=rater, on=on)
            assert rating["value"] == value
            assert rating["rater"] == rater
            if on is not None:
                assert rating["day"] == rating["occurred_on"] == on.isoformat()
            else:
                assert rating["occurred_on"] is None
                assert rating["day"] == rating["recorded_at"][:10]
            recorded.append(rating)

        newest = engine.ratings(gid)
        oldest = engine.ratings(gid, order="oldest")
        # The order, computed from what was recorded alone.
        assert newest == sorted(recorded, key=_happened, reverse=True)
        assert oldest == newest[::-1]
        for order, full in (("newest", newest), ("oldest", oldest)):
            walked = _walk(lambda **q: engine.ratings(gid, **q), page, order=order)
            assert walked == full
            assert len({r["version"] for r in walked}) == len(recorded)
        # What the goal keeps is the head of each rater's series and of the whole series.
        shown = engine.get_goal(gid)
        assert shown["rating_count"] == len(recorded)
        assert shown["scale"] == (newest[0]["value"] if newest else None)
        assert shown["latest_ratings"] == {
            rater: _latest(rows[0])
            for rater in RATERS
            if (rows := [r for r in newest if r["rater"] == rater])
        }


# -- ratings: filters -------------------------------------------------------------------------------


def test_ratings_filtered_by_day_rater_version_moment_and_limit(engine: GoalEngine) -> None:
    _, goal = _goal(engine)
    gid = goal["id"]
    days = ["2026-10-01", "2026-10-08", "2026-10-08", "2026-10-15", "2026-10-22", "2026-10-29"]
    raters = ["therapist", "client", "therapist", "collateral", "client", "therapist"]
    recorded = []
    for i, (day, rater) in enumerate(zip(days, raters, strict=True)):
        recorded.append(engine.scale(gid, i + 2, rater=rater, on=day))
        if i == 2:
            engine.record_goal_review(gid, "keep", on=day)  # another event in between
    newest = sorted(recorded, key=_happened, reverse=True)
    assert engine.ratings(gid) == newest

    # since/until: days when it happened, both included; strings or dates.
    assert engine.ratings(gid, since="2026-10-08", until="2026-10-15") == [
        r for r in newest if "2026-10-08" <= r["day"] <= "2026-10-15"
    ]
    assert engine.ratings(gid, since=date(2026, 10, 22)) == newest[:2]
    assert engine.ratings(gid, until=date(2026, 10, 1)) == [recorded[0]]
    assert engine.ratings(gid, since="2026-10-09", until="2026-10-14") == []
    assert (
        engine.ratings(gid, since="2026-10-08", until="2026-10-08", order="oldest")
        == (recorded[1:3])
    )

    # rater, alone and with days.
    assert engine.ratings(gid, rater="therapist") == [recorded[5], recorded[2], recorded[0]]
    assert engine.ratings(gid, rater="client", since="2026-10-10") == [recorded[4]]
    assert engine.ratings(gid, rater="collateral", order="oldest") == [recorded[3]]

    # version=N: only the ratings recorded up to version N (the review is version 5).
    review_version = recorded[2]["version"] + 1
    assert engine.ratings(gid, version=review_version) == [
        r for r in newest if r["version"] <= review_version
    ]
    assert engine.ratings(gid, version=recorded[1]["version"]) == [recorded[1], recorded[0]]
    assert engine.ratings(gid, version=1) == []
    assert engine.ratings(gid, version=10_000) == newest

    # as_of: only the ratings recorded at or before that moment.
    middle = recorded[3]
    assert engine.ratings(gid, as_of=middle["recorded_at"]) == [
        r for r in newest if r["recorded_at"] <= middle["recorded_at"]
    ]
    assert engine.ratings(gid, as_of=middle["recorded_at"], order="oldest") == (
        sorted(recorded[:4], key=_happened)
    )
    assert engine.ratings(gid, as_of=date.today() - timedelta(days=2)) == []

    # limit: the first N of the chosen order.
    assert engine.ratings(gid, limit=1) == newest[:1]
    assert engine.ratings(gid, limit=4, order="oldest") == newest[::-1][:4]
    assert engine.ratings(gid, limit=1000) == newest
    # Everything together, paged with the cursor.
    first = engine.ratings(gid, rater="therapist", since="2026-10-05", limit=1)
    assert first == [recorded[5]]
    rest = engine.ratings(gid, rater="therapist", since="2026-10-05", after=first[0]["version"])
    assert rest == [recorded[2]]


def test_bad_series_queries_are_refused_and_record_nothing(
    engine: GoalEngine, refuses: Any
) -> None:
    alex, goal = _goal(engine)
    gid, cid = goal["id"], alex["id"]
    rating = engine.scale(gid, 4, on="2026-11-02")
    review = engine.record_goal_review(gid, "keep", on="2026-11-02")
    engine.record_session(cid, on="2026-11-02")

    cases: list[tuple[Any, type[Exception], str | None, tuple[Any, ...], dict[str, Any]]] = [
        (engine.ratings, InvalidInput, "limit", (gid,), {"limit": 0}),
        (engine.ratings, InvalidInput, "limit", (gid,), {"limit": 1001}),
        (engine.ratings, InvalidInput, "limit", (gid,), {"limit": "x"}),
        (engine.ratings, InvalidInput, "limit", (gid,), {"limit": True}),
        (engine.ratings, InvalidInput, "limit", (gid,), {"limit": 2.5}),
        (engine.ratings, InvalidInput, "order", (gid,), {"order": "sideways"}),
        (engine.ratings, InvalidInput, "rater", (gid,), {"rater": "auditor"}),
        (engine.ratings, InvalidInput, "rater", (gid,), {"rater": "neighbour"}),
        (
            engine.ratings,
            InvalidInput,
            "after --until",
            (gid,),
            {"since": "2026-11-10", "until": "2026-11-01"},
        ),
        (engine.ratings, InvalidInput, "not a date", (gid,), {"since": "last week"}),
        (engine.ratings, InvalidInput, "not a date", (gid,), {"until": "2026-13-40"}),
        (engine.ratings, InvalidInput, "after", (gid,), {"after": 0}),
        (engine.ratings, InvalidInput, "after", (gid,), {"after": "3"}),
        (engine.ratings, NotFound, "version 1", (gid,), {"after": 1}),  # Created, no rating
        (engine.ratings, NotFound, "version 3", (gid,), {"after": review["version"]}),
        (engine.ratings, NotFound, "version 999", (gid,), {"after": 999}),
        (engine.ratings, InvalidInput, "version", (gid,), {"version": 0}),
        (engine.ratings, InvalidInput, "as-of", (gid,), {"as_of": "whenever"}),
        (engine.ratings, NotFound, None, ("ffffffff",), {}),
        (engine.ratings, NotFound, None, (cid,), {}),  # a client is not a goal
        (engine.reviews, InvalidInput, "limit", (gid,), {"limit": 0}),
        (engine.reviews, InvalidInput, "order", (gid,), {"order": "sideways"}),
        (engine.reviews, NotFound, None, (gid,), {"after": rating["version"]}),  # a rating
        (
            engine.reviews,
            InvalidInput,
            "after --until",
            (gid,),
            {"since": date(2026, 11, 3), "until": date(2026, 11, 2)},
        ),
        (engine.sessions, InvalidInput, "limit", (cid,), {"limit": 1001}),
        (engine.sessions, InvalidInput, "order", (cid,), {"order": "up"}),
        (engine.sessions, NotFound, None, (cid,), {"after": 1}),  # Registered, no session
        (
            engine.sessions,
            InvalidInput,
            "after --until",
            (cid,),
            {"since": "2026-11-03", "until": "2026-11-02"},
        ),
        (engine.sessions, NotFound, None, (gid,), {}),  # a goal is not a client
    ]
    for call, error, match, args, kwargs in cases:
        refuses(engine, error, call, *args, match=match, **kwargs)  # type: ignore[arg-type]


# -- reviews and sessions ---------------------------------------------------------------------------


def test_reviews_are_listed_by_when_they_happened_and_paged(engine: GoalEngine) -> None:
    _, goal = _goal(engine)
    gid = goal["id"]
    r1 = engine.record_goal_review(gid, "keep", value_alignment=7, on="2026-10-20")
    r2 = engine.record_goal_review(gid, "adjust", on="2026-09-15")  # backfilled
    engine.scale(gid, 5, on="2026-10-21")
    r3 = engine.record_goal_review(gid, "keep", note="  still matters  ")  # today
    r4 = engine.record_goal_review(gid, "keep", value_alignment=9, on="2026-10-20")  # same day

    shown = engine.get_goal(gid)
    assert shown["review_count"] == 4
    assert shown["last_review"]["outcome"] == "keep"
    assert shown["last_review"]["note"] == "still matters"
    assert shown["last_review"]["recorded_at"] == r3["updated_at"]

    reviews = engine.reviews(gid)
    assert [r["version"] for r in reviews] == [
        r3["version"],
        r4["version"],
        r1["version"],
        r2["version"],
    ]
    assert reviews == sorted(reviews, key=_happened, reverse=True)
    assert reviews[0]["day"] == reviews[0]["recorded_at"][:10]
    assert reviews[1]["value_alignment"] == 9
    assert reviews[2]["value_alignment"] == 7
    assert {k: reviews[0][k] for k in shown["last_review"]} == shown["last_review"]
    assert engine.reviews(gid, order="oldest") == reviews[::-1]

    assert engine.reviews(gid, since="2026-10-01", until="2026-10-31") == reviews[1:3]
    assert engine.reviews(gid, version=r2["version"]) == [reviews[2], reviews[3]]
    assert engine.reviews(gid, as_of=r1["updated_at"]) == [reviews[2]]
    for page in (1, 2, 3, 5):
        assert _walk(lambda **q: engine.reviews(gid, **q), page) == reviews
        assert _walk(lambda **q: engine.reviews(gid, **q), page, order="oldest") == reviews[::-1]
    # The ratings and the reviews are two series: neither lists the other.
    assert [r["value"] for r in engine.ratings(gid)] == [5]


def test_sessions_are_listed_newest_first_and_paged(engine: GoalEngine) -> None:
    jo = engine.add_client("Jo")
    cid = jo["id"]
    days = ["2026-09-01", "2026-09-08", "2026-09-08", "2026-09-15", "2026-09-22", "2026-09-29"]
    recorded = [engine.record_session(cid, on=day) for day in days]
    assert [s["number"] for s in recorded] == [1, 2, 3, 4, 5, 6]

    sessions = engine.sessions(cid)
    assert [s["number"] for s in sessions] == [6, 5, 4, 3, 2, 1]
    assert [s["on"] for s in sessions] == days[::-1]
    assert {s["client_id"] for s in sessions} == {cid}
    assert [s["version"] for s in sessions] == [7, 6, 5, 4, 3, 2]
    assert {s["actor"] for s in sessions} == {"therapist:lee"}
    assert sessions == sorted(
        sessions, key=lambda s: (s["on"], s["recorded_at"], s["version"]), reverse=True
    )
    assert engine.sessions(cid, order="oldest") == sessions[::-1]
    assert [s["number"] for s in engine.sessions(cid, since="2026-09-08", until="2026-09-15")] == [
        4,
        3,
        2,
    ]
    assert [s["number"] for s in engine.sessions(cid, limit=2)] == [6, 5]
    for page in (1, 2, 4, 7):
        assert _walk(lambda **q: engine.sessions(cid, **q), page) == sessions
        assert _walk(lambda **q: engine.sessions(cid, **q), page, order="oldest") == sessions[::-1]
    client = engine.get_client(cid)
    assert client["session_count"] == 6
    assert client["last_session"] == {"number": 6, "on": "2026-09-29"}
    assert "sessions" not in client


def test_sessions_are_numbered_in_order_never_twice_and_linked_to_ratings(
    engine: GoalEngine, refuses: Any
) -> None:
    alex, goal = _goal(engine)
    cid, gid = alex["id"], goal["id"]
    s1 = engine.record_session(cid, on="2026-11-02")
    s2 = engine.record_session(cid, on="2026-11-09")
    s3 = engine.record_session(cid, on="2026-11-16")
    assert [s["number"] for s in (s1, s2, s3)] == [1, 2, 3]
    assert s2["on"] == "2026-11-09"

    # A number already recorded is refused, the latest and an old one alike, whatever the date.
    refuses(engine, Conflict, engine.record_session, cid, number=3, match="already recorded")
    refuses(engine, Conflict, engine.record_session, cid, number=1, match="already recorded")
    refuses(
        engine,
        Conflict,
        engine.record_session,
        cid,
        number=2,
        on="2026-11-20",
        match="already recorded",
    )
    # Out of order: a date before the latest session's.
    refuses(engine, InvalidInput, engine.record_session, cid, on="2026-11-10", match="order")
    refuses(engine, InvalidInput, engine.record_session, cid, number=0, match="starting at 1")
    refuses(engine, InvalidInput, engine.record_session, cid, number=True)

    # A number may skip ahead; a gap left behind cannot be filled out of order.
    s5 = engine.record_session(cid, on="2026-11-23", number=5)
    assert s5["number"] == 5
    refuses(
        engine, InvalidInput, engine.record_session, cid, number=4, on="2026-11-23", match="order"
    )
    refuses(engine, Conflict, engine.record_session, cid, number=5, match="already recorded")
    assert engine.record_session(cid, on="2026-11-23")["number"] == 6  # same day is in order
    assert [s["number"] for s in engine.sessions(cid)] == [6, 5, 3, 2, 1]

    # A rating dated on a session's day links that session; an explicit number wins.
    assert engine.scale(gid, 4, on="2026-11-09")["session"] == 2
    assert engine.scale(gid, 5, on="2026-11-02")["session"] == 1
    assert engine.scale(gid, 5, on="2026-11-03")["session"] is None
    assert engine.scale(gid, 6, on="2026-11-23")["session"] == 5  # the first that day
    assert engine.scale(gid, 6, on="2026-11-09", session=3)["session"] == 3
    assert [r["session"] for r in engine.ratings(gid, order="oldest")] == [1, None, 2, 3, 5]
    client = engine.get_client(cid)
    assert client["session_count"] == 5
    assert client["last_session"] == {"number": 6, "on": "2026-11-23"}


# -- the CLI ----------------------------------------------------------------------------------------

ACTOR = "therapist:lee"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store that outlives one invocation."""
    return make_store_url(str(request.param), tmp_path)


def run(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--store", url, "--as", ACTOR, *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def data(url: str, *args: str) -> Any:
    return json.loads(run(url, *args, "--json").stdout)


def _rows(text: str) -> list[int]:
    """The versions of a series table's rows (its first column), in the order printed."""
    return [int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s+\d{4}-\d{2}-\d{2}", text, re.M)]


def _hint(text: str) -> str | None:
    found = re.findall(r"^\s*… (?:\d+ )?more: goalengine (.+)$", text, re.M)
    assert len(found) <= 1, text
    return found[0].strip() if found else None


def _seed(url: str, ratings: int = 9) -> tuple[str, str, list[dict[str, Any]]]:
    """A client with 3 sessions and a goal rated ``ratings`` times by two raters, reviewed twice."""
    with GoalEngine(url, actor=ACTOR) as engine:
        alex, goal = _goal(engine)
        for day in ("2026-10-01", "2026-10-08", "2026-10-15"):
            engine.record_session(alex["id"], on=day)
        recorded = []
        for i in range(ratings):
            recorded.append(
                engine.scale(
                    goal["id"],
                    i % 11,
                    rater="client" if i % 3 == 0 else "therapist",
                    on=date(2026, 10, 1) + timedelta(days=(i * 5) % 17),
                    note=f"week {i}" if i % 2 else None,
                )
            )
        engine.record_goal_review(goal["id"], "keep", value_alignment=7, on="2026-10-08")
        engine.record_goal_review(goal["id"], "adjust", on="2026-10-02")
    return alex["id"], goal["id"], recorded


def test_goal_ratings_in_text_and_json_and_by_rater(url: str) -> None:
    _, gid, recorded = _seed(url)
    with GoalEngine(url) as engine:
        newest = engine.ratings(gid)
        by_client = engine.ratings(gid, rater="client")
        oldest_limited = engine.ratings(gid, order="oldest", limit=50)
    assert newest == sorted(recorded, key=_happened, reverse=True)

    assert data(url, "goal", "ratings", gid) == newest
    assert data(url, "goal", "ratings", gid[:8], "--rater", "client") == by_client
    assert data(url, "goal", "ratings", gid, "--oldest-first") == oldest_limited
    assert data(url, "goal", "ratings", gid, "--since", "2026-10-05", "--until", "2026-10-10") == [
        r for r in newest if "2026-10-05" <= r["day"] <= "2026-10-10"
    ]

    text = run(url, "goal", "ratings", gid).stdout
    assert text.splitlines()[0].split() == ["V", "DATE", "RATER", "SCALE", "SESSION", "NOTE"]
    assert _rows(text) == [r["version"] for r in newest]
    assert _hint(text) is None  # everything fits on one page
    assert "week 1" in text
    assert "client" in text
    text = run(url, "goal", "ratings", gid, "--rater", "client").stdout
    assert _rows(text) == [r["version"] for r in by_client]
    assert {line.split()[2] for line in text.splitlines()[1:]} == {"client"}
    assert _rows(run(url, "goal", "ratings", gid, "--oldest-first").stdout) == [
        r["version"] for r in newest[::-1]
    ]


def test_goal_ratings_pages_with_after(url: str) -> None:
    _, gid, recorded = _seed(url)
    newest = sorted(recorded, key=_happened, reverse=True)
    for flags, want in (([], newest), (["--oldest-first"], newest[::-1])):
        seen: list[int] = []
        after: list[str] = []
        for _ in range(10):
            text = run(url, "goal", "ratings", gid, "--limit", "4", *flags, *after).stdout
            page = _rows(text)
            seen += page
            hint = _hint(text)
            if hint is None:
                break
            # The hint names the version to continue after: the last one of this page.
            assert hint.endswith(f"--after {page[-1]}")
            after = ["--after", str(page[-1])]
        assert seen == [r["version"] for r in want]
        # The same pages as JSON.
        first = data(url, "goal", "ratings", gid, "--limit", "4", *flags)
        second = data(
            url,
            "goal",
            "ratings",
            gid,
            "--limit",
            "4",
            *flags,
            "--after",
            str(first[-1]["version"]),
        )
        assert [r["version"] for r in first + second] == seen[:8]


def test_following_the_more_hint_keeps_the_order(url: str) -> None:
    """The hint line is a command to copy: it must keep the order (and the rater, below) of the
    listing it continues, or it lists other rows."""
    _, gid, recorded = _seed(url)
    oldest = sorted(recorded, key=_happened)
    text = run(url, "goal", "ratings", gid, "--oldest-first", "--limit", "3").stdout
    assert _rows(text) == [r["version"] for r in oldest[:3]]
    hint = _hint(text)
    assert hint is not None
    following = run(url, *hint.split()).stdout
    rows, rest = _rows(following), [r["version"] for r in oldest[3:]]
    assert rows, (hint, following)
    assert rows == rest[: len(rows)], (hint, following)


def test_following_the_more_hint_keeps_the_rater(url: str) -> None:
    _, gid, recorded = _seed(url)
    mine = [r for r in sorted(recorded, key=_happened, reverse=True) if r["rater"] == "therapist"]
    text = run(url, "goal", "ratings", gid, "--rater", "therapist", "--limit", "2").stdout
    hint = _hint(text)
    assert hint is not None
    following = run(url, *hint.split()).stdout
    rows, rest = _rows(following), [r["version"] for r in mine[2:]]
    assert rows, (hint, following)
    assert rows == rest[: len(rows)], (hint, following)


def test_goal_reviews_and_session_list_in_the_cli(url: str) -> None:
    cid, gid, _ = _seed(url)
    with GoalEngine(url) as engine:
        reviews = engine.reviews(gid)
        sessions = engine.sessions(cid)
    assert [r["outcome"] for r in reviews] == ["keep", "adjust"]
    assert data(url, "goal", "reviews", gid) == reviews
    assert data(url, "goal", "reviews", gid, "--oldest-first") == reviews[::-1]
    text = run(url, "goal", "reviews", gid).stdout
    assert text.splitlines()[0].split() == ["V", "DATE", "OUTCOME", "VALUES", "NOTE"]
    assert _rows(text) == [r["version"] for r in reviews]
    assert "7/10" in text

    assert data(url, "session", "list", cid) == sessions
    text = run(url, "session", "list", cid, "--limit", "2").stdout
    lines = text.splitlines()
    assert lines[0].split() == ["#", "DATE", "V"]
    assert [line.split()[:2] for line in lines[1:3]] == [["3", "2026-10-15"], ["2", "2026-10-08"]]
    assert lines[3] == f"… more: goalengine session list {cid} --after {sessions[1]['version']}"
    rest = run(url, "session", "list", cid, "--after", str(sessions[1]["version"])).stdout
    assert [line.split()[:2] for line in rest.splitlines()[1:]] == [["1", "2026-10-01"]]
    assert _hint(rest) is None
    assert (
        data(url, "session", "list", cid, "--limit", "2", "--oldest-first") == (sessions[::-1][:2])
    )


def test_goal_show_lists_the_latest_ten_ratings_and_points_to_the_rest(url: str) -> None:
    _, gid, recorded = _seed(url, ratings=15)
    newest = sorted(recorded, key=_happened, reverse=True)
    text = run(url, "goal", "show", gid).stdout
    ratings_part = text.split("Ratings", 1)[1].split("Reviews", 1)[0]
    assert "(the latest 10 of 15)" in ratings_part
    # The ten latest by when they happened, the oldest of them first.
    assert _rows(ratings_part) == [r["version"] for r in newest[:10]][::-1]
    assert _hint(ratings_part) == f"goal ratings {gid[:8]}"
    assert "… 5 more: goalengine goal ratings" in ratings_part
    reviews_part = text.split("Reviews", 1)[1]
    assert len(_rows(reviews_part)) == 2
    assert "more:" not in reviews_part

    shown = data(url, "goal", "show", gid)
    assert shown["rating_count"] == 15
    assert shown["review_count"] == 2
    assert "ratings" not in shown
    assert "reviews" not in shown
    assert shown["scale"] == newest[0]["value"]

    # A goal with a few ratings lists them all, with no pointer.
    with GoalEngine(url, actor=ACTOR) as engine:
        _, small = _goal(engine, "Jo")
        engine.scale(small["id"], 3)
        engine.scale(small["id"], 4)
    text = run(url, "goal", "show", small["id"]).stdout
    assert len(_rows(text.split("Ratings", 1)[1])) == 2
    assert "more:" not in text
    assert "latest 10" not in text


def test_bad_paging_options_are_usage_errors_and_change_nothing(url: str) -> None:
    cid, gid, _ = _seed(url)
    with GoalEngine(url) as engine:
        before = engine.fingerprint()
    for args in (
        ["goal", "ratings", gid, "--limit", "0"],
        ["goal", "ratings", gid, "--limit", "1001"],
        ["goal", "ratings", gid, "--limit", "x"],
        ["goal", "ratings", gid, "--after", "0"],
        ["goal", "ratings", gid, "--rater", "auditor"],
        ["goal", "ratings", gid, "--since", "last week"],
        ["goal", "ratings", gid, "--since", "2026-10-10", "--until", "2026-10-01"],
        ["goal", "reviews", gid, "--limit", "0"],
        ["session", "list", cid, "--limit", "0"],
    ):
        result = run(url, *args, code=2)
        assert result.stderr.strip(), args
    assert "--limit" in run(url, "goal", "ratings", gid, "--limit", "0", code=2).stderr
    # A cursor at a version that is no rating: nothing to continue after.
    result = run(url, "goal", "ratings", gid, "--after", "1", code=1)
    assert "version 1" in result.stderr
    with GoalEngine(url) as engine:
        assert engine.fingerprint() == before

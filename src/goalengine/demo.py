"""A realistic case to explore goalengine with: ``goalengine demo`` or :func:`build_demo`.

Sam, a parent with social anxiety, works on "Build a social life I enjoy" over ten weekly
sessions: the long-term goal is chained into the five-step ladder of the guide, rated each week by
Sam (and now and then by the therapist), revised once with its reason, reviewed at the fourth and
eighth sessions; the first step is achieved, and a separate goal is abandoned with its reason.

The case is built through the public :class:`~goalengine.GoalEngine` API only, dated in the past
relative to today (``on=``), and only once per store: the client's name is the marker that finds
an existing demo, so running it again records nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goalengine.engine import GoalEngine

#: The demo client's name: the stable marker :func:`build_demo` finds an existing demo by.
DEMO_THERAPIST = "dr.jordan.lee"
DEMO_CLIENT = "Sam Rivera (demo)"
LONG_TERM_TITLE = "Build a social life I enjoy"
ABANDONED_TITLE = "Join the Thursday evening running club"
SESSIONS = 10

#: The ladder of the guide: (title, count target, what 0 looks like, what 10 looks like).
LADDER = (
    (
        "Stay 15 minutes at a social gathering",
        "gatherings_15min>=1/week",
        "I leave as soon as I arrive, or I do not go",
        "I stay the full 15 minutes and notice the anxiety peak and pass",
    ),
    (
        "Start one conversation at a gathering",
        "conversations>=1/week",
        "I wait for someone to talk to me and keep it to yes or no",
        "I start a conversation with someone I do not know well",
    ),
    (
        "Stay at a gathering for an hour",
        "hour_long_stays>=1/week",
        "I leave after 15 minutes",
        "I stay an hour or more",
    ),
    (
        "Share something personal with someone",
        "personal_shares>=1/week",
        "I only talk about the weather and work",
        "I tell someone something that matters to me",
    ),
    (
        "Attend a gathering without a safety behaviour",
        "no_safety_behaviour>=1/week",
        "I stay on my phone, by the door, with a drink in hand",
        "I go without my phone and stand where the conversation is",
    ),
)

# Weekly 0-10 ratings of the long-term goal by Sam, with what moved the number.
WEEKLY = (
    (2, "Skipped my cousin's birthday; weekends feel empty."),
    (2, "Went to the school fair for 10 minutes, left when it got busy."),
    (3, "Stayed 15 minutes at the neighbours' barbecue. Heart racing, but it passed."),
    (3, "Rough week at work; no plans."),
    (4, "Said hello to two parents at pick-up and asked about their weekend."),
    (3, "Cancelled on a friend. Disappointed in myself, but I told her why."),
    (5, "Went to the book club and talked to one person about the book."),
    (5, "Stayed an hour at the park meet-up with the kids."),
    (6, "Had coffee with Maya; it felt easier than I predicted."),
    (6, "Invited a friend over for the first time in a year."),
)
THERAPIST = {1: (2, "Avoidance is broad; motivation high."), 5: (4, None), 9: (5, None)}
STEP_ONE = (
    (3, "Stayed 5 minutes, then left."),
    (5, "Made it to 12 minutes at the barbecue."),
    (8, "Full 15 minutes twice this week."),
    (9, "15 minutes feels doable now."),
)


def _find(engine: GoalEngine) -> dict[str, Any] | None:
    client = next((c for c in engine.list_clients() if c["name"] == DEMO_CLIENT), None)
    if client is None:
        return None
    goals = engine.list_goals(client=client["id"], include_voided=True)
    main = next((g for g in goals if g["title"] == LONG_TERM_TITLE and g["depth"] == 0), None)
    other = next((g for g in goals if g["title"] == ABANDONED_TITLE), None)
    return {
        "created": False,
        "client_id": client["id"],
        "goal_id": main["id"] if main else None,
        "steps": list(main["steps"]) if main else [],
        "abandoned_goal_id": other["id"] if other else None,
    }


def build_demo(engine: GoalEngine, *, today: date | None = None) -> dict[str, Any]:
    """Build the demo case in ``engine``'s store, once.

    Returns ``{"created", "client_id", "goal_id", "steps", "abandoned_goal_id"}``; ``created`` is
    False (and nothing is recorded) when the store already holds the demo client.
    """
    found = _find(engine)
    if found is not None:
        return found
    today = today or datetime.now().astimezone().date()
    first = today - timedelta(weeks=SESSIONS - 1)
    days = [first + timedelta(weeks=i) for i in range(SESSIONS)]

    client = engine.add_client(
        DEMO_CLIENT,
        modality="cbt",
        values=["friendship", "being a present parent", "curiosity"],
        review_every=4,
    )
    cid = client["id"]
    engine.record_session(cid, on=days[0])
    goal = engine.create_goal(
        cid,
        LONG_TERM_TITLE,
        horizon="long",
        kind="outcome",
        domains=["behavioral", "emotional"],
        values=["friendship", "being a present parent"],
        description="Feel at ease enough with people to have friends I see, and to show my "
        "children that meeting people can be good.",
        target="gad7<5",
        due=first + timedelta(weeks=26),
        anchor_low="I turn down every invitation and spend weekends alone",
        anchor_high="I see friends most weeks and look forward to it",
    )
    gid = goal["id"]
    steps = []
    for title, target, low, high in LADDER:
        step = engine.chain(gid, title, target=target, anchor_low=low, anchor_high=high)
        steps.append(step["id"])
    other = engine.create_goal(
        cid,
        ABANDONED_TITLE,
        horizon="short",
        kind="process",
        domains=["behavioral"],
        values=["friendship"],
        target="club_runs>=1/week",
        authorship="client",
    )

    for week, day in enumerate(days, 1):
        if week > 1:
            engine.record_session(cid, on=day)
        value, note = WEEKLY[week - 1]
        engine.scale(gid, value, rater="client", note=note, on=day)
        if week in THERAPIST:
            t_value, t_note = THERAPIST[week]
            engine.scale(gid, t_value, rater="therapist", note=t_note, on=day)
        if 2 <= week <= 5:
            s_value, s_note = STEP_ONE[week - 2]
            engine.scale(steps[0], s_value, rater="client", note=s_note, on=day)
        if week == 3:
            engine.abandon(
                other["id"],
                reason="Thursday evenings are the children's bath and bedtime; Sam chose the "
                "Saturday park meet-up instead, which serves both of Sam's top values.",
            )
        if week == 4:
            engine.record_goal_review(
                gid,
                "adjust",
                value_alignment=8,
                note="Still the right goal; the GAD-7 target was set too far for now.",
                on=day,
            )
            engine.revise(
                gid,
                target="gad7<8",
                reason="GAD-7 under 5 by spring was out of reach alongside parenting two young "
                "children; under 8 (mild) is a change Sam believes in and can build on.",
            )
        if week == 5:
            engine.achieve(steps[0], note="Stayed 15 minutes at three gatherings in a row.")
        if week >= 6:
            engine.scale(steps[1], min(3 + week - 6, 7), rater="client", on=day)
        if week == 8:
            engine.record_goal_review(
                gid,
                "keep",
                value_alignment=9,
                note="Sam links each step to friendship; keep the ladder as it is.",
                on=day,
            )
    return {
        "created": True,
        "client_id": cid,
        "goal_id": gid,
        "steps": steps,
        "abandoned_goal_id": other["id"],
    }

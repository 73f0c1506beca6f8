"""How goals, clients and their series read on a terminal (the ``--json`` shapes are the
engine's results, printed as they are)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from goalengine_cli import output as out

#: How many ratings and reviews ``goal show`` lists (the rest are a ``goal ratings`` away).
SHOWN = 10


def render_goal_list(goals: Sequence[Mapping[str, Any]], names: Mapping[str, str] | None) -> None:
    """Goals as a table: steps indented under their parent with their position.

    ``names`` (client id → name) adds a CLIENT column when the goals are of several clients.
    """
    if not goals:
        click.echo("No goals.")
        return
    headers = ["ID", "GOAL", "STATUS", "SCALE", "TARGET", "DUE"]
    if names is not None:
        headers.insert(1, "CLIENT")
    rows = []
    for g in goals:
        depth = int(g.get("depth") or 0)
        label = "  " * depth + (f"{g['position']}. " if g.get("position") else "")
        row = [
            out.short(g["id"]),
            label + out.clip(g["title"], 52 - len(label)),
            g["status"],
            out.bar(g.get("scale")),
            g.get("target") or "",
            g.get("due") or "",
        ]
        if names is not None:
            name = names.get(g["client_id"], out.short(g["client_id"])) if not depth else ""
            row.insert(1, out.clip(name, 24))
        rows.append(row)
    out.table(headers, rows)


def render_goal(
    goal: Mapping[str, Any],
    client: Mapping[str, Any] | None = None,
    ratings: Sequence[Mapping[str, Any]] = (),
    reviews: Sequence[Mapping[str, Any]] = (),
) -> None:
    """A goal, readable: what it is, its target and anchors, its latest ratings (``ratings``,
    newest first, as :meth:`GoalEngine.ratings` gives them), reviews and steps."""
    out.heading(goal["title"])
    domains = ", ".join(goal["domains"])
    anchors = goal.get("anchors") or {}
    target = goal.get("target") or ""
    if target and goal.get("due"):
        target += f" by {goal['due']}"
    elif goal.get("due"):
        target = f"due {goal['due']}"
    status = goal["status"] + (f" — {goal['status_note']}" if goal.get("status_note") else "")
    who = f"{client['name']} · {out.short(goal['client_id'])}" if client else goal["client_id"]
    agreed = "client agreed" if goal.get("client_agreed") else "client has not agreed"
    latest = goal.get("latest_ratings") or {}
    by_rater = ", ".join(f"{rater} {r['value']}" for rater, r in latest.items())
    out.fields(
        [
            ("id", goal["id"]),
            ("client", who),
            ("status", status),
            ("kind", f"{goal['horizon']}-term {goal['kind']} goal · {domains}"),
            ("step of", out.short(goal.get("parent_id")) if goal.get("parent_id") else ""),
            ("description", goal.get("description")),
            ("values", "; ".join(goal.get("values") or [])),
            ("target", target),
            ("scale", out.bar(goal.get("scale"))),
            ("latest", f"{by_rater}" if len(latest) > 1 else ""),
            ("0 means", anchors.get("low")),
            ("10 means", anchors.get("high")),
            ("modality", goal.get("modality")),
            ("authored", f"{goal.get('authorship')}, {agreed}"),
            (
                "version",
                f"{goal['version']} · created {out.local_time(goal['created_at'])} by "
                f"{goal['created_by']} · changed {out.local_time(goal['updated_at'])}",
            ),
        ]
    )
    _series(
        "Ratings",
        ratings,
        int(goal.get("rating_count") or 0),
        f"goalengine goal ratings {out.short(goal['id'])}",
        render_ratings,
    )
    _series(
        "Reviews",
        reviews,
        int(goal.get("review_count") or 0),
        f"goalengine goal reviews {out.short(goal['id'])}",
        render_reviews,
    )
    if goal.get("steps"):
        click.echo()
        out.heading("Steps")
        by_id = {g["id"]: g for g in (client or {}).get("goals", [])}
        rows = []
        for n, step_id in enumerate(goal["steps"], 1):
            step = by_id.get(step_id, {})
            rows.append(
                [
                    f"{n}.",
                    out.short(step_id),
                    step.get("status", ""),
                    out.bar(step.get("scale")) if step else "",
                    step.get("title", ""),
                ]
            )
        out.table(["#", "ID", "STATUS", "SCALE", "STEP"], rows, indent=2)


def _series(
    title: str, items: Sequence[Mapping[str, Any]], total: int, command: str, render: Any
) -> None:
    if not items:
        return
    click.echo()
    out.heading(title if total <= len(items) else f"{title} (the latest {len(items)} of {total})")
    render(list(reversed(items)), indent=2)
    if total > len(items):
        click.echo(f"  … {total - len(items)} more: {command}")


def _when(item: Mapping[str, Any]) -> str:
    return str(item.get("occurred_on") or out.local_date(item["recorded_at"]))


def render_ratings(ratings: Sequence[Mapping[str, Any]], indent: int = 0) -> None:
    out.table(
        ["V", "DATE", "RATER", "SCALE", "SESSION", "NOTE"],
        [
            [
                r["version"],
                _when(r),
                r["rater"],
                out.bar(r["value"]),
                r.get("session") or "",
                r.get("note") or "",
            ]
            for r in ratings
        ],
        indent=indent,
        empty="No ratings.",
    )


def render_reviews(reviews: Sequence[Mapping[str, Any]], indent: int = 0) -> None:
    out.table(
        ["V", "DATE", "OUTCOME", "VALUES", "NOTE"],
        [
            [
                r["version"],
                _when(r),
                r["outcome"],
                "" if r.get("value_alignment") is None else f"{r['value_alignment']}/10",
                r.get("note") or "",
            ]
            for r in reviews
        ],
        indent=indent,
        empty="No reviews.",
    )


def _goal_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "none"


def render_client_list(clients: Sequence[Mapping[str, Any]]) -> None:
    out.table(
        ["ID", "NAME", "MODALITY", "VALUES", "SESSIONS", "LAST", "GOALS"],
        [
            [
                out.short(c["id"]),
                out.clip(c["name"], 30),
                c.get("modality") or "",
                out.clip("; ".join(c.get("values") or []), 40),
                c.get("session_count", 0),
                (c.get("last_session") or {}).get("on") or "",
                _goal_counts(c.get("goals") or {}),
            ]
            for c in clients
        ],
        empty="No clients yet: add one with `goalengine client add NAME`.",
    )


def render_client(c: Mapping[str, Any]) -> None:
    out.heading(c["name"])
    count, last = int(c.get("session_count") or 0), c.get("last_session")
    review = f"every {c['review_every']} sessions" + (" (due now)" if c.get("review_due") else "")
    sessions = f"{count}, the last (no. {last['number']}) on {last['on']}" if last else "none yet"
    out.fields(
        [
            ("id", c["id"]),
            ("modality", c.get("modality")),
            ("values", "  ".join(f"{i}. {v}" for i, v in enumerate(c.get("values") or [], 1))),
            ("review", review),
            ("sessions", sessions),
            ("added", f"{out.local_time(c['created_at'])} by {c['created_by']}"),
        ]
    )
    click.echo()
    out.heading("Goals")
    render_goal_list(c.get("goals") or [], None)

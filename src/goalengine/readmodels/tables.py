"""The read-model tables: their names and definitions.

``goals`` and ``clients`` hold one row per aggregate (its state as JSON in ``doc``, plus the
columns lists filter on). ``ratings``, ``reviews`` and ``sessions`` hold one row per event: the
series an aggregate never keeps. Each series row carries the aggregate version, the recording time
and when it happened (``day``: the date given with ``--on``, else the UTC day it was recorded).
"""

from __future__ import annotations

GOALS = "goalengine_goals"
CLIENTS = "goalengine_clients"
RATINGS = "goalengine_ratings"
REVIEWS = "goalengine_reviews"
SESSIONS = "goalengine_sessions"

#: Every read-model table: what ``admin rebuild`` empties and refills, and what a dump compares.
TABLES = (GOALS, CLIENTS, RATINGS, REVIEWS, SESSIONS)

#: The column each table's rows are ordered by in a dump (a stable, total order).
DUMP_ORDER = {
    GOALS: "id",
    CLIENTS: "id",
    RATINGS: "goal_id, version",
    REVIEWS: "goal_id, version",
    SESSIONS: "client_id, version",
}

_SUMMARY = (
    "id TEXT PRIMARY KEY, client_id TEXT NOT NULL, status TEXT NOT NULL, "
    "created_at TEXT NOT NULL, doc TEXT NOT NULL"
)
_HAPPENED = "day TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL"


def ddl() -> list[str]:
    """``CREATE … IF NOT EXISTS`` statements, written for :class:`goalengine.sqldialect.Dialect`
    (``{p}`` before each table name). Index names carry no prefix: PostgreSQL puts an index in
    its table's schema."""
    return [
        f"CREATE TABLE IF NOT EXISTS {{p}}{GOALS} ({_SUMMARY})",
        f"CREATE TABLE IF NOT EXISTS {{p}}{CLIENTS} ({_SUMMARY})",
        f"CREATE INDEX IF NOT EXISTS goalengine_goals_by_client ON {{p}}{GOALS} "
        "(client_id, created_at)",
        f"CREATE TABLE IF NOT EXISTS {{p}}{RATINGS} ("
        "goal_id TEXT NOT NULL, version BIGINT NOT NULL, client_id TEXT NOT NULL, "
        "rater TEXT NOT NULL, value INTEGER NOT NULL, note TEXT, session INTEGER, "
        f"occurred_on TEXT, {_HAPPENED}, PRIMARY KEY (goal_id, version))",
        f"CREATE INDEX IF NOT EXISTS goalengine_ratings_by_day ON {{p}}{RATINGS} "
        "(goal_id, day, recorded_at, version)",
        f"CREATE TABLE IF NOT EXISTS {{p}}{REVIEWS} ("
        "goal_id TEXT NOT NULL, version BIGINT NOT NULL, client_id TEXT NOT NULL, "
        "outcome TEXT NOT NULL, value_alignment INTEGER, note TEXT, occurred_on TEXT, "
        f"{_HAPPENED}, PRIMARY KEY (goal_id, version))",
        f"CREATE INDEX IF NOT EXISTS goalengine_reviews_by_day ON {{p}}{REVIEWS} "
        "(goal_id, day, recorded_at, version)",
        f"CREATE TABLE IF NOT EXISTS {{p}}{SESSIONS} ("
        "client_id TEXT NOT NULL, version BIGINT NOT NULL, number INTEGER NOT NULL, "
        f"{_HAPPENED}, PRIMARY KEY (client_id, version))",
        f"CREATE INDEX IF NOT EXISTS goalengine_sessions_by_day ON {{p}}{SESSIONS} "
        "(client_id, day, number)",
    ]

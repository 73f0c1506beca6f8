"""Reading goals: one goal now or at any version, lists in tree order, history and the series."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from goalengine.aggregates import Goal
from goalengine.engine import checks
from goalengine.engine.core import EngineCore
from goalengine.engine.series import series_query
from goalengine.errors import InvalidInput, NotFound
from goalengine.results import (
    GoalEntry,
    GoalState,
    HistoryEntry,
    Order,
    RaterName,
    RatingRow,
    ReviewRow,
    StatusName,
)
from goalengine.values import Role, Status, parse_enum


class GoalReadsArea(EngineCore):
    """Queries on goals: read models for lists and series, the event log for history."""

    def get_goal(
        self,
        goal: str | UUID,
        *,
        version: int | None = None,
        as_of: datetime | date | str | None = None,
    ) -> GoalState:
        """A goal's state (with the latest rating per rater, the counts and the last review);
        ``version`` gives the state just after that event, ``as_of`` (a date or date-time; a
        bare date means the end of that local day) the state current at that moment."""
        goal = checks.ref(goal, "goal")
        version = checks.opt_integer(version, "version", low=1)
        as_of = checks.moment(as_of, "as_of")
        if as_of is not None:
            if version is not None:
                raise InvalidInput("give either a version or --as-of, not both")
            from goalengine.audit.asof import resolve_version

            version = resolve_version(self._store, self._read.resolve("goal", goal), "goal", as_of)
        g = self._goal(goal)
        if version is not None:
            if version > g.version:
                raise NotFound(
                    f"goal {str(g.id)[:8]} has {g.version} version(s); there is no version {version}"
                )
            g = self._goal(g.id, version=version)
        return g.state()

    def list_goals(
        self,
        *,
        client: str | UUID | None = None,
        status: Status | StatusName | None = None,
        include_voided: bool = False,
    ) -> list[GoalEntry]:
        """Goals from the read model: each client's top-level goals in creation order (with
        ``client``: the clinician's order from ``prioritize_client`` first), each followed by its
        steps in chain order (``depth`` 1). Voided goals are left out unless asked for by
        ``status="voided"`` or ``include_voided``.

        With ``client``, the open top-level goals come in exactly the order of
        :meth:`prioritized_goals` (the modality's plugin, e.g. DBT's hierarchy, else the
        clinician's order, then the oldest), each with its ``priority_reason``."""
        client = checks.opt_ref(client, "client")
        status = checks.opt_choice(status, "status", Status)
        include_voided = checks.boolean(include_voided, "include_voided")
        wanted = None if status is None else parse_enum(Status, status, "status")
        if client is None:
            return self._read.goal_tree(status=wanted, include_voided=include_voided)
        from goalengine.engine.rules import priority_order

        c = self._client(client)
        view = self._client_view(c)
        order = priority_order(self.plugins, view, list(view.open_goals()))
        reasons = {e["id"]: e["reason"] for e in order}
        entries = self._read.goal_tree(
            client=c.id, status=wanted, include_voided=include_voided, order=list(reasons)
        )
        for entry in entries:
            entry["priority_reason"] = reasons.get(entry["id"])
        return entries

    def history(self, goal: str | UUID) -> list[HistoryEntry]:
        """Every event of a goal in order: version, type, recorded time, actor, what changed."""
        goal = checks.ref(goal, "goal")
        return self._history("goal", Goal, goal)

    def _goal_id(self, goal: str | UUID) -> UUID:
        goal = checks.ref(goal, "goal")
        g_id = self._read.resolve("goal", goal)
        if self._read.doc("goal", g_id) is None:
            raise NotFound(f"no goal with id {g_id}", id=str(g_id))
        return g_id

    def ratings(
        self,
        goal: str | UUID,
        *,
        rater: Role | RaterName | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        limit: int | None = None,
        after: int | None = None,
        version: int | None = None,
        as_of: datetime | date | str | None = None,
        order: Order = "newest",
    ) -> list[RatingRow]:
        """A goal's ratings from the read model, ordered by when they happened (then recording
        time, then version; a rating without a date counts on the day it was recorded), newest
        first unless ``order="oldest"``. ``since``/``until`` are days (both included), ``after``
        the version a previous page ended on, ``version``/``as_of`` the ratings recorded up to
        that version or moment, ``limit`` at most that many (1 to 1000)."""
        query = series_query(
            rater=rater,
            since=since,
            until=until,
            limit=limit,
            after=after,
            version=version,
            as_of=as_of,
            order=order,
        )
        return self._read.ratings(self._goal_id(goal), **query)

    def reviews(
        self,
        goal: str | UUID,
        *,
        since: date | str | None = None,
        until: date | str | None = None,
        limit: int | None = None,
        after: int | None = None,
        version: int | None = None,
        as_of: datetime | date | str | None = None,
        order: Order = "newest",
    ) -> list[ReviewRow]:
        """A goal's periodic reviews from the read model, ordered and paged like
        :meth:`ratings`."""
        query = series_query(
            since=since,
            until=until,
            limit=limit,
            after=after,
            version=version,
            as_of=as_of,
            order=order,
        )
        return self._read.reviews(self._goal_id(goal), **query)

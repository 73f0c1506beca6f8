"""Building the frozen views hooks receive, from specs and read-model documents.

The engine hands these functions what it already has (a goal's spec, the client's read-model rows);
nothing here touches the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from goalengine.modalities.types import ClientView, GoalView
from goalengine.values import Domain, GoalSpec, Horizon, Kind, ScaleAnchors, Status, Target


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def view_from_doc(
    doc: Mapping[str, Any], client_modality: str | None, by_id: Mapping[str, Mapping[str, Any]]
) -> GoalView:
    """A goal's view from its read-model document (steps looked up in ``by_id``)."""
    steps = tuple(
        view_from_doc(by_id[s], client_modality, {}) for s in doc.get("steps", []) if s in by_id
    )
    return GoalView(
        id=doc["id"],
        client_id=doc["client_id"],
        title=doc["title"],
        horizon=Horizon(doc["horizon"]),
        kind=Kind(doc["kind"]),
        domains=tuple(Domain(d) for d in doc["domains"]),
        status=Status(doc["status"]),
        description=doc.get("description"),
        values=tuple(doc.get("values", ())),
        anchors=ScaleAnchors(**(doc.get("anchors") or {})),
        target=Target.parse(doc["target"]) if doc.get("target") else None,
        due=date.fromisoformat(doc["due"]) if doc.get("due") else None,
        client_agreed=bool(doc.get("client_agreed", True)),
        modality=doc.get("modality") or client_modality,
        attributes=doc.get("attributes") or {},
        parent_id=doc.get("parent_id"),
        steps=steps,
        created_at=_dt(doc.get("created_at")),
        updated_at=_dt(doc.get("updated_at")),
    )


def view_from_spec(
    spec: GoalSpec,
    *,
    client_id: str,
    client_modality: str | None,
    goal_id: str | None,
    status: Status,
    parent_id: str | None,
    steps: Sequence[GoalView] = (),
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> GoalView:
    """The view of a goal as it will be once the command is recorded."""
    return GoalView(
        id=goal_id,
        client_id=client_id,
        title=spec.title,
        horizon=spec.horizon,
        kind=spec.kind,
        domains=spec.domains,
        status=status,
        description=spec.description,
        values=spec.values,
        anchors=spec.anchors or ScaleAnchors(),
        target=spec.target,
        due=spec.due,
        client_agreed=spec.client_agreed,
        modality=spec.modality or client_modality,
        attributes=spec.attributes,
        parent_id=parent_id,
        steps=tuple(steps),
        created_at=created_at,
        updated_at=updated_at,
    )


def client_view(
    state: Mapping[str, Any], docs: Iterable[Mapping[str, Any]], exclude: str | None = None
) -> ClientView:
    """A client's view from its state and the read-model documents of its goals."""
    docs = [d for d in docs if d["status"] != Status.VOIDED.value]
    by_id = {d["id"]: d for d in docs}
    return ClientView(
        id=state["id"],
        name=state["name"],
        modality=state.get("modality"),
        values=tuple(state.get("values", ())),
        goals=tuple(
            view_from_doc(d, state.get("modality"), by_id) for d in docs if d["id"] != exclude
        ),
        priorities=tuple(state.get("priorities", ())),
        sessions=int(state.get("session_count", 0)),
    )

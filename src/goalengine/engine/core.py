"""The engine's core: opening the store, loading, saving and id lookup, and the rule check.

Every area of :class:`goalengine.GoalEngine` (clients, goals, rules, audit, admin) is a subclass of
:class:`EngineCore` and does get → decide → save through the few methods here: ``_goal`` and
``_client`` load an aggregate, the aggregate decides, ``_save`` records everything changed in one
transaction (events, read-model rows and chain links together), and ``_evaluate`` asks the
modality rules before anything is decided.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import IntegrityError, MapperDeserialisationError, PersistenceError

from goalengine.aggregates import Client, Goal
from goalengine.audit.entries import history_entry
from goalengine.config import default_actor, parse_store_url
from goalengine.errors import (
    ConcurrentWrite,
    EngineClosed,
    GoalEngineError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    StoreError,
)
from goalengine.modalities.manager import PluginManager
from goalengine.modalities.types import ClientView
from goalengine.modalities.views import client_view, view_from_doc, view_from_spec
from goalengine.readmodels import ReadModels, rebuild
from goalengine.results import HistoryEntry
from goalengine.store import FORMAT_VERSION, Store, missing_store
from goalengine.values import Actor, Finding, GoalSpec, Status

ActorLike = Actor | str | None

#: The rule action each status change is checked as.
ACTIONS = {
    Status.PAUSED: "pause",
    Status.ACTIVE: "resume",
    Status.ACHIEVED: "achieve",
    Status.ABANDONED: "abandon",
    Status.VOIDED: "void",
}


def as_actor(value: ActorLike) -> Actor | None:
    if value is None or isinstance(value, Actor):
        return value
    return Actor.parse(value)


def installed_plugins() -> PluginManager:
    """A manager of every installed plugin (built-ins first), whatever ``GOALENGINE_PLUGINS``
    says: the engine reads no environment (the CLI turns that variable into
    ``make_manager(only=...)``)."""
    from importlib.metadata import entry_points

    from goalengine.modalities.discovery import BUILTIN_PLUGINS
    from goalengine.modalities.hookspecs import ENTRY_POINT_GROUP
    from goalengine.modalities.manager import make_manager

    others = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} - set(BUILTIN_PLUGINS)
    return make_manager(only=[*BUILTIN_PLUGINS, *sorted(others)])


class EngineCore:
    """The store, the read models, the plugins and get → decide → save."""

    def __init__(
        self,
        store: str | None = None,
        *,
        actor: ActorLike = None,
        plugins: PluginManager | None = None,
        create: bool = True,
    ) -> None:
        from goalengine.config import data_dir, default_store_url, private_dir
        from goalengine.engine import checks

        self._closed = True  # until the store is open
        if store is not None and not isinstance(store, str):
            raise checks.wrong_type("store", "a store URL (text)", store)
        if plugins is not None and not isinstance(plugins, PluginManager):
            raise checks.wrong_type("plugins", "a PluginManager (make_manager(...))", plugins)
        create = checks.boolean(create, "create")
        actor = checks.actor(actor)
        url = store or default_store_url()
        config = parse_store_url(url)
        if store is None and config.path is not None:
            if create:
                private_dir(data_dir())
            elif not config.path.exists():
                raise missing_store(config)  # not "the data directory does not exist"
        # No actor: reads work, and every command that would record an event is refused.
        self.actor: Actor | None = as_actor(actor)
        self.store_url = config.display
        self._open_store = Store(config, create=create)
        self._open_read = ReadModels(self._open_store)
        self._closed = False
        # None: every installed plugin (entry points), loaded on first use.
        self._plugin_manager = plugins
        if self._store.upgraded_from is not None:
            self._upgrade_read_models()

    def _upgrade_read_models(self) -> None:
        """A store of format 2 kept every rating in the goal's row: rebuild the read models
        from the events (the series tables are new), then record the current format."""
        try:
            rebuild(self._store)
            self._store.set_format(FORMAT_VERSION)
        except BaseException:
            self.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the store (again: nothing). Every later call raises :class:`EngineClosed`."""
        if not self._closed:
            self._closed = True
            self._open_store.close()

    @property
    def _store(self) -> Store:
        if self._closed:
            raise EngineClosed(
                "this engine is closed; open a new GoalEngine(store, ...) to go on",
                store=getattr(self, "store_url", None),
            )
        return self._open_store

    @property
    def _read(self) -> ReadModels:
        self._store  # noqa: B018 - raises EngineClosed
        return self._open_read

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- acting ---------------------------------------------------------------------------------

    def _who(self, actor: ActorLike) -> Actor:
        """Who records this command's events: ``actor=`` of the command, else the engine's."""
        who = as_actor(actor) or self.actor
        if who is None:
            raise InvalidInput(
                "no actor: this command records who did it; open the engine with "
                "GoalEngine(store, actor='therapist:NAME') or pass actor='ROLE:NAME' to the "
                "command (nothing was recorded)",
                param="actor",
            )
        return who

    def _save(self, *aggregates: Any) -> None:
        """Record the pending events of ``aggregates`` with their read-model rows, atomically."""
        # The version each aggregate had before this command's events (0: new).
        had = {str(a.id): a.version - len(a.pending_events) for a in aggregates}
        try:
            self._store.app.save(*aggregates)
        except IntegrityError as e:
            inconsistent = self._inconsistent_history(had)
            if inconsistent is not None:
                raise inconsistent from e
            raise ConcurrentWrite(
                "someone else changed this record at the same moment; nothing was saved, "
                "run the command again",
                aggregates=had,
            ) from e
        except PersistenceError as e:
            raise StoreError(f"cannot write to store {self.store_url}: {e}") from e

    def _inconsistent_history(self, had: dict[str, int]) -> IntegrityFailure | None:
        """A unique-key clash that no other writer caused: the log holds no event after the
        version this command loaded, so the clash is with the integrity chain (an event was
        removed by hand) and running the command again would clash again, forever."""
        recorder: Any = self._store.app.recorder
        existing = {oid: version for oid, version in had.items() if version > 0}
        for oid, version in existing.items():
            newest = recorder.select_events(UUID(oid), desc=True, limit=1)
            if newest and newest[0].originator_version > version:
                return None  # another writer did record first: a real concurrent write
        if not existing:
            return None
        oid = next(iter(existing))
        return IntegrityFailure(
            f"the history of {oid[:8]} is inconsistent: its next version is already in the "
            "integrity chain but not in the events; run `goalengine audit verify`",
            id=oid,
        )

    # -- loading --------------------------------------------------------------------------------

    def _load(self, kind: str, cls: type[Any], oid: UUID, version: int | None) -> Any:
        try:
            found: Any = self._store.app.repository.get(oid, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"no {kind} with id {oid}", id=str(oid)) from None
        except (OriginatorVersionError, MapperDeserialisationError) as e:
            # A version gap or an event that does not decode: the history is inconsistent.
            raise IntegrityFailure(
                f"the history of {kind} {str(oid)[:8]} is inconsistent (a version is missing or "
                "an event cannot be read); run `goalengine audit verify`",
                id=str(oid),
            ) from e
        if not isinstance(found, cls):
            raise NotFound(f"{oid} is not a {kind}", id=str(oid))
        return found

    def _goal(self, ref: str | UUID, version: int | None = None) -> Goal:
        goal: Goal = self._load("goal", Goal, self._read.resolve("goal", ref), version)
        return goal

    def _client(self, ref: str | UUID, version: int | None = None) -> Client:
        client: Client = self._load("client", Client, self._read.resolve("client", ref), version)
        return client

    def _history(
        self, kind: Literal["goal", "client"], cls: type[Goal | Client], ref: str | UUID
    ) -> list[HistoryEntry]:
        """Every event of the goal or client ``ref`` in order (``cls``: what it must be)."""
        oid = self._read.resolve(kind, ref)
        events = list(self._store.app.events.get(oid))
        if not events:
            raise NotFound(f"no {kind} with id {oid}", id=str(oid))
        if not isinstance(events[0], cls.Event):
            raise NotFound(f"{oid} is not a {kind}", id=str(oid))
        return [history_entry(e) for e in events]

    # -- plugins and rules ----------------------------------------------------------------------

    @property
    def plugins(self) -> PluginManager:
        """The plugin manager (loaded on first use; ``GoalEngine(plugins=...)`` overrides it)."""
        self._store  # noqa: B018 - a closed engine raises EngineClosed
        if self._plugin_manager is None:
            self._plugin_manager = installed_plugins()
        return self._plugin_manager.load()

    def _check_modality(self, modality: str | None) -> str | None:
        """The normalised modality name, refused unless a loaded plugin provides it."""
        name = (modality or "").strip().lower()
        return self.plugins.check_modality(name) if name else None

    def _client_view(self, client: Client, exclude: str | None = None) -> ClientView:
        docs = self._read.docs("goal", "client_id = ?", (str(client.id),))
        return client_view(client.state(), docs, exclude)

    def _evaluate(
        self,
        action: str,
        spec: GoalSpec,
        client: Client,
        *,
        goal: Goal | None = None,
        to: Status | None = None,
        parent: Goal | None = None,
    ) -> tuple[Finding, ...]:
        """The findings of every rule that applies to a goal about to be created, revised or
        moved to ``to``. Raises :class:`~goalengine.errors.RuleViolation` when one is an error;
        the warnings and suggestions returned are stored in the event."""
        if to is not None:
            action = ACTIONS[to]
        inherited = goal.spec.modality if goal else (parent.spec.modality if parent else None)
        if spec.modality and spec.modality != inherited:
            # A modality the user just gave: unknown → InvalidInput listing the known ones. A
            # modality the goal already had and whose plugin is gone → PluginError (dispatch).
            self._check_modality(spec.modality)
        docs = self._read.docs("goal", "client_id = ?", (str(client.id),))
        by_id = {d["id"]: d for d in docs}
        steps = [
            view_from_doc(by_id[str(s)], client.modality, by_id)
            for s in (goal.steps if goal else ())
            if str(s) in by_id
        ]
        parent_id = goal.parent_id if goal else (parent.id if parent else None)
        view = view_from_spec(
            spec,
            client_id=str(client.id),
            client_modality=client.modality,
            goal_id=str(goal.id) if goal else None,
            status=to or (goal.status if goal else Status.ACTIVE),
            parent_id=str(parent_id) if parent_id else None,
            steps=steps,
            created_at=goal.created_on if goal else None,
            updated_at=goal.modified_on if goal else None,
        )
        exclude = str(goal.id) if goal else None
        return self.plugins.evaluate(view, client_view(client.state(), docs, exclude), action)


__all__ = [
    "ActorLike",
    "EngineCore",
    "GoalEngineError",
    "as_actor",
    "default_actor",
    "installed_plugins",
]

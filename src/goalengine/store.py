"""Persistence: the eventsourcing application, its recorders and the read-model tables.

The read models (``goalengine_goals``, ``goalengine_clients``) live in the same database as the
events and are written *in the same transaction*: the recorders below extend eventsourcing's own
``_insert_events`` so that the rows handed to ``save(..., readmodel=rows)`` are upserted alongside the
stored events. A command either records its events and its rows, or nothing.

Only this module and :mod:`goalengine.config` know about eventsourcing's persistence.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import JSONTranscoder, PersistenceError, Recording, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment

from goalengine.aggregates import Client, Goal
from goalengine.audit.chain import STORE_OWNER, ChainWriter, EventMeta, chain_ddl, recorded_at
from goalengine.config import APP_NAME, StoreConfig, create_private
from goalengine.errors import StoreError
from goalengine.readmodels.projection import writes_for
from goalengine.readmodels.tables import ddl as readmodel_ddl
from goalengine.serialization import register_transcodings
from goalengine.sqldialect import Dialect

log = logging.getLogger(__name__)

#: Bumped when the stored layout changes in a way an older engine cannot read.
#: 2: the integrity chain (``goalengine_chain``, ``goalengine_salts``); a format-1 store is
#: upgraded on open by backfilling the chain from its events (see docs/audit.md).
#: 3: small aggregates (Goal and Client at class version 2) and the series read models
#: (``goalengine_ratings``, ``_reviews``, ``_sessions``); a format-2 store is upgraded on open by
#: rebuilding its read models from the events.
FORMAT_VERSION = 3

#: How often a snapshot is taken, in events: loading stays flat however long a history grows.
SNAPSHOT_INTERVAL = 50


def _ddl() -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS {p}goalengine_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        *readmodel_ddl(),
        *chain_ddl("{p}"),
    ]


def apply_readmodel(c: Any, dialect: Dialect, kwargs: dict[str, Any]) -> None:
    """Run the read-model writes handed to ``save`` inside the events' transaction."""
    for w in kwargs.get("readmodel", ()):
        c.execute(dialect.sql(w.statement), w.params)


class SQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, also writing read-model rows in the same transaction."""

    dialect = Dialect()

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        apply_readmodel(c, self.dialect, kwargs)
        # The event insert above took SQLite's write lock: the chain head read now is stable.
        chain = chain_writer(self, self.dialect)
        rows = chain.rows(
            c, event_rows(stored_events), chain_metas(stored_events, kwargs), ids or []
        )
        chain.insert(c, rows)
        return ids


def chain_writer(recorder: Any, dialect: Dialect) -> ChainWriter:
    writer: ChainWriter | None = getattr(recorder, "_goalengine_chain", None)
    if writer is None:
        writer = ChainWriter(dialect)
        recorder._goalengine_chain = writer
    return writer


def event_rows(stored_events: Sequence[StoredEvent]) -> list[tuple[str, int, str, bytes]]:
    return [
        (str(s.originator_id), int(s.originator_version), s.topic, s.state) for s in stored_events
    ]


def chain_metas(stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> list[EventMeta]:
    metas: list[EventMeta] | None = kwargs.get("chain")
    if metas is None or len(metas) != len(stored_events):
        raise PersistenceError("events saved without their chain metadata (use GoalApplication)")
    return metas


class GoalApplication(Application[Any]):
    """The eventsourcing application behind :class:`goalengine.GoalEngine`."""

    name = APP_NAME
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Goal: SNAPSHOT_INTERVAL,
        Client: SNAPSHOT_INTERVAL,
    }

    def __init__(self, settings: dict[str, str]) -> None:
        self._settings = settings
        super().__init__()

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Settings come from the store URL alone, never from os.environ.
        return Environment(
            name,
            {"IS_SNAPSHOTTING_ENABLED": "y", "AGGREGATE_CACHE_MAXSIZE": "1000", **self._settings},
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def _record(self, processing_event: ProcessingEvent[Any]) -> list[Recording[Any]]:
        # Hand the recorder what only the domain events know: each event's owner (whose salt
        # digests its content) and its recording time, both part of the integrity chain.
        # The read-model rows of this save: each changed goal's and client's row, and the
        # series rows of each event, written by the recorder in the events' transaction.
        aggregates = processing_event.aggregates
        processing_event.saved_kwargs["readmodel"] = writes_for(
            list(aggregates.values()), processing_event.events
        )
        processing_event.saved_kwargs["chain"] = [
            EventMeta(
                salt_owner(aggregates.get(e.originator_id)),
                recorded_at(e.timestamp),  # type: ignore[attr-defined]
            )
            for e in processing_event.events
        ]
        return super()._record(processing_event)

    def _take_snapshots(self, processing_event: ProcessingEvent[Any]) -> None:
        # The events are committed by now: a snapshot that cannot be taken must never turn a
        # recorded command into a reported failure. The next interval takes one again.
        try:
            super()._take_snapshots(processing_event)
        except Exception as e:  # pragma: no branch - any failure is logged, never raised
            log.warning("snapshot not taken (the events are recorded): %s", _first_line(e))


def salt_owner(aggregate: Any) -> str:
    """The client whose salt digests this aggregate's events (``""``: the store's own salt)."""
    if isinstance(aggregate, Goal):
        return str(aggregate.client_id)
    if isinstance(aggregate, Client):
        return str(aggregate.id)
    return STORE_OWNER


def missing_store(config: StoreConfig) -> StoreError:
    """The refusal of a read-only open where there is no store (nothing was created)."""
    shown = config.display
    return StoreError(
        f"no store at {shown}; create it with goalengine --store {shown} init", store=shown
    )


class Store:
    """An open store: the eventsourcing application plus SQL access to the read models."""

    def __init__(self, config: StoreConfig, *, create: bool = True) -> None:
        """Open the store at ``config``. ``create``: make a new store when there is none (a
        SQLite file created 0600, a PostgreSQL schema); with ``create=False`` a missing store
        raises :class:`StoreError` (``no store at …``) and nothing is created."""
        self.config = config
        #: The format found on open when it is older than this engine's (None: current).
        self.upgraded_from: int | None = None
        found: int | None = None
        lock: Any = None
        if config.kind == "sqlite":
            found = self._check_sqlite_path(create)
        if config.kind == "postgres":
            found, lock = self._ensure_schema(create)
        try:
            # A store of a newer format is refused before anything opens it for writing.
            self._refuse_newer(found)
            self.app = GoalApplication(config.eventsourcing_env())
            self.dialect = (
                Dialect.for_schema(config.schema) if config.kind == "postgres" else Dialect()
            )
            self._check_format()
        except BaseException as e:
            if hasattr(self, "app"):
                self.app.close()
            if isinstance(e, (PersistenceError, sqlite3.Error, OSError)):
                raise StoreError(
                    f"cannot open store {config.display}: {_first_line(e)}", store=config.display
                ) from e
            raise
        finally:
            if lock is not None:
                lock.close()  # releases the set-up lock

    # -- opening --------------------------------------------------------------------------------

    def _missing(self) -> StoreError:
        return missing_store(self.config)

    def _check_sqlite_path(self, create: bool) -> int | None:
        """Check the path; return the format an existing store records (read-only peek).

        A new store's file is created here, empty and 0600 whatever the umask: SQLite gives its
        ``-wal`` and ``-shm`` files the database file's mode."""
        path = self.config.path
        assert path is not None
        url = self.config.url
        try:
            if path.is_dir():
                raise StoreError(f"cannot open store {url}: {path} is a directory")
            if not path.parent.exists():
                raise StoreError(f"cannot open store {url}: directory {path.parent} does not exist")
            if not path.parent.is_dir():
                raise StoreError(f"cannot open store {url}: {path.parent} is not a directory")
            head = b""
            if path.exists():
                with path.open("rb") as f:
                    head = f.read(16)
            if head and head != b"SQLite format 3\x00":
                raise StoreError(f"cannot open store {url}: {path} is not a SQLite file")
            found: int | None = None
            if head:
                conn = sqlite3.connect(path)  # no write; the last close tidies the WAL
                try:
                    found = _stored_format(conn.execute, "?")
                finally:
                    conn.close()
            if found is None and not create:
                raise self._missing()
            if not head:
                create_private(path)
            return found
        except (OSError, sqlite3.Error, ValueError) as e:
            raise StoreError(f"cannot open store {url}: {_first_line(e)}", store=url) from e

    def _ensure_schema(self, create: bool) -> tuple[int | None, Any]:
        """Create the store's schema if missing; return the format it records, if any, and a
        connection holding the store's set-up lock: PostgreSQL's ``CREATE … IF NOT EXISTS`` is
        not safe against a second engine creating the same tables at the same moment.
        ``create=False``: a schema that does not exist or holds no store is refused, and
        nothing is created."""
        try:
            import psycopg
        except ImportError as e:  # installed without the postgres extra (tested)
            raise StoreError(
                "PostgreSQL stores need the postgres extra: pip install 'goalengine[postgres]'"
            ) from e
        c = self.config
        try:
            conn = psycopg.connect(
                host=c.host,
                port=c.port,
                user=c.user,
                password=c.password or None,
                dbname=c.dbname,
                connect_timeout=5,
                autocommit=True,
            )
            try:
                conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"goalengine:{c.schema}",))
                if not create:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_namespace WHERE nspname = %s", (c.schema,)
                    ).fetchone()
                    found = _stored_format(conn.execute, "%s", f'"{c.schema}".') if exists else None
                    if found is None:
                        raise self._missing()
                    return found, conn
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{c.schema}"')
                return _stored_format(conn.execute, "%s", f'"{c.schema}".'), conn
            except BaseException:
                conn.close()
                raise
        except psycopg.Error as e:
            raise StoreError(
                f"cannot open store {c.display}: {_first_line(e)}", store=c.display
            ) from e

    def _check_format(self) -> None:
        with self.transaction(commit=True) as cur:
            for statement in _ddl():
                cur.execute(self._sql(statement))
            cur.execute(
                self._sql("SELECT value FROM {p}goalengine_meta WHERE key = ?"), ("format",)
            )
            found = cur.fetchone()
            if found is None:
                cur.execute(
                    self._sql("INSERT INTO {p}goalengine_meta (key, value) VALUES (?, ?)"),
                    ("format", str(FORMAT_VERSION)),
                )
                return
            version = int(found["value"])
        self._refuse_newer(version)
        if version < 2:
            from goalengine.audit.upgrade import backfill_chain

            backfill_chain(self)
        if version < 3:
            self.upgraded_from = version  # the read models are rebuilt by the engine on open

    def _refuse_newer(self, version: int | None) -> None:
        if version is not None and version > FORMAT_VERSION:
            raise StoreError(
                f"store {self.config.display} has format {version}, newer than this goalengine "
                f"reads ({FORMAT_VERSION}); upgrade goalengine to open it",
                format=version,
            )

    # -- SQL ------------------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return self.dialect.sql(statement)

    def set_format(self, version: int) -> None:
        """Record the store's format (after an upgrade step completed)."""
        with self.transaction(commit=True) as cur:
            cur.execute(
                self._sql("UPDATE {p}goalengine_meta SET value = ? WHERE key = ?"),
                (str(version), "format"),
            )
        self.upgraded_from = None

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=commit) as cur:
            yield cur

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.transaction(commit=False) as cur:
            cur.execute(self._sql(statement), tuple(params))
            return [dict(r) for r in cur.fetchall()]

    def max_notification_id(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def close(self) -> None:
        self.app.close()


def _stored_format(execute: Any, param: str, prefix: str = "") -> int | None:
    """The format recorded in ``goalengine_meta``; None for a store without one (a new store)."""
    try:
        row = execute(
            f"SELECT value FROM {prefix}goalengine_meta WHERE key = {param}", ("format",)
        ).fetchone()
    except Exception as e:  # no meta table yet: a new or foreign store
        if "goalengine_meta" in str(e) or "no such table" in str(e):
            return None
        raise
    return int(row[0]) if row is not None else None


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]

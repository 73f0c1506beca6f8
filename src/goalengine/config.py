"""Store URLs → eventsourcing settings, and where the default stores live.

The store URL alone decides where data goes: settings are built from it and nothing else, so a stray
``PERSISTENCE_MODULE`` or ``POSTGRES_SCHEMA`` in the environment cannot move a practice's records.

``sqlite:///relative.db`` · ``sqlite:////absolute/path.db`` · ``memory://`` ·
``postgresql://user[:password]@host[:port]/database[?schema=name]``
"""

from __future__ import annotations

import getpass
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from attrs import frozen

from goalengine.errors import StoreError

ENV_STORE = "GOALENGINE_STORE"
ENV_ACTOR = "GOALENGINE_ACTOR"
APP_NAME = "goalengine"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def data_dir() -> Path:
    """The user's data directory for goalengine (``platformdirs``), not created here."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_store_url() -> str:
    return f"sqlite:///{data_dir() / 'goalengine.db'}"


def demo_store_url() -> str:
    return f"sqlite:///{data_dir() / 'demo.db'}"


@frozen
class StoreConfig:
    """A parsed store URL: ``kind`` is ``sqlite``, ``memory`` or ``postgres``."""

    url: str
    kind: str
    path: Path | None = None
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = "public"

    @property
    def display(self) -> str:
        """The URL without its password, for messages."""
        if self.kind != "postgres" or not self.password:
            return self.url
        return self.url.replace(f":{self.password}@", ":***@", 1)

    def eventsourcing_env(self) -> dict[str, str]:
        """Settings for eventsourcing's infrastructure factory, built from this URL only."""
        if self.kind == "memory":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": f"file:goalengine-{uuid.uuid4().hex}?mode=memory&cache=shared",
                "APPLICATION_RECORDER_TOPIC": "goalengine.store:SQLiteRecorder",
            }
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.path),
                "SQLITE_LOCK_TIMEOUT": "10",
                "APPLICATION_RECORDER_TOPIC": "goalengine.store:SQLiteRecorder",
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "APPLICATION_RECORDER_TOPIC": "goalengine.store_postgres:PostgresRecorder",
        }


def parse_store_url(url: str) -> StoreConfig:
    """Parse a store URL, or raise :class:`StoreError` saying which forms are accepted."""
    text = url.strip()
    if text in ("memory://", "memory:"):
        return StoreConfig(url="memory://", kind="memory")
    if text.startswith("sqlite:///"):
        raw = text[len("sqlite:///") :]
        if not raw:
            raise StoreError("sqlite store URL has no file: use sqlite:///file.db")
        path = Path(raw) if raw.startswith("/") else Path.cwd() / raw
        return StoreConfig(url=text, kind="sqlite", path=path.expanduser())
    parts = urlsplit(text)
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = parse_qs(parts.query)
        schema = (query.get("schema") or ["public"])[0]
        if not _SCHEMA.match(schema):
            raise StoreError(
                f"schema {schema!r} is not a plain lower-case SQL name (letters, digits, _)"
            )
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise StoreError("postgresql store URL names no database: postgresql://user@host/db")
        return StoreConfig(
            url=text,
            kind="postgres",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "") or getpass.getuser(),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
        )
    raise StoreError(
        f"cannot open store {url!r}: use sqlite:///file.db, sqlite:////absolute/file.db, "
        "memory:// or postgresql://user@host:port/database"
    )

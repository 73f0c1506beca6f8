"""Store URLs → eventsourcing settings, and where the default stores live.

The store URL alone decides where data goes: settings are built from it and nothing else, so a stray
``PERSISTENCE_MODULE`` or ``POSTGRES_SCHEMA`` in the environment cannot move a practice's records.

``sqlite:///relative.db`` · ``sqlite:////absolute/path.db`` · ``memory://`` ·
``postgresql://user[:password]@host[:port]/database[?schema=name]``

The engine reads no environment: the CLI turns ``GOALENGINE_STORE``, ``GOALENGINE_ACTOR``,
``GOALENGINE_PLUGINS`` and the operating-system user (:func:`default_actor`) into arguments.

Files goalengine writes are private to their owner whatever the umask: :func:`private_dir` (0700)
for the data directory, :func:`private_file` (0600) for stores, exports and checkpoints.
"""

from __future__ import annotations

import getpass
import os
import re
import uuid
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, unquote, urlsplit

from attrs import frozen

from goalengine.errors import StoreError, redact
from goalengine.values import Actor, Role

ENV_STORE = "GOALENGINE_STORE"
ENV_ACTOR = "GOALENGINE_ACTOR"
ENV_PLUGINS = "GOALENGINE_PLUGINS"
APP_NAME = "goalengine"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: The longest file or directory name most file systems take, in bytes.
NAME_MAX = 255
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def data_dir() -> Path:
    """The user's data directory for goalengine (``platformdirs``), not created here."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_actor() -> Actor:
    """``therapist:`` + the operating-system user name: the CLI's default actor (the engine
    never guesses one)."""
    try:
        user = getpass.getuser()
    except Exception:  # pragma: no cover - no user name on this platform
        user = "unknown"
    return Actor(Role.THERAPIST, user or "unknown")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; ``path`` itself is made 0700 whatever the
    umask. Returns ``path``."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path, mode: str = "w", *, exclusive: bool = False) -> IO[str]:
    """Open ``path`` for writing as a file only its owner can read (0600 whatever the umask):
    created with that mode, and an existing file is set to it before anything is written.
    ``mode`` is ``"w"`` (text) or ``"wb"``; ``exclusive``: refuse an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        if "b" in mode:
            return os.fdopen(fd, "wb")  # type: ignore[return-value]
        return os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def create_private(path: Path) -> bool:
    """Create ``path`` as an empty 0600 file unless it exists; True when it was created."""
    try:
        private_file(path, "wb", exclusive=True).close()
    except FileExistsError:
        return False
    return True


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
        """The URL without its password, for messages (``postgresql://user:***@host/db``)."""
        return redact(self.url)

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


def _cannot(url: str, why: str) -> StoreError:
    shown = redact(url)
    return StoreError(f"cannot open store {shown}: {why}", store=shown)


def _check_path(url: str, path: Path) -> Path:
    """Refuse a path no file system can hold, before anything touches it."""
    if "\x00" in str(path):
        raise _cannot(url, "the path contains a NUL character")
    for name in path.parts:
        if len(os.fsencode(name)) > NAME_MAX:
            raise _cannot(
                url, f"a file or directory name in the path is longer than {NAME_MAX} bytes"
            )
    return path


def parse_store_url(url: str) -> StoreConfig:
    """Parse a store URL, or raise :class:`StoreError` saying which forms are accepted."""
    text = url.strip()
    if text in ("memory://", "memory:"):
        return StoreConfig(url="memory://", kind="memory")
    if text.startswith("sqlite:///"):
        raw = text[len("sqlite:///") :]
        if not raw:
            raise StoreError("sqlite store URL has no file: use sqlite:///file.db")
        try:
            path = Path(raw) if raw.startswith("/") else Path.cwd() / raw
            path = path.expanduser()
        except (OSError, RuntimeError, ValueError) as e:
            raise _cannot(text, str(e) or type(e).__name__) from None
        return StoreConfig(url=text, kind="sqlite", path=_check_path(text, path))
    try:
        parts = urlsplit(text)
    except ValueError as e:  # an unbalanced [ of an IPv6 address
        raise _cannot(text, f"{e} (write an IPv6 host as [::1])") from None
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        try:
            port = parts.port
        except ValueError:
            raise _cannot(text, "the port is not a number from 1 to 65535") from None
        if port == 0:
            raise _cannot(text, "the port is not a number from 1 to 65535")
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
            port=port or 5432,
            user=unquote(parts.username or "") or getpass.getuser(),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
        )
    raise StoreError(
        f"cannot open store {redact(url)!r}: use sqlite:///file.db, sqlite:////absolute/file.db, "
        "memory:// or postgresql://user@host:port/database"
    )

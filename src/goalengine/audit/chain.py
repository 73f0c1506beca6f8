"""The integrity chain: its exact definition, and the rows the recorders write with each event.

Pure functions plus the few SQL statements the recorders run *inside* the transaction that inserts
the events (so a command records its events and their links, or nothing). ``docs/audit.md`` states
the same definition for an auditor who wants to re-implement the check.

For the event at store-wide position ``seq`` (1, 2, 3 … without gaps), being version ``v`` of
aggregate ``id``::

    content_v = HMAC-SHA256(key=salt(owner), msg=stored_state_bytes)            (hex)
    link_v    = SHA-256("goalengine.link.v1\\n" + link_{v-1} + "\\n" + id + "\\n" + v
                        + "\\n" + topic + "\\n" + recorded_at + "\\n" + content_v)  (hex)
    digest_s  = SHA-256("goalengine.seq.v1\\n" + digest_{s-1} + "\\n" + s + "\\n" + link_v)

with ``link_0`` and ``digest_0`` 64 zeros. ``owner`` is the client the event belongs to (a client's
own events and its goals' events), or ``""`` for store-level events; each owner has its own random
32-byte salt. A checkpoint is ``seq:digest_seq``.

That is **rule 1**. Rule 1 does not bind the owner into the link, so a changed ``owner`` (whose
salt then decides which digest is checked) went unnoticed. Every row from the position stored in
``goalengine_meta`` under :data:`LINK_V2_KEY` on is linked by **rule 2**, which binds it::

    owner_tag = HMAC-SHA256(key=salt(owner), msg="owner")                        (hex)
    inner_v   = SHA-256("goalengine.link.v2\n" + link_{v-1} + "\n" + id + "\n" + v
                        + "\n" + topic + "\n" + recorded_at + "\n" + content_v)  (hex)
    link_v    = SHA-256("goalengine.link.v2\n" + inner_v + "\n" + owner_tag)     (hex)

Rows before that position keep rule 1 (they are never re-linked: old checkpoints stay valid);
their owner is checked against the one the events themselves give.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen

from goalengine.sqldialect import Dialect
from goalengine.when import utc_text

ZERO = "0" * 64
LINK_TAG = "goalengine.link.v1"
LINK_TAG_V2 = "goalengine.link.v2"
OWNER_TAG_MESSAGE = b"owner"
#: ``goalengine_meta`` key: the first position linked by rule 2 (absent: every row is rule 1).
LINK_V2_KEY = "chain_link_v2_from"
SEQ_TAG = "goalengine.seq.v1"
STORE_OWNER = ""

CHAIN_TABLE = "goalengine_chain"
SALT_TABLE = "goalengine_salts"


def chain_ddl(prefix: str) -> list[str]:
    """The chain and salt tables (``prefix`` is ``""`` or a quoted PostgreSQL schema + ``.``)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {prefix}{CHAIN_TABLE} ("
        "seq BIGINT PRIMARY KEY, originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, "
        "notification_id BIGINT NOT NULL, topic TEXT NOT NULL, recorded_at TEXT NOT NULL, "
        "owner TEXT NOT NULL, content TEXT NOT NULL, link TEXT NOT NULL, digest TEXT NOT NULL, "
        "UNIQUE (originator_id, originator_version))",
        f"CREATE INDEX IF NOT EXISTS goalengine_chain_by_notification ON {prefix}{CHAIN_TABLE} "
        "(notification_id)",
        f"CREATE TABLE IF NOT EXISTS {prefix}{SALT_TABLE} (owner TEXT PRIMARY KEY, salt TEXT NOT NULL)",
    ]


def recorded_at(timestamp: datetime) -> str:
    """The recording time as chained: UTC, ISO 8601, always with microseconds (sortable text;
    the same text every result shows, :func:`goalengine.when.utc_text`)."""
    return utc_text(timestamp)


@functools.lru_cache(maxsize=4096)
def keyed(salt: bytes) -> Any:
    """An HMAC-SHA256 keyed with ``salt``, to be copied for each message (the key is hashed
    once). OpenSSL's own object when the standard library has one: copying it skips a Python
    wrapper per event."""
    mac = hmac.new(salt, digestmod=hashlib.sha256)
    inner = getattr(mac, "_hmac", None)  # CPython with OpenSSL: the C object hmac.HMAC wraps
    return mac if inner is None or not hasattr(inner, "copy") else inner


def content_digest(salt: bytes, state: bytes) -> str:
    """HMAC-SHA256 of ``state`` under ``salt``, in hex (the keyed state is computed once)."""
    h = keyed(salt).copy()
    h.update(state)
    return str(h.hexdigest())


def link(prev: str, originator_id: str, version: int, topic: str, at: str, content: str) -> str:
    text = "\n".join((LINK_TAG, prev, originator_id, str(version), topic, at, content))
    return hashlib.sha256(text.encode()).hexdigest()


def owner_tag(salt: bytes) -> str:
    """The owner's tag (rule 2): HMAC-SHA256 of ``"owner"`` under the owner's salt, in hex. It
    reveals nothing about the salt, and a verifier holding the salt recognises the owner."""
    return hmac.new(salt, OWNER_TAG_MESSAGE, hashlib.sha256).hexdigest()


def inner_link(
    prev: str, originator_id: str, version: int, topic: str, at: str, content: str
) -> str:
    """Rule 2's inner hash: everything an event's meaning depends on except its owner."""
    text = "\n".join((LINK_TAG_V2, prev, originator_id, str(version), topic, at, content))
    return hashlib.sha256(text.encode()).hexdigest()


def outer_link(inner: str, tag: str) -> str:
    """Rule 2's link: the inner hash bound to the owner's tag."""
    return hashlib.sha256(f"{LINK_TAG_V2}\n{inner}\n{tag}".encode()).hexdigest()


def link_v2(
    prev: str, originator_id: str, version: int, topic: str, at: str, content: str, tag: str
) -> str:
    return outer_link(inner_link(prev, originator_id, version, topic, at, content), tag)


def rule_of(seq: int, v2_from: int | None) -> int:
    """The link rule of the row at ``seq`` (2 from ``v2_from`` on; 1 before, or without it)."""
    return 2 if v2_from is not None and seq >= v2_from else 1


def seq_digest(prev: str, seq: int, link_: str) -> str:
    return hashlib.sha256(f"{SEQ_TAG}\n{prev}\n{seq}\n{link_}".encode()).hexdigest()


def sign(key: bytes, checkpoint: str) -> str:
    """The HMAC-SHA256 of a ``POS:DIGEST`` checkpoint under an auditor's key (hex)."""
    return hmac.new(key, checkpoint.encode(), hashlib.sha256).hexdigest()


@frozen
class EventMeta:
    """What the application knows about an event before it is stored: its owner and time."""

    owner: str
    recorded_at: str


@frozen
class ChainRow:
    seq: int
    originator_id: str
    originator_version: int
    notification_id: int
    topic: str
    recorded_at: str
    owner: str
    content: str
    link: str
    digest: str

    def params(self) -> tuple[Any, ...]:
        return (
            self.seq,
            self.originator_id,
            self.originator_version,
            self.notification_id,
            self.topic,
            self.recorded_at,
            self.owner,
            self.content,
            self.link,
            self.digest,
        )


COLUMNS = (
    "seq, originator_id, originator_version, notification_id, topic, recorded_at, owner, "
    "content, link, digest"
)


class ChainWriter:
    """Computes and inserts the chain rows of a batch of stored events, inside its transaction.

    ``sql`` (the store's :class:`~goalengine.sqldialect.Dialect`) adapts a statement with ``{p}``
    and ``?`` placeholders to the database. Salts are
    cached: once made, a salt never changes while the store is open.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.sql = dialect.sql
        self.salts: dict[str, bytes] = {}
        self.tags: dict[str, str] = {}
        self._heads: dict[int, str] = {}
        #: The first position linked by rule 2, once read back committed from the store.
        self.v2_from: int | None = None

    def rule_2_from(self, cur: Any, next_seq: int) -> int:
        """The first position of rule 2; recorded (in this transaction) as ``next_seq`` when the
        store has none yet. Cached only once read back: a rolled-back insert is not believed."""
        if self.v2_from is not None:
            return self.v2_from
        cur.execute(self.sql("SELECT value FROM {p}goalengine_meta WHERE key = ?"), (LINK_V2_KEY,))
        row = cur.fetchone()
        if row is not None:
            self.v2_from = int(row["value"])
            return self.v2_from
        cur.execute(
            self.sql("INSERT INTO {p}goalengine_meta (key, value) VALUES (?, ?)"),
            (LINK_V2_KEY, str(next_seq)),
        )
        return next_seq

    def tag(self, cur: Any, owner: str) -> str:
        found = self.tags.get(owner)
        if found is None:
            found = self.tags[owner] = owner_tag(self.salt(cur, owner))
        return found

    def salt(self, cur: Any, owner: str) -> bytes:
        found = self.salts.get(owner)
        if found is not None:
            return found
        cur.execute(self.sql(f"SELECT salt FROM {{p}}{SALT_TABLE} WHERE owner = ?"), (owner,))
        row = cur.fetchone()
        if row is None:
            value = os.urandom(32)
            cur.execute(
                self.sql(f"INSERT INTO {{p}}{SALT_TABLE} (owner, salt) VALUES (?, ?)"),
                (owner, value.hex()),
            )
        else:
            value = bytes.fromhex(row["salt"])
        self.salts[owner] = value
        return value

    def heads(
        self, cur: Any, previous: Sequence[tuple[str, int]]
    ) -> tuple[int, str, dict[str, str]]:
        """The chain's head (position, digest) and the links of ``previous`` (id, version)
        entries, in one round trip (PostgreSQL's pipeline syncs on every fetch)."""
        statement = self._heads.get(len(previous))
        if statement is None:
            columns = "".join(
                f", (SELECT link FROM {{p}}{CHAIN_TABLE} WHERE originator_id = ? "
                f"AND originator_version = ?) AS l{i}"
                for i in range(len(previous))
            )
            statement = self._heads[len(previous)] = self.sql(
                f"SELECT h.seq AS seq, h.digest AS digest{columns} FROM (SELECT 0 AS z) AS one "
                f"LEFT JOIN (SELECT seq, digest FROM {{p}}{CHAIN_TABLE} ORDER BY seq DESC LIMIT 1) "
                "AS h ON 1 = 1"
            )
        cur.execute(statement, tuple(x for pair in previous for x in pair))
        row = cur.fetchone()
        links = {
            oid: str(row[f"l{i}"])
            for i, (oid, _) in enumerate(previous)
            if row[f"l{i}"] is not None
        }
        if row["seq"] is None:
            return 0, ZERO, links
        return int(row["seq"]), str(row["digest"]), links

    def rows(
        self,
        cur: Any,
        events: Sequence[tuple[str, int, str, bytes]],
        metas: Sequence[EventMeta],
        notification_ids: Sequence[int],
    ) -> list[ChainRow]:
        """Chain rows for ``events`` (originator id, version, topic, state) in insertion order."""
        firsts: dict[str, int] = {}
        for oid, version, _, _ in events:
            firsts.setdefault(oid, version)
        seq, digest, last = self.heads(cur, [(o, v - 1) for o, v in firsts.items() if v > 1])
        self.rule_2_from(cur, seq + 1)
        out = []
        for (oid, version, topic, state), meta, nid in zip(
            events, metas, notification_ids, strict=True
        ):
            prev = last.get(oid)
            if prev is None:
                # A missing predecessor means the chain was tampered with: record on (never
                # block the clinician) and let `audit verify` report it.
                prev = ZERO
            content = content_digest(self.salt(cur, meta.owner), state)
            seq += 1  # ≥ the first position of rule 2: every new row is linked by rule 2
            tag = self.tag(cur, meta.owner)
            lk = link_v2(prev, oid, version, topic, meta.recorded_at, content, tag)
            digest = seq_digest(digest, seq, lk)
            last[oid] = lk
            out.append(
                ChainRow(
                    seq, oid, version, nid, topic, meta.recorded_at, meta.owner, content, lk, digest
                )
            )
        return out

    def insert(self, cur: Any, rows: Sequence[ChainRow]) -> None:
        statement = self.sql(
            f"INSERT INTO {{p}}{CHAIN_TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        cur.executemany(statement, [r.params() for r in rows])

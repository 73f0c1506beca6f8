"""Checkpoints: the store's position and digest, optionally HMAC-signed, and reading them back.

Every function takes the engine's :class:`~goalengine.store.Store`; reads stream the log in
pages (never the whole store in memory).
"""

from __future__ import annotations

from goalengine.audit.chain import CHAIN_TABLE, SALT_TABLE, ZERO, sign
from goalengine.errors import InvalidInput
from goalengine.results import CheckpointResult
from goalengine.store import Store


def head(store: Store) -> tuple[int, str, str | None]:
    rows = store.query(
        f"SELECT seq, digest, recorded_at FROM {{p}}{CHAIN_TABLE} ORDER BY seq DESC LIMIT 1"
    )
    if not rows:
        return 0, ZERO, None
    return int(rows[0]["seq"]), str(rows[0]["digest"]), str(rows[0]["recorded_at"])


def checkpoint(store: Store, key: bytes | None = None) -> CheckpointResult:
    """The store's current position and digest (``POS:DIGEST``), signed when given a key."""
    pos, digest, at = head(store)
    text = f"{pos}:{digest}"
    out: CheckpointResult = {
        "position": pos,
        "digest": digest,
        "recorded_at": at,
        "checkpoint": text,
        "signed": key is not None,
    }
    if key is not None:
        out["signature"] = sign(key, text)
        out["checkpoint"] = f"{text}:{out['signature']}"
    return out


def parse_checkpoint(text: str, key: bytes | None) -> tuple[int, str]:
    """``POS:DIGEST`` or ``POS:DIGEST:SIGNATURE`` → (pos, digest); checks the signature."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not parts[0].isdigit() or len(parts[1]) != 64:
        raise InvalidInput(
            f"checkpoint {text!r} is not POS:DIGEST (a position and a 64-hex-digit digest, "
            "optionally :SIGNATURE)"
        )
    try:
        bytes.fromhex(parts[1])
    except ValueError:
        raise InvalidInput(f"checkpoint {text!r}: the digest is not hexadecimal") from None
    pos, digest = int(parts[0]), parts[1].lower()
    if len(parts) == 3:
        if key is None:
            raise InvalidInput(
                f"checkpoint {text!r} is signed; give the key (--key-file or GOALENGINE_AUDIT_KEY)"
            )
        if sign(key, f"{pos}:{digest}") != parts[2].lower():
            raise InvalidInput(
                f"checkpoint {text!r} has a bad signature: it was not signed with this key, "
                "or it was altered"
            )
    return pos, digest


def salts(store: Store) -> dict[str, bytes]:
    return {
        r["owner"]: bytes.fromhex(r["salt"])
        for r in store.query(f"SELECT owner, salt FROM {{p}}{SALT_TABLE}")
    }

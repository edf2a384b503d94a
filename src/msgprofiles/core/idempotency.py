"""`Idempotency-Key` on POST and PATCH.

The key is claimed inside the same transaction as the request's own writes, and the response
is stored before that transaction commits. So a request that committed always has its response
recorded, a request that failed leaves no trace (the caller may retry with the same key), and
a concurrent request with the same key waits for the first one (SQLite: the writer lock;
PostgreSQL: the unique index) and then replays its response instead of creating a second
resource.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    and_,
    bindparam,
    delete,
    select,
    text,
    update,
)

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, prepare
from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime

MAX_KEY_LENGTH = 255

SECRET_FIELDS = frozenset({"secret", "signing_secret", "callback_secret", "token"})
"""Response fields shown once. They are stored as null, so a replay never repeats a secret
and none sits in plain text in this table."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("request_id", String(128), nullable=True),  # of the first answer: replays name it
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

_t = idempotency_keys
_this_key = and_(_t.c.organization_id == bindparam("org"), _t.c.key == bindparam("idem_key"))
# The same statement on SQLite and PostgreSQL. A concurrent request holding the same key
# makes it wait (PostgreSQL: the unique index; SQLite: the writer lock), then do nothing.
_claim = prepare(
    text(
        "INSERT INTO idempotency_keys (organization_id, key, fingerprint, created_at) "
        "VALUES (:org, :idem_key, :print, :now) ON CONFLICT DO NOTHING"
    ).bindparams(bindparam("now", type_=UTCDateTime))
)
_find = prepare(
    select(
        _t.c.fingerprint,
        _t.c.response_status,
        _t.c.response_body,
        _t.c.request_id,
        _t.c.created_at,
    ).where(_this_key)
)
_forget = prepare(delete(_t).where(_this_key))
_purge = prepare(delete(_t).where(_t.c.created_at < bindparam("cutoff", type_=UTCDateTime)))
_record = prepare(
    update(_t)
    .where(_this_key)
    .values(
        response_status=bindparam("status"),
        response_body=bindparam("body"),
        request_id=bindparam("request_id"),
    )
)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    request_id: str | None


def validate_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            ErrorCode.invalid_idempotency_key,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
        )


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}?{query}\n".encode())
    digest.update(body)
    return digest.hexdigest()


async def claim(
    conn: Connection, organization_id: str, key: str, print_: str, ttl: timedelta
) -> StoredResponse | None:
    """Claim `key` for this request inside the caller's open transaction.

    Returns None when the caller should run the request, or the response to replay."""
    assert conn.in_transaction
    params = {"org": organization_id, "idem_key": key, "print": print_, "now": utcnow()}
    for _ in range(2):
        if await conn.execute(_claim, params):
            return None
        row = await conn.fetch_one(_find, params)
        if row is None:  # the other request rolled back in between: claim again
            continue
        if row["created_at"] < utcnow() - ttl:
            await conn.execute(_forget, params)
            continue
        if row["fingerprint"] != print_:
            raise DomainError(
                ErrorCode.idempotency_key_reused,
                "This Idempotency-Key was already used for a different request.",
            )
        if row["response_status"] is None:  # only possible if a response was not recordable
            raise DomainError(
                ErrorCode.idempotency_key_in_progress,
                "A request with this Idempotency-Key is still being processed.",
            )
        return StoredResponse(row["response_status"], row["response_body"], row["request_id"])
    raise DomainError(
        ErrorCode.idempotency_key_in_progress,
        "A request with this Idempotency-Key is still being processed.",
    )


def _without_secrets(value: object) -> object:
    if isinstance(value, dict):
        return {k: None if k in SECRET_FIELDS else _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


async def record(
    conn: Connection, organization_id: str, key: str, status: int, body: bytes, request_id: str
) -> None:
    body = json.dumps(_without_secrets(json.loads(body)), separators=(",", ":")).encode()
    await conn.execute(
        _record,
        {
            "org": organization_id,
            "idem_key": key,
            "status": status,
            "body": body,
            "request_id": request_id,
        },
    )


async def purge_expired(conn: Connection, ttl: timedelta) -> int:
    """Delete records older than `ttl`; the number deleted."""
    return await conn.execute(_purge, {"cutoff": utcnow() - ttl})


async def forget_mentioning(conn: Connection, organization_id: str, text: str) -> int:
    """Erasure: forget the stored answers that mention `text` (an erased person's id), so no
    copy of their data stays behind for the replay window."""
    rows = await conn.fetch_all(
        select(_t.c.key, _t.c.response_body).where(_t.c.organization_id == organization_id)
    )
    needle = text.encode()
    keys = [row["key"] for row in rows if row["response_body"] and needle in row["response_body"]]
    for key in keys:
        await conn.execute(_forget, {"org": organization_id, "idem_key": key})
    return len(keys)

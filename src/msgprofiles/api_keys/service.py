"""API keys: created with a role (and optionally a profile scope), shown once, stored as a
SHA-256 hash, revocable at once.

A key reads `mpk_<organization ULID>_<43 random characters>`. Carrying the organization lets
authentication look the hash up within one tenant (the door to sharding by organization stays
open), and lets a malformed key be refused without touching the database."""

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, func, insert, select, update

from msgprofiles.api_keys.models import api_keys
from msgprofiles.api_keys.schemas import ApiKey, ApiKeyCreate, ApiKeyWithSecret
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.tenancy import fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.organizations.models import organizations
from msgprofiles.profiles.service import require_profile
from msgprofiles.webhooks.events import emit, register_event_type

SECRET_PREFIX = "mpk_"
_ULID_LENGTH = 26
_TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)
_LAST_USED_RESOLUTION = timedelta(minutes=1)

register_event_type("api_key.created", "An API key was created (its secret is never sent).")
register_event_type("api_key.revoked", "An API key was revoked.")

_t = api_keys

_authenticate = prepare(
    select(
        _t.c.id,
        _t.c.organization_id,
        _t.c.role,
        _t.c.profile_id,
        _t.c.key_hash,
        _t.c.last_used_at,
        _t.c.revoked_at,
        organizations.c.is_operator,
    )
    .join(organizations, organizations.c.id == _t.c.organization_id)
    .where(_t.c.organization_id == bindparam("org"), _t.c.key_hash == bindparam("hash"))
)
_touch = prepare(
    update(_t)
    .where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("key_id"))
    .values(last_used_at=bindparam("now"))
)
_columns = [c for c in _t.c if c.key != "key_hash"]
_this_key = and_(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("key_id"))
_get = prepare(select(*_columns).where(_this_key))
_revoke = prepare(
    update(_t).where(_this_key, _t.c.revoked_at.is_(None)).values(revoked_at=bindparam("now"))
)
# Serializes revocations within one organization (PostgreSQL; SQLite has one writer anyway),
# so two concurrent revocations cannot both pass the last-admin check.
_lock_organization = prepare(
    select(organizations.c.id).where(organizations.c.id == bindparam("org")).with_for_update()
)
_active_admins = prepare(
    select(func.count()).where(
        _t.c.organization_id == bindparam("org"),
        _t.c.role == "admin",
        _t.c.profile_id.is_(None),
        _t.c.revoked_at.is_(None),
    )
)
_insert = prepare(insert(_t))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _invalid() -> DomainError:
    return DomainError(ErrorCode.invalid_api_key, "The API key is not valid.")


def _caller(row: Mapping[str, Any]) -> Caller:
    return Caller(
        organization_id=row["organization_id"],
        role=row["role"],
        key_id=row["id"],
        profile_id=row["profile_id"],
        is_operator=row["is_operator"],
    )


REVOCATIONS_CHANNEL = "msgprofiles_api_keys"
"""Notified by every revocation, so that every process forgets the keys it knew."""


class _KnownKeys:
    """The callers of keys this process has recently authenticated, by the key's hash: a
    request with a known key skips the key's query (about a tenth of a simple read, measured
    with py-spy). On PostgreSQL only (see `authenticate`). Entries live `ttl` seconds, and
    all are forgotten at each revocation: in this process at once, in the others when
    `REVOCATIONS_CHANNEL` reaches them through the database. The ttl bounds what a missed
    notification could cost."""

    ttl = 5.0

    def __init__(self) -> None:
        self._callers: dict[str, tuple[Caller, datetime, float]] = {}
        self.generation = 0  # counts forgets: a lookup that began before one is not kept

    def get(self, digest: str) -> tuple[Caller, datetime] | None:
        known = self._callers.get(digest)
        if known is None or known[2] < time.monotonic():
            return None
        return known[0], known[1]

    def keep(self, digest: str, caller: Caller, last_used: datetime, generation: int) -> None:
        if generation != self.generation:
            return  # a revocation came in while this key was being looked up
        if len(self._callers) >= 10_000:
            self._callers.clear()
        self._callers[digest] = (caller, last_used, time.monotonic() + self.ttl)

    def forget(self) -> None:
        self._callers.clear()
        self.generation += 1


known_keys = _KnownKeys()
"""One for the process: every app in it sees a revocation at once."""


async def authenticate(conn: Connection, secret: str) -> Caller:
    """The caller a secret stands for; 401 for a malformed, unknown or revoked key."""
    organization_ulid = secret[len(SECRET_PREFIX) : len(SECRET_PREFIX) + _ULID_LENGTH]
    if (
        not secret.startswith(SECRET_PREFIX)
        or len(secret) != len(SECRET_PREFIX) + _ULID_LENGTH + 1 + _TOKEN_LENGTH
        or secret[len(SECRET_PREFIX) + _ULID_LENGTH] != "_"
    ):
        raise _invalid()
    digest = _hash(secret)
    # Remembered only where a revocation reaches every process: on SQLite, the command line
    # revokes from a process of its own, which has no way to tell `serve`.
    remember = conn.notifies_other_processes
    generation = known_keys.generation
    known = known_keys.get(digest) if remember else None
    if known is None:
        row = await conn.fetch_one(
            _authenticate, {"org": f"org_{organization_ulid}", "hash": digest}
        )
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            raise _invalid()
        if row["revoked_at"] is not None:
            raise DomainError(ErrorCode.invalid_api_key, "The API key has been revoked.")
        caller, last_used = _caller(row), row["last_used_at"]
    else:
        caller, last_used = known
    now = utcnow()
    touched = last_used is None or now - last_used >= _LAST_USED_RESOLUTION
    if touched:
        params = {"org": caller.organization_id, "key_id": caller.key_id, "now": now}
        await conn.execute(_touch, params)
    if remember and (known is None or touched):
        known_keys.keep(digest, caller, now if touched else last_used, generation)
    return caller


_active_by_id = prepare(
    select(_t.c.id, _t.c.organization_id, _t.c.role, _t.c.profile_id, organizations.c.is_operator)
    .join(organizations, organizations.c.id == _t.c.organization_id)
    .where(_this_key, _t.c.revoked_at.is_(None))
)


async def active_caller(conn: Connection, organization_id: str, key_id: str) -> Caller | None:
    """The caller an active key stands for, by the key's id (a dashboard session remembers
    the id, never the secret); None once the key is revoked."""
    row = await conn.fetch_one(_active_by_id, {"org": organization_id, "key_id": key_id})
    if row is None:
        return None
    return _caller(row)


def _to_model(row: Mapping[Any, Any]) -> ApiKey:
    status: Literal["active", "revoked"] = "active" if row["revoked_at"] is None else "revoked"
    return ApiKey(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        role=row["role"],
        profile_id=row["profile_id"],
        hint=f"{SECRET_PREFIX}…{row['hint']}",
        status=status,
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def insert_api_key(
    conn: Connection,
    organization_id: str,
    *,
    name: str,
    role: Literal["admin", "member"],
    profile_id: str | None = None,
) -> ApiKeyWithSecret:
    """Write a new key for an organization the caller is already entitled to."""
    organization_ulid = organization_id.removeprefix("org_")
    secret = f"{SECRET_PREFIX}{organization_ulid}_{secrets.token_urlsafe(32)}"
    row = {
        "organization_id": organization_id,
        "id": new_id("key"),
        "name": name,
        "role": role,
        "profile_id": profile_id,
        "key_hash": _hash(secret),
        "hint": secret[-4:],
        "created_at": utcnow(),
        "last_used_at": None,
        "revoked_at": None,
    }
    await conn.execute(_insert, row)
    return ApiKeyWithSecret(**_to_model(row).model_dump(), secret=secret)


async def create_api_key(conn: Connection, caller: Caller, data: ApiKeyCreate) -> ApiKeyWithSecret:
    async with conn.transaction():
        if data.profile_id is not None:
            await require_profile(conn, caller, data.profile_id)
        key = await insert_api_key(
            conn,
            caller.organization_id,
            name=data.name,
            role=data.role,
            profile_id=data.profile_id,
        )
        await emit(
            conn,
            caller.organization_id,
            "api_key.created",
            ApiKey(**key.model_dump(exclude={"secret"})),
        )
        return key


async def list_api_keys(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    status: Literal["active", "revoked"] | None = None,
) -> Page[ApiKey]:
    statement = select(*_columns).where(_t.c.organization_id == caller.organization_id)
    if status == "active":
        statement = statement.where(_t.c.revoked_at.is_(None))
    elif status == "revoked":
        statement = statement.where(_t.c.revoked_at.is_not(None))
    result = await fetch_page(conn, statement, _t.c.id, page)
    return result.map(_to_model)


async def _require(conn: Connection, caller: Caller, key_id: str) -> Row:
    code = ErrorCode.api_key_not_found
    return await fetch_owned(conn, caller, _get, code, "API key", by_profile=False, key_id=key_id)


_name = prepare(select(_t.c.name).where(_this_key))


async def key_names(conn: Connection, organization_id: str, key_ids: set[str]) -> dict[str, str]:
    """The names of these keys of the organization (who changed something). A prepared
    lookup each: there are a few authors, and a statement built per call (`IN` a list)
    cost more than the rest of a dialect's read (measured)."""
    names = {}
    for key_id in key_ids:
        name = await conn.fetch_value(_name, {"org": organization_id, "key_id": key_id})
        if name is not None:
            names[key_id] = name
    return names


async def get_api_key(conn: Connection, caller: Caller, key_id: str) -> ApiKey:
    return _to_model(await _require(conn, caller, key_id))


async def revoke_api_key(conn: Connection, caller: Caller, key_id: str) -> ApiKey:
    """Revoke a key; it stops working on its next request. The last active admin key of an
    organization cannot be revoked, so an organization never locks itself out."""
    params = {"org": caller.organization_id, "key_id": key_id, "now": utcnow()}
    async with conn.transaction():
        await conn.fetch_one(_lock_organization, params)
        row = await _require(conn, caller, key_id)
        if row["revoked_at"] is not None:
            raise DomainError(ErrorCode.api_key_revoked, "This API key is already revoked.")
        if (
            row["role"] == "admin"
            and row["profile_id"] is None
            and await conn.fetch_value(_active_admins, params) <= 1
        ):
            raise DomainError(
                ErrorCode.last_admin_key,
                "This is the organization's last active admin key; create another first.",
            )
        await conn.execute(_revoke, params)
        conn.after_commit(known_keys.forget)
        await conn.notify(REVOCATIONS_CHANNEL)
        revoked = _to_model({**row, "revoked_at": params["now"]})
        await emit(conn, caller.organization_id, "api_key.revoked", revoked)
        return revoked

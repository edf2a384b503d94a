"""Organizations: the tenants. Each owns everything else; the operator organization, created on
the first start, runs the installation and is the only one that can create other tenants."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import bindparam, func, insert, select, update

from msgprofiles.api_keys.service import insert_api_key
from msgprofiles.core.auth import Caller
from msgprofiles.core.crypto import SecretBox, new_signing_secret
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.outbound import signing_secrets
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.organizations.models import organizations
from msgprofiles.organizations.schemas import (
    Organization,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationUpdate,
    WhatsAppCredentials,
)
from msgprofiles.profiles.service import insert_parent
from msgprofiles.webhooks.events import emit, register_event_type
from msgprofiles.webhooks.schemas import RotateSecret, SigningSecret

register_event_type("organization.created", "An organization was created.")
register_event_type("organization.updated", "The organization's name, email or metadata changed.")

_t = organizations
_get = prepare(select(_t).where(_t.c.id == bindparam("org")))
_count = prepare(select(func.count()).select_from(_t))
_insert_row = prepare(insert(_t))


def _to_model(row: Mapping[Any, Any]) -> Organization:
    values = dict(row)
    account = values.get("whatsapp_business_account")
    values["whatsapp_business_account"] = account and {
        "waba_id": account["waba_id"],
        "phone_number_id": account["phone_number_id"],
    }
    return Organization.model_validate(values)


def stored_whatsapp(credentials: WhatsAppCredentials, box: SecretBox) -> dict[str, Any]:
    return {
        "waba_id": credentials.waba_id,
        "phone_number_id": credentials.phone_number_id,
        "access_token": box.encrypt(credentials.access_token.get_secret_value()),
    }


async def _insert(
    conn: Connection,
    name: str,
    email: str | None,
    metadata: dict[str, str],
    is_operator: bool,
    whatsapp: dict[str, Any] | None = None,
) -> OrganizationCreated:
    now = utcnow()
    organization_id = new_id("org")
    row: dict[str, Any] = {
        "id": organization_id,
        "name": name,
        "email": email,
        "metadata": metadata,
        "is_operator": is_operator,
        "whatsapp_business_account": whatsapp,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(_insert_row, row)
    await insert_parent(conn, organization_id, name, whatsapp)
    key = await insert_api_key(conn, organization_id, name="Initial admin key", role="admin")
    organization = _to_model(row)
    await emit(conn, organization_id, "organization.created", organization)
    return OrganizationCreated(**organization.model_dump(), api_key=key)


async def create_organization(
    conn: Connection, caller: Caller, data: OrganizationCreate
) -> OrganizationCreated:
    """Create a tenant with a first admin key (operator only)."""
    caller.require_operator()
    async with conn.transaction():
        return await _insert(conn, data.name, data.email, data.metadata, is_operator=False)


SANDBOX_WHATSAPP = WhatsAppCredentials(
    waba_id="sandbox-waba",
    phone_number_id="sandbox-phone-number",
    access_token=SecretStr("sandbox"),
)


async def bootstrap_operator(conn: Connection, box: SecretBox) -> OrganizationCreated | None:
    """On an empty database, create the operator organization and its admin key; otherwise
    nothing. Safe to run on every start. The operator organization starts with the WhatsApp
    sandbox's account, so profiles can be tried out before real credentials exist."""
    async with conn.transaction():
        if await conn.fetch_value(_count):
            return None
        whatsapp = stored_whatsapp(SANDBOX_WHATSAPP, box)
        return await _insert(conn, "Operator", None, {}, is_operator=True, whatsapp=whatsapp)


async def operator_caller(conn: Connection) -> Caller:
    """The operator organization acting for itself, for the command line."""
    row = await conn.fetch_one(select(_t.c.id).where(_t.c.is_operator.is_(True)).limit(1))
    if row is None:
        raise DomainError(
            ErrorCode.organization_not_found,
            "There is no operator organization yet: start the service once (msgprofiles serve).",
        )
    return Caller(organization_id=row["id"], role="admin", is_operator=True)


async def list_organizations(
    conn: Connection, caller: Caller, page: PageParams
) -> Page[Organization]:
    caller.require_operator()
    result = await fetch_page(conn, select(_t), _t.c.id, page)
    return result.map(_to_model)


async def find_organization(conn: Connection, caller: Caller, organization_id: str) -> Organization:
    """Any organization, for the operator."""
    caller.require_operator()
    row = await conn.fetch_one(_get, {"org": organization_id})
    if row is None:
        raise not_found(ErrorCode.organization_not_found, "organization", organization_id)
    return _to_model(row)


async def get_organization(conn: Connection, caller: Caller) -> Organization:
    row = await conn.fetch_one(_get, {"org": caller.organization_id})
    if row is None:  # the key outlived its organization: nothing to show
        raise not_found(ErrorCode.organization_not_found, "organization", caller.organization_id)
    return _to_model(row)


async def update_organization(
    conn: Connection, caller: Caller, data: OrganizationUpdate, box: SecretBox
) -> Organization:
    changes = data.changes()
    if (account := changes.get("whatsapp_business_account")) is not None:
        changes["whatsapp_business_account"] = stored_whatsapp(account, box)
    async with conn.transaction():
        current = await get_organization(conn, caller)
        if not changes:
            return current
        changes["updated_at"] = utcnow()
        await conn.execute(update(_t).where(_t.c.id == caller.organization_id).values(**changes))
        row = await conn.fetch_one(_get, {"org": caller.organization_id})
        assert row is not None
        updated = _to_model(row)
        await emit(conn, caller.organization_id, "organization.updated", updated)
        return updated


_callback_secrets = prepare(
    select(
        _t.c.callback_secret,
        _t.c.previous_callback_secret,
        _t.c.previous_callback_secret_expires_at,
    ).where(_t.c.id == bindparam("org"))
)
_first_callback_secret = prepare(
    update(_t)
    .where(_t.c.id == bindparam("org"), _t.c.callback_secret.is_(None))
    .values(callback_secret=bindparam("secret"))
)


async def callback_secrets(conn: Connection, organization_id: str) -> Row | None:
    """The organization's callback signing secrets as stored (encrypted)."""
    return await conn.fetch_one(_callback_secrets, {"org": organization_id})


async def ensure_callback_secret(
    conn: Connection, organization_id: str, box: SecretBox
) -> str | None:
    """Give the organization its callback signing secret if it has none yet. Returns the new
    secret, to be shown once, or None when it already had one."""
    stored = await callback_secrets(conn, organization_id)
    if stored is not None and stored["callback_secret"] is not None:
        return None
    secret = new_signing_secret()
    params = {"org": organization_id, "secret": box.encrypt(secret)}
    return secret if await conn.execute(_first_callback_secret, params) else None


async def callback_signing_secrets(
    conn: Connection, organization_id: str, box: SecretBox
) -> list[str]:
    """The secrets the organization's callbacks are signed with, decrypted: its callback
    secret (made now if the organization predates them) and, during a rotation's grace
    period, the previous one."""
    stored = await callback_secrets(conn, organization_id)
    if stored is None or stored["callback_secret"] is None:
        async with conn.transaction():
            await ensure_callback_secret(conn, organization_id, box)
        stored = await callback_secrets(conn, organization_id)
    assert stored is not None
    return signing_secrets(
        box,
        stored["callback_secret"],
        stored["previous_callback_secret"],
        stored["previous_callback_secret_expires_at"],
    )


async def rotate_callback_secret(
    conn: Connection, caller: Caller, data: RotateSecret, box: SecretBox
) -> SigningSecret:
    """A new secret for signing callbacks, shown once; the old one keeps signing alongside
    it for the grace period."""
    caller.require_organization_scope()
    secret = new_signing_secret()
    expires = utcnow() + timedelta(hours=data.grace_period_hours)
    async with conn.transaction():
        stored = await callback_secrets(conn, caller.organization_id)
        await conn.execute(
            update(_t)
            .where(_t.c.id == caller.organization_id)
            .values(
                callback_secret=box.encrypt(secret),
                previous_callback_secret=stored and stored["callback_secret"],
                previous_callback_secret_expires_at=expires,
                updated_at=utcnow(),
            )
        )
    return SigningSecret(secret=secret, previous_secret_expires_at=expires)

"""WhatsApp accounts: connected WhatsApp Business phone numbers, owned by the organization or
by one of its customers, and the lookup that routes inbound traffic to them."""

from typing import Any

from sqlalchemy import bindparam, insert, select, update

from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.tenancy import fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, IntegrityError, Row, prepare
from msgprofiles.providers.whatsapp import Signup
from msgprofiles.webhooks.events import emit, register_event_type
from msgprofiles.whatsapp.models import whatsapp_accounts
from msgprofiles.whatsapp.schemas import (
    AccountRoute,
    Status,
    WhatsAppAccount,
    WhatsAppAccountUpdate,
)

register_event_type("whatsapp_account.connected", "A WhatsApp account was connected.")
register_event_type("whatsapp_account.updated", "A WhatsApp account's status or profile changed.")

_t = whatsapp_accounts
_get = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("wa"))
)
_by_phone_number_id = prepare(
    select(_t).where(
        _t.c.organization_id == bindparam("org"), _t.c.phone_number_id == bindparam("pnid")
    )
)
_of_customer = prepare(
    select(_t)
    .where(_t.c.organization_id == bindparam("org"), _t.c.customer_id == bindparam("cus"))
    .order_by(_t.c.id)
)
_insert = prepare(insert(_t))


def _to_model(row: Row | dict[str, Any]) -> WhatsAppAccount:
    return WhatsAppAccount.model_validate(dict(row), strict=False)


async def connect_account(
    conn: Connection,
    caller: Caller,
    customer_id: str | None,
    signup: Signup,
    account_id: str | None = None,
) -> WhatsAppAccount:
    """Record a connected account inside the caller's transaction. A phone number the
    organization has already connected is a 409."""
    assert conn.in_transaction
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": caller.organization_id,
        "id": account_id or new_id("wa"),
        "customer_id": customer_id,
        "profile_id": None,
        "waba_id": signup.waba_id,
        "phone_number_id": signup.phone_number_id,
        "phone_number": signup.phone_number,
        "name": signup.name,
        "status": "connected",
        "onboarded_at": now,
        "created_at": now,
        "updated_at": now,
    }
    try:
        async with conn.savepoint():
            await conn.execute(_insert, row)
    except IntegrityError:
        raise DomainError(
            ErrorCode.number_taken,
            f"Phone number id {signup.phone_number_id} is already connected.",
        ) from None
    account = _to_model(row)
    await emit(conn, caller.organization_id, "whatsapp_account.connected", account)
    return account


async def list_accounts(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    customer_id: str | None = None,
    status: Status | None = None,
) -> Page[WhatsAppAccount]:
    statement = select(_t).where(_t.c.organization_id == caller.organization_id)
    if customer_id is not None:
        statement = statement.where(_t.c.customer_id == customer_id)
    if status is not None:
        statement = statement.where(_t.c.status == status)
    return (await fetch_page(conn, statement, _t.c.id, page)).map(_to_model)


async def _require(conn: Connection, caller: Caller, account_id: str) -> Row:
    return await fetch_owned(
        conn,
        caller,
        _get,
        ErrorCode.whatsapp_account_not_found,
        "WhatsApp account",
        by_profile=False,
        wa=account_id,
    )


async def get_account(conn: Connection, caller: Caller, account_id: str) -> WhatsAppAccount:
    return _to_model(await _require(conn, caller, account_id))


async def update_account(
    conn: Connection,
    caller: Caller,
    account_id: str,
    data: WhatsAppAccountUpdate,
    profile_customer_id: str | None = None,
) -> WhatsAppAccount:
    """Change its status or the profile that uses it (`profile_customer_id`: that profile's
    customer). A customer's account serves only that customer's profiles, the organization's
    own accounts only its own profiles."""
    caller.require_organization_scope()
    changes = data.changes()
    async with conn.transaction():
        row = await _require(conn, caller, account_id)
        assigned = changes.get("profile_id")
        if assigned is not None and profile_customer_id != row["customer_id"]:
            raise DomainError(
                ErrorCode.validation_error,
                "A customer's account serves that customer's profiles only (and your own "
                "accounts your own profiles).",
                details=[{"field": "profile_id", "type": "owner_mismatch"}],
            )
        if not changes:
            return _to_model(row)
        changes["updated_at"] = utcnow()
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == account_id)
            .values(**changes)
        )
        account = _to_model({**row, **changes})
        await emit(conn, caller.organization_id, "whatsapp_account.updated", account)
    return account


async def accounts_of_customer(
    conn: Connection, caller: Caller, customer_id: str
) -> list[WhatsAppAccount]:
    rows = await conn.fetch_all(_of_customer, {"org": caller.organization_id, "cus": customer_id})
    return [_to_model(row) for row in rows]


async def lookup(conn: Connection, caller: Caller, phone_number_id: str) -> AccountRoute:
    """The account of a phone number id with its owner and profile, in one indexed read."""
    row = await conn.fetch_one(
        _by_phone_number_id, {"org": caller.organization_id, "pnid": phone_number_id}
    )
    if row is None:
        raise not_found(
            ErrorCode.whatsapp_account_not_found,
            "WhatsApp account with phone number",
            phone_number_id,
        )
    account = _to_model(row)
    return AccountRoute(
        account=account,
        organization_id=caller.organization_id,
        customer_id=account.customer_id,
        profile_id=account.profile_id,
    )

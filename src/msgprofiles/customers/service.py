"""End-customers (the organization's own customers) and the one-time setup links they open to
connect their WhatsApp account.

A setup link's token is shown once and stored as a SHA-256 hash. It starts with the
organization's id (the ULID part), so the hosted page finds the link within one organization,
like every other read; the rest is 43 random URL-safe characters."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update

from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, escape_like, fetch_page
from msgprofiles.core.tenancy import count_by, fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.customers.models import customer_setup_links, customers
from msgprofiles.customers.schemas import (
    Archived,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    CustomerWithAccounts,
    LinkStatus,
    SetupLink,
    SetupLinkCreate,
    SetupLinkUpdate,
    SetupLinkWithToken,
    Status,
)
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import enqueue, handler
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks.events import emit, register_event_type
from msgprofiles.whatsapp import service as whatsapp

register_event_type("customer.created", "A customer was created.")
register_event_type("customer.updated", "A customer's details or status changed.")
register_event_type("customer.archived", "A customer was archived.")
register_event_type("customer.onboarded", "A customer connected its first WhatsApp account.")
register_event_type("customer.setup_link.created", "A setup link was made for a customer.")
register_event_type("customer.setup_link.consumed", "A customer completed its setup link.")
register_event_type("customer.setup_link.expired", "A setup link expired unused.")
register_event_type("customer.setup_link.revoked", "A setup link was revoked.")

EXPIRE_JOB = "customer.setup_link.expire"
LINKS_LISTED = 50
_ORGANIZATION_PART = 26  # the ULID of `org_…`

_c, _l = customers, customer_setup_links
_get = prepare(
    select(_c).where(_c.c.organization_id == bindparam("org"), _c.c.id == bindparam("cus"))
)
_get_link = prepare(
    select(_l).where(
        _l.c.organization_id == bindparam("org"),
        _l.c.customer_id == bindparam("cus"),
        _l.c.id == bindparam("csl"),
    )
)
_by_token = prepare(
    select(_l).where(_l.c.organization_id == bindparam("org"), _l.c.token_hash == bindparam("hash"))
)
_insert = prepare(insert(_c))
_insert_link = prepare(insert(_l))
_this_link = (_l.c.organization_id == bindparam("org")) & (_l.c.id == bindparam("csl"))
# Only an active link changes state: the condition makes a concurrent second change a no-op.
_end_link = prepare(
    update(_l)
    .where(_this_link, _l.c.status == "active")
    .values(
        status=bindparam("status"),
        consumed_at=bindparam("consumed_at"),
        account_id=bindparam("account_id"),
        updated_at=bindparam("now"),
    )
)


def _customer(row: Row | dict[str, Any]) -> Customer:
    return Customer.model_validate(dict(row), strict=False)


def _link_status(row: Row | dict[str, Any]) -> LinkStatus:
    """Expiry is also judged on every read, before the expiry job has run."""
    status: LinkStatus = row["status"]
    if status == "active" and row["expires_at"] <= utcnow():
        return "expired"
    return status


def _link(row: Row | dict[str, Any]) -> SetupLink:
    return SetupLink.model_validate({**dict(row), "status": _link_status(row)}, strict=False)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _require(conn: Connection, caller: Caller, customer_id: str) -> Row:
    return await fetch_owned(
        conn,
        caller,
        _get,
        ErrorCode.customer_not_found,
        "customer",
        by_profile=False,
        cus=customer_id,
    )


def _not_archived(row: Row) -> None:
    if row["status"] == "archived":
        raise DomainError(ErrorCode.customer_archived, "This customer is archived.")


async def create_customer(conn: Connection, caller: Caller, data: CustomerCreate) -> Customer:
    caller.require_organization_scope()
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": caller.organization_id,
        "id": new_id("cus"),
        "name": data.name,
        "email": data.email,
        "status": "pending",
        "metadata": data.metadata,
        "team_id": data.team_id or caller.organization_id,
        "created_at": now,
        "updated_at": now,
        "archived_at": None,
    }
    async with conn.transaction():
        await conn.execute(_insert, row)
        customer = _customer(row)
        await emit(conn, caller.organization_id, "customer.created", customer)
    return customer


async def list_customers(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    status: Status | None = None,
    search: str | None = None,
) -> Page[Customer]:
    statement = select(_c).where(_c.c.organization_id == caller.organization_id)
    if status is not None:
        statement = statement.where(_c.c.status == status)
    if search:
        pattern = f"%{escape_like(search)}%"
        statement = statement.where(
            or_(_c.c.name.ilike(pattern, escape="\\"), _c.c.email.ilike(pattern, escape="\\"))
        )
    return (await fetch_page(conn, statement, _c.c.id, page)).map(_customer)


async def count_by_status(conn: Connection, caller: Caller) -> dict[str, int]:
    """The organization's customers by status (archived ones too)."""
    return await count_by(conn, caller.organization_id, customers.c.status)


async def get_customer(conn: Connection, caller: Caller, customer_id: str) -> CustomerWithAccounts:
    customer = _customer(await _require(conn, caller, customer_id))
    accounts = await whatsapp.accounts_of_customer(conn, caller, customer_id)
    return CustomerWithAccounts(**customer.model_dump(), whatsapp_accounts=accounts)


async def customer_status(conn: Connection, caller: Caller, customer_id: str) -> Status:
    row = await _require(conn, caller, customer_id)
    status: Status = row["status"]
    return status


async def update_customer(
    conn: Connection, caller: Caller, customer_id: str, data: CustomerUpdate
) -> Customer:
    caller.require_organization_scope()
    changes = data.changes()
    async with conn.transaction():
        row = await _require(conn, caller, customer_id)
        _not_archived(row)
        if not changes:
            return _customer(row)
        changes["updated_at"] = utcnow()
        await conn.execute(
            update(_c)
            .where(_c.c.organization_id == caller.organization_id, _c.c.id == customer_id)
            .values(**changes)
        )
        customer = _customer({**row, **changes})
        await emit(conn, caller.organization_id, "customer.updated", customer)
    return customer


async def unsuspend_customer(conn: Connection, caller: Caller, customer_id: str) -> Customer:
    """Lift a suspension: the customer is active again if it connected a WhatsApp account,
    else pending (still to onboard)."""
    async with conn.transaction():
        found = await get_customer(conn, caller, customer_id)
        if found.status != "suspended":
            return await update_customer(conn, caller, customer_id, CustomerUpdate())
        lifted = CustomerUpdate(status="active" if found.whatsapp_accounts else "pending")
        return await update_customer(conn, caller, customer_id, lifted)


async def archive_customer(conn: Connection, caller: Caller, customer_id: str) -> Archived:
    """Archive for good (DELETE): the customer stays readable and its accounts keep it;
    archiving twice changes nothing more."""
    caller.require_organization_scope()
    async with conn.transaction():
        row = await _require(conn, caller, customer_id)
        if row["status"] != "archived":
            now = utcnow()
            changes = {"status": "archived", "archived_at": now, "updated_at": now}
            await conn.execute(
                update(_c)
                .where(_c.c.organization_id == caller.organization_id, _c.c.id == customer_id)
                .values(**changes)
            )
            customer = _customer({**row, **changes})
            await emit(conn, caller.organization_id, "customer.archived", customer)
    return Archived(id=customer_id)


# Setup links ---------------------------------------------------------------------------------


async def create_setup_link(
    conn: Connection, caller: Caller, customer_id: str, data: SetupLinkCreate, public_url: str
) -> SetupLinkWithToken:
    """A new one-time link; earlier active links stay valid. Its token is in `setup_url`,
    shown only in this answer."""
    caller.require_organization_scope()
    token = caller.organization_id.removeprefix("org_") + secrets.token_urlsafe(32)
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": caller.organization_id,
        "id": new_id("csl"),
        "customer_id": customer_id,
        "token_hash": _hash(token),
        "token_last4": token[-4:],
        "status": "active",
        "expires_at": now + timedelta(hours=data.expires_in_hours),
        "consumed_at": None,
        "success_redirect_url": data.success_redirect_url,
        "failure_redirect_url": data.failure_redirect_url,
        "account_id": None,
        "created_at": now,
        "updated_at": now,
    }
    async with conn.transaction():
        _not_archived(await _require(conn, caller, customer_id))
        await conn.execute(_insert_link, row)
        link = _link(row)
        await emit(conn, caller.organization_id, "customer.setup_link.created", link)
        await enqueue(
            conn,
            caller.organization_id,
            EXPIRE_JOB,
            {"link_id": row["id"]},
            delay=timedelta(hours=data.expires_in_hours),
        )
    return SetupLinkWithToken(
        **link.model_dump(), setup_url=f"{public_url.rstrip('/')}/setup/{token}"
    )


async def list_setup_links(
    conn: Connection, caller: Caller, customer_id: str, status: LinkStatus | None = None
) -> list[SetupLink]:
    """The customer's 50 latest links, newest first."""
    await _require(conn, caller, customer_id)
    rows = await conn.fetch_all(
        select(_l)
        .where(_l.c.organization_id == caller.organization_id, _l.c.customer_id == customer_id)
        .order_by(_l.c.id.desc())
        .limit(LINKS_LISTED)
    )
    links = [_link(row) for row in rows]
    return [link for link in links if status is None or link.status == status]


async def _require_active_link(
    conn: Connection, caller: Caller, customer_id: str, link_id: str
) -> Row:
    await _require(conn, caller, customer_id)
    row = await conn.fetch_one(
        _get_link, {"org": caller.organization_id, "cus": customer_id, "csl": link_id}
    )
    if row is None:
        raise DomainError(ErrorCode.setup_link_not_found, f"No setup link with id '{link_id}'.")
    if (status := _link_status(row)) != "active":
        raise DomainError(ErrorCode.setup_link_inactive, f"This setup link is {status}.")
    return row


async def update_setup_link(
    conn: Connection, caller: Caller, customer_id: str, link_id: str, data: SetupLinkUpdate
) -> SetupLink:
    caller.require_organization_scope()
    changes = data.changes()
    async with conn.transaction():
        row = await _require_active_link(conn, caller, customer_id, link_id)
        if not changes:
            return _link(row)
        changes["updated_at"] = utcnow()
        await conn.execute(
            update(_l)
            .where(_l.c.organization_id == caller.organization_id, _l.c.id == link_id)
            .values(**changes)
        )
    return _link({**row, **changes})


async def revoke_setup_link(
    conn: Connection, caller: Caller, customer_id: str, link_id: str
) -> SetupLink:
    caller.require_organization_scope()
    async with conn.transaction():
        row = await _require_active_link(conn, caller, customer_id, link_id)
        link = await _end(conn, caller.organization_id, row, "revoked")
        if link is None:  # a concurrent request ended it first
            raise DomainError(ErrorCode.setup_link_inactive, "This setup link is no longer active.")
        await emit(conn, caller.organization_id, "customer.setup_link.revoked", link)
    return link


async def _end(
    conn: Connection,
    organization_id: str,
    row: Row,
    status: LinkStatus,
    account_id: str | None = None,
) -> SetupLink | None:
    """Move an active link to `status`; None when it was no longer active."""
    now = utcnow()
    consumed_at = now if status == "consumed" else None
    changed = await conn.execute(
        _end_link,
        {
            "org": organization_id,
            "csl": row["id"],
            "status": status,
            "consumed_at": consumed_at,
            "account_id": account_id,
            "now": now,
        },
    )
    if not changed:
        return None
    return _link({**row, "status": status, "consumed_at": consumed_at, "updated_at": now})


@handler(EXPIRE_JOB)
async def _expire(runtime: Runtime, job: Row) -> None:
    """At its expiry, an unused link becomes expired, with an event (idempotent)."""
    organization_id = job["organization_id"]
    async with runtime.database.connect() as conn, conn.transaction():
        row = await conn.fetch_one(
            select(_l).where(
                _l.c.organization_id == organization_id, _l.c.id == job["payload"]["link_id"]
            )
        )
        if row is None or row["status"] != "active" or row["expires_at"] > utcnow():
            return
        link = await _end(conn, organization_id, row, "expired")
        if link is not None:
            await emit(conn, organization_id, "customer.setup_link.expired", link)


# The hosted page's side --------------------------------------------------------------------


class OpenedLink:
    """A link found by its token: what the hosted page shows and acts on."""

    def __init__(self, link: Row, customer: Row) -> None:
        self.row = link
        self.id: str = link["id"]
        self.organization_id: str = link["organization_id"]
        self.customer_id: str = customer["id"]
        self.customer_name: str = customer["name"]
        self.customer_status: Status = customer["status"]
        self.status: LinkStatus = _link_status(link)
        self.success_redirect_url: str | None = link["success_redirect_url"]
        self.failure_redirect_url: str | None = link["failure_redirect_url"]


async def open_link(conn: Connection, token: str) -> OpenedLink | None:
    """The link of `token` (any status), or None for a token no link has."""
    organization_id = "org_" + token[:_ORGANIZATION_PART]
    row = await conn.fetch_one(_by_token, {"org": organization_id, "hash": _hash(token)})
    if row is None:
        return None
    customer = await conn.fetch_one(_get, {"org": organization_id, "cus": row["customer_id"]})
    assert customer is not None
    return OpenedLink(row, customer)


async def consume_link(
    conn: Connection, caller: Caller, opened: OpenedLink, account_id: str
) -> bool:
    """Inside the caller's transaction: the link is consumed by `account_id`, and a pending
    customer becomes active (onboarded). False when the link was no longer active (another
    submission consumed it first): the caller rolls back."""
    assert conn.in_transaction
    link = await _end(conn, caller.organization_id, opened.row, "consumed", account_id)
    if link is None:
        return False
    await emit(conn, caller.organization_id, "customer.setup_link.consumed", link)
    row = await _require(conn, caller, opened.customer_id)
    if row["status"] == "pending":
        now = utcnow()
        await conn.execute(
            update(_c)
            .where(_c.c.organization_id == caller.organization_id, _c.c.id == opened.customer_id)
            .values(status="active", updated_at=now)
        )
        customer = _customer({**row, "status": "active", "updated_at": now})
        await emit(conn, caller.organization_id, "customer.onboarded", customer)
    return True

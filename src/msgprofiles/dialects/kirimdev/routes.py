"""Kirimdev's Customers, setup links, accounts and webhook subscriptions (spec §2) on the
native services: same objects and ids as /v1, Kirimdev's statuses, shapes and errors."""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import AdminCtx, Ctx
from msgprofiles.core.pagination import Page, PageParams
from msgprofiles.customers import service as customers
from msgprofiles.customers.schemas import (
    CustomerCreate,
    CustomerUpdate,
    LinkStatus,
    SetupLinkCreate,
    SetupLinkUpdate,
    Status,
)
from msgprofiles.dialects.kirimdev import formats
from msgprofiles.dialects.kirimdev.schemas import SubscriptionCreate, SubscriptionUpdate
from msgprofiles.dialects.kirimdev.wire import KirimRoute
from msgprofiles.webhooks import events as event_log
from msgprofiles.webhooks import service as webhooks
from msgprofiles.webhooks.schemas import (
    RotateSecret,
    WebhookSubscription,
    WebhookSubscriptionCreate,
    WebhookSubscriptionUpdate,
)
from msgprofiles.whatsapp import service as whatsapp
from msgprofiles.whatsapp.schemas import Status as AccountStatus
from msgprofiles.whatsapp.schemas import WhatsAppAccount

router = APIRouter(prefix="/v1", route_class=KirimRoute)  # 200 for every success, creates too

_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
CustomerId = Annotated[str, Path(pattern=f"^cus_{_ULID}$")]
LinkId = Annotated[str, Path(pattern=f"^csl_{_ULID}$")]
Limit = Annotated[str | None, Query(pattern=r"^\d+$", max_length=4)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _page(limit: str | None, cursor: str | None) -> PageParams:
    """`limit` is a digit string (Kirimdev): 20 by default, at most 100."""
    size = 20 if limit is None else int(limit)
    if not 1 <= size <= 100:
        raise DomainError(ErrorCode.validation_error, "limit is 1 to 100.")
    return PageParams(limit=size, cursor=cursor)


# Customers ---------------------------------------------------------------------------------


def _account(account: WhatsAppAccount) -> dict[str, Any]:
    return {
        "phone_number_id": account.phone_number_id,
        "phone_number": account.phone_number,
        "name": account.name,
        "status": account.status,
        "onboarded_at": account.onboarded_at,
    }


@router.get("/customers")
async def list_customers(
    ctx: Ctx,
    status: Status | None = None,
    search: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    page = _page(limit, cursor)
    return ctx.page(await customers.list_customers(ctx.conn, ctx.caller, page, status, search))


@router.post("/customers")
async def create_customer(body: CustomerCreate, ctx: AdminCtx) -> Response:
    return ctx.ok(await customers.create_customer(ctx.conn, ctx.caller, body))


@router.get("/customers/{customer_id}")
async def get_customer(customer_id: CustomerId, ctx: Ctx) -> Response:
    found = await customers.get_customer(ctx.conn, ctx.caller, customer_id)
    shape = found.model_dump(exclude={"whatsapp_accounts"})
    shape["whatsapp_accounts"] = [_account(account) for account in found.whatsapp_accounts]
    return ctx.ok(shape)


@router.patch("/customers/{customer_id}")
async def update_customer(customer_id: CustomerId, body: CustomerUpdate, ctx: AdminCtx) -> Response:
    return ctx.ok(await customers.update_customer(ctx.conn, ctx.caller, customer_id, body))


@router.delete("/customers/{customer_id}")
async def archive_customer(customer_id: CustomerId, ctx: AdminCtx) -> Response:
    return ctx.ok(await customers.archive_customer(ctx.conn, ctx.caller, customer_id))


@router.get("/customers/{customer_id}/setup_links")
async def list_setup_links(
    customer_id: CustomerId, ctx: Ctx, status: LinkStatus | None = None
) -> Response:
    links = await customers.list_setup_links(ctx.conn, ctx.caller, customer_id, status)
    return ctx.page(Page(links, has_more=False, next_cursor=None))  # the 50 latest


@router.post("/customers/{customer_id}/setup_links")
async def create_setup_link(
    customer_id: CustomerId, body: SetupLinkCreate, ctx: AdminCtx
) -> Response:
    public_url = ctx.runtime.settings.base_url
    link = await customers.create_setup_link(ctx.conn, ctx.caller, customer_id, body, public_url)
    return ctx.ok(link)


@router.patch("/customers/{customer_id}/setup_links/{link_id}")
async def update_setup_link(
    customer_id: CustomerId, link_id: LinkId, body: SetupLinkUpdate, ctx: AdminCtx
) -> Response:
    link = await customers.update_setup_link(ctx.conn, ctx.caller, customer_id, link_id, body)
    return ctx.ok(link)


@router.delete("/customers/{customer_id}/setup_links/{link_id}")
async def revoke_setup_link(customer_id: CustomerId, link_id: LinkId, ctx: AdminCtx) -> Response:
    link = await customers.revoke_setup_link(ctx.conn, ctx.caller, customer_id, link_id)
    shape = {"id": link.id, "object": link.object, "revoked": True, "status": link.status}
    return ctx.ok(shape)


# Accounts ----------------------------------------------------------------------------------


@router.get("/accounts")
async def list_accounts(
    ctx: Ctx,
    customer_id: Annotated[str | None, Query(pattern=f"^cus_{_ULID}$")] = None,
    status: AccountStatus | None = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    page = _page(limit, cursor)
    found = await whatsapp.list_accounts(ctx.conn, ctx.caller, page, customer_id, status)
    return ctx.page(found.map(lambda a: {"id": a.id, "customer_id": a.customer_id} | _account(a)))


# Webhook subscriptions ---------------------------------------------------------------------


def _subscription(record: WebhookSubscription, **extra: str) -> dict[str, Any]:
    options = record.format_options or {}
    return {
        "id": record.id,
        "object": "webhook_subscription",
        "url": record.url,
        "description": record.description,
        "events": options.get("events", record.event_types or []),
        "status": record.status,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        **extra,
    }


def _ours(events: Sequence[str]) -> list[str]:
    """The events msgprofiles produces, of those named (the others are kept, not sent)."""
    return sorted(set(events) & set(event_log.EVENT_TYPES))


@router.post("/webhook_subscriptions")
async def create_subscription(body: SubscriptionCreate, ctx: AdminCtx) -> Response:
    """`initial_secret` is shown in this answer only."""
    events = list(dict.fromkeys(body.events))
    data = WebhookSubscriptionCreate(
        url=body.url,
        description=body.description,
        event_types=_ours(events),
        payload_format=formats.NAME,
        format_options={"events": events},
    )
    state = ctx.runtime
    created = await webhooks.create_subscription(
        ctx.conn, ctx.caller, data, state.secrets, state.settings.allow_private_webhooks
    )
    return ctx.ok(_subscription(created, initial_secret=created.secret or ""))


@router.get("/webhook_subscriptions")
async def list_subscriptions(ctx: Ctx, limit: Limit = None, cursor: Cursor = None) -> Response:
    found = await webhooks.list_subscriptions(ctx.conn, ctx.caller, _page(limit, cursor))
    return ctx.page(found.map(_subscription))


@router.get("/webhook_subscriptions/{subscription_id}")
async def get_subscription(subscription_id: str, ctx: Ctx) -> Response:
    found = await webhooks.get_subscription(ctx.conn, ctx.caller, subscription_id)
    return ctx.ok(_subscription(found))


@router.patch("/webhook_subscriptions/{subscription_id}")
async def update_subscription(
    subscription_id: str, body: SubscriptionUpdate, ctx: AdminCtx
) -> Response:
    changes = body.changes()
    values: dict[str, Any] = {k: v for k, v in changes.items() if k in ("url", "description")}
    if body.events is not None:
        events = list(dict.fromkeys(body.events))
        values |= {"event_types": _ours(events), "format_options": {"events": events}}
    updated = await webhooks.update_subscription(
        ctx.conn,
        ctx.caller,
        subscription_id,
        WebhookSubscriptionUpdate(**values),
        ctx.runtime.settings.allow_private_webhooks,
    )
    return ctx.ok(_subscription(updated))


@router.delete("/webhook_subscriptions/{subscription_id}")
async def delete_subscription(subscription_id: str, ctx: AdminCtx) -> Response:
    await webhooks.delete_subscription(ctx.conn, ctx.caller, subscription_id)
    return ctx.ok({"id": subscription_id, "object": "webhook_subscription", "deleted": True})


@router.post("/webhook_subscriptions/{subscription_id}/rotate_secret")
async def rotate_secret(subscription_id: str, ctx: AdminCtx) -> Response:
    """A new secret, shown once; the old one keeps signing for 24 hours."""
    rotated = await webhooks.rotate_secret(
        ctx.conn, ctx.caller, subscription_id, RotateSecret(), ctx.runtime.secrets
    )
    found = await webhooks.get_subscription(ctx.conn, ctx.caller, subscription_id)
    return ctx.ok(_subscription(found, secret=rotated.secret or ""))


@router.post("/webhook_subscriptions/{subscription_id}/{action}")
async def pause_or_resume(
    subscription_id: str, action: Literal["pause", "resume"], ctx: AdminCtx
) -> Response:
    status: Literal["active", "paused"] = "paused" if action == "pause" else "active"
    changed = await webhooks.set_status(ctx.conn, ctx.caller, subscription_id, status)
    return ctx.ok(_subscription(changed))

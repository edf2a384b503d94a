from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import Page as PageResult
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.core.validation import DateTime
from msgprofiles.webhooks import events as event_log
from msgprofiles.webhooks import service
from msgprofiles.webhooks.schemas import (
    Delivery,
    Event,
    EventType,
    Ping,
    Redeliver,
    RotateSecret,
    SigningSecret,
    WebhookSubscription,
    WebhookSubscriptionCreate,
    WebhookSubscriptionUpdate,
    WebhookSubscriptionWithSecret,
)

router = APIRouter(prefix="/v1", tags=["Webhooks"], route_class=ApiRoute, responses=ERROR_RESPONSES)
Page = Annotated[PageParams, Depends(page_params)]
SUBSCRIPTION = "/webhook_subscriptions/{subscription_id}"


@router.post(
    "/webhook_subscriptions",
    status_code=201,
    response_model=Envelope[WebhookSubscriptionWithSecret],
)
async def create_subscription(body: WebhookSubscriptionCreate, ctx: AdminCtx) -> Response:
    """Subscribe a URL to events (all types, or those listed). The signing secret is in this
    response only; deliveries are signed with it following Standard Webhooks."""
    settings = ctx.runtime.settings
    created = await service.create_subscription(
        ctx.conn, ctx.caller, body, ctx.runtime.secrets, settings.allow_private_webhooks
    )
    return ctx.ok(created, 201)


@router.get("/webhook_subscriptions", response_model=ListEnvelope[WebhookSubscription])
async def list_subscriptions(
    ctx: Ctx,
    page: Page,
    status: Annotated[Literal["active", "paused", "disabled"] | None, Query()] = None,
    search: Annotated[
        str | None, Query(max_length=100, description="In the URL or description.")
    ] = None,
) -> Response:
    """Your webhook subscriptions, newest first (a profile-scoped key sees its profile's);
    filter by status and search."""
    result = await service.list_subscriptions(ctx.conn, ctx.caller, page, status, search)
    return ctx.page(result)


@router.get(SUBSCRIPTION, response_model=Envelope[WebhookSubscription])
async def get_subscription(subscription_id: str, ctx: Ctx) -> Response:
    """One webhook subscription (never its secret)."""
    return ctx.ok(await service.get_subscription(ctx.conn, ctx.caller, subscription_id))


@router.patch(SUBSCRIPTION, response_model=Envelope[WebhookSubscription])
async def update_subscription(
    subscription_id: str, body: WebhookSubscriptionUpdate, ctx: AdminCtx
) -> Response:
    """Change the URL, description, event types or status (`active`/`paused`)."""
    allow_private = ctx.runtime.settings.allow_private_webhooks
    updated = await service.update_subscription(
        ctx.conn, ctx.caller, subscription_id, body, allow_private
    )
    return ctx.ok(updated)


@router.delete(SUBSCRIPTION, response_model=Envelope[WebhookSubscription])
async def delete_subscription(subscription_id: str, ctx: AdminCtx) -> Response:
    """Delete a subscription: nothing more is sent to it; its delivery history stays."""
    return ctx.ok(await service.delete_subscription(ctx.conn, ctx.caller, subscription_id))


@router.post(SUBSCRIPTION + "/rotate_secret", response_model=Envelope[SigningSecret])
async def rotate_secret(
    subscription_id: str, ctx: AdminCtx, body: RotateSecret | None = None
) -> Response:
    """A new signing secret, shown once. The old one keeps signing alongside it for the grace
    period (default 24 h), so receivers can switch without losing events."""
    rotated = await service.rotate_secret(
        ctx.conn, ctx.caller, subscription_id, body or RotateSecret(), ctx.runtime.secrets
    )
    return ctx.ok(rotated)


@router.post(SUBSCRIPTION + "/pause", response_model=Envelope[WebhookSubscription])
async def pause(subscription_id: str, ctx: AdminCtx) -> Response:
    """Hold deliveries until resumed; nothing is lost."""
    return ctx.ok(await service.set_status(ctx.conn, ctx.caller, subscription_id, "paused"))


@router.post(SUBSCRIPTION + "/resume", response_model=Envelope[WebhookSubscription])
async def resume(subscription_id: str, ctx: AdminCtx) -> Response:
    """Send held deliveries and new ones again (also brings back a disabled subscription)."""
    return ctx.ok(await service.set_status(ctx.conn, ctx.caller, subscription_id, "active"))


@router.post(SUBSCRIPTION + "/test", response_model=Envelope[Ping])
async def send_test(subscription_id: str, ctx: AdminCtx) -> Response:
    """Send a `ping` event to this subscription."""
    return ctx.ok(await service.send_test(ctx.conn, ctx.caller, subscription_id))


@router.get(SUBSCRIPTION + "/deliveries", response_model=ListEnvelope[Delivery])
async def list_deliveries(subscription_id: str, ctx: Ctx, page: Page) -> Response:
    """Deliveries to this subscription, newest first, each with every attempt."""
    result = await service.list_deliveries(ctx.conn, ctx.caller, subscription_id, page)
    return ctx.page(result)


@router.get("/events", response_model=ListEnvelope[Event])
async def list_events(
    ctx: Ctx,
    page: Page,
    type: Annotated[str | None, Query(max_length=80)] = None,
    created_after: Annotated[DateTime | None, Query()] = None,
    created_before: Annotated[DateTime | None, Query()] = None,
) -> Response:
    """Events of your organization (a profile-scoped key: of its profile), newest first;
    filter by type and time range."""
    result = await event_log.list_events(
        ctx.conn,
        ctx.caller,
        page,
        event_type=type,
        created_after=created_after,
        created_before=created_before,
    )
    return ctx.page(result)


@router.get("/events/{event_id}", response_model=Envelope[Event])
async def get_event(event_id: str, ctx: Ctx) -> Response:
    """One event."""
    return ctx.ok(await event_log.get_event(ctx.conn, ctx.caller, event_id))


@router.post("/events/{event_id}/redeliver", status_code=202, response_model=Envelope[list[str]])
async def redeliver(event_id: str, ctx: AdminCtx, body: Redeliver | None = None) -> Response:
    """Deliver an event again, to one subscription or to all that want it; the new delivery
    ids."""
    ctx.caller.require_organization_scope()
    subscription = body.subscription_id if body else None
    ids = await event_log.redeliver(ctx.conn, ctx.caller, event_id, subscription)
    return ctx.ok(ids, 202)


@router.get("/event_types", response_model=ListEnvelope[EventType])
async def list_event_types(ctx: Ctx) -> Response:
    """Every event type msgprofiles emits, with what it means."""
    return ctx.page(PageResult(event_log.catalogue(), has_more=False, next_cursor=None))

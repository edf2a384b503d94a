"""Sent.dm v3 Profiles, profile Campaigns and Webhooks (spec §2), on the native services: the
routes only translate shapes, names and codes."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic.alias_generators import to_camel

from msgprofiles.brands.schemas import BrandFields
from msgprofiles.campaigns import service as campaigns
from msgprofiles.campaigns.schemas import CampaignContent
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import AdminCtx, Context, Ctx
from msgprofiles.core.pagination import Page, PageParams
from msgprofiles.dialects.sentdm import events as sent_events
from msgprofiles.dialects.sentdm import formats, schemas, shapes
from msgprofiles.dialects.sentdm.wire import (
    ERROR_RESPONSES,
    SentRoute,
    no_content,
    ok,
    validated,
)
from msgprofiles.dialects.toolkit import Totals, numbered
from msgprofiles.organizations.service import get_organization
from msgprofiles.profiles import schemas as native_profiles
from msgprofiles.profiles import service as profiles
from msgprofiles.profiles.schemas import Profile
from msgprofiles.webhooks import events as event_log
from msgprofiles.webhooks import service as webhooks
from msgprofiles.webhooks.schemas import (
    RotateSecret,
    WebhookSubscriptionCreate,
    WebhookSubscriptionUpdate,
)
from msgprofiles.workflows import completion
from msgprofiles.workflows.schemas import CompleteProfile

router = APIRouter(prefix="/v3", route_class=SentRoute, responses=ERROR_RESPONSES)
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


def _pagination(result: Page[Any], page: int, page_size: int) -> dict[str, Any]:
    totals = Totals.of(result, page_size)
    return {
        "page": page,
        "page_size": page_size,
        "total_count": totals.total,
        "total_pages": totals.total_pages,
        "has_more": totals.has_more,
        "cursors": None,
    }


# Profiles -------------------------------------------------------------------------------


def _brand(body: schemas.ProfileCreate | schemas.ProfileUpdate) -> BrandFields | None:
    if body.brand is None:
        return None
    brand: BrandFields = validated(BrandFields, body.brand.native(), "brand.")
    return brand


async def _profiles(ctx: Context, records: list[Profile]) -> list[dict[str, Any]]:
    """ProfileDetails: each profile with its brand and the organization's email (a page of
    them costs the same few queries as one)."""
    brands = await profiles.profile_brands(ctx.conn, ctx.caller, records)
    email = (await get_organization(ctx.conn, ctx.caller)).email
    return [
        shapes.profile(record, brand, inherited=inherited, email=email)
        for record, (brand, inherited) in zip(records, brands, strict=True)
    ]


async def _profile(ctx: Context, record: Profile) -> dict[str, Any]:
    return (await _profiles(ctx, [record]))[0]


@router.post("/profiles", status_code=201)
async def create_profile(body: schemas.ProfileCreate, ctx: AdminCtx, request: Request) -> Response:
    data = validated(native_profiles.ProfileCreate, body.native_fields())
    state = ctx.runtime
    created = await profiles.create_profile(
        ctx.conn,
        ctx.caller,
        data,
        state.providers.payments,
        state.secrets,
        brand=_brand(body),
        require_whatsapp=True,  # Sent.dm's profiles always have the WhatsApp channel
    )
    return ok(request, await _profile(ctx, created), 201)


@router.get("/profiles")
async def list_profiles(
    ctx: Ctx, request: Request, page: PageNumber = 1, page_size: PageSize = 100
) -> Response:
    result = await profiles.list_profiles(ctx.conn, ctx.caller, numbered(page, page_size))
    items = await _profiles(ctx, result.items)
    return ok(request, {"profiles": items, "pagination": _pagination(result, page, page_size)})


@router.get("/profiles/{profile_id}")
async def get_profile(profile_id: str, ctx: Ctx, request: Request) -> Response:
    record = await profiles.get_profile(ctx.conn, ctx.caller, profile_id)
    return ok(request, await _profile(ctx, record))


@router.patch("/profiles/{profile_id}")
async def update_profile(
    profile_id: str, body: schemas.ProfileUpdate, ctx: AdminCtx, request: Request
) -> Response:
    data = validated(native_profiles.ProfileUpdate, body.native_fields())
    updated = await profiles.update_profile(
        ctx.conn,
        ctx.caller,
        profile_id,
        data,
        ctx.runtime.providers.payments,
        brand=_brand(body),
    )
    return ok(request, await _profile(ctx, updated))


@router.delete("/profiles/{profile_id}", status_code=204)
async def delete_profile(profile_id: str, ctx: AdminCtx) -> Response:
    await profiles.delete_profile(ctx.conn, ctx.caller, profile_id)
    return no_content()


@router.post("/profiles/{profile_id}/complete", status_code=202)
async def complete_profile(
    profile_id: str, body: schemas.Complete, ctx: AdminCtx, request: Request
) -> Response:
    state = ctx.runtime
    run, already = await completion.start_completion(
        ctx.conn,
        ctx.caller,
        profile_id,
        CompleteProfile(web_hook_url=body.web_hook_url),
        state.secrets,
        allow_private_urls=state.settings.allow_private_webhooks,
    )
    if already:
        data = {"status": "completed", "message": "The profile is already completed."}
        return ok(request, data, 200)
    data = {
        "status": "in_progress",
        "message": "Completion started; the result will be POSTed to webHookUrl.",
        "completion_id": run.id,
    }
    if run.callback_secret:  # shown once: what verifies the signed result
        data["callback_secret"] = run.callback_secret
    return ok(request, data, 202)


# Campaigns ------------------------------------------------------------------------------


def _content(body: schemas.CampaignBody) -> CampaignContent:
    values = body.campaign.native()
    content: CampaignContent = validated(CampaignContent, values, "campaign.", to_camel)
    return content


@router.post("/profiles/{profile_id}/campaigns", status_code=201)
async def create_campaign(
    profile_id: str, body: schemas.CampaignBody, ctx: AdminCtx, request: Request
) -> Response:
    created = await campaigns.create_campaign(ctx.conn, ctx.caller, profile_id, _content(body))
    return ok(request, shapes.campaign(created, ctx.caller.organization_id), 201)


@router.get("/profiles/{profile_id}/campaigns")
async def list_campaigns(profile_id: str, ctx: Ctx, request: Request) -> Response:
    """Every campaign at once (the SDK takes no paging arguments), inherited ones too."""
    found: list[dict[str, Any]] = []
    params = PageParams(limit=100, cursor=None)
    while True:
        result = await campaigns.list_campaigns(ctx.conn, ctx.caller, profile_id, params)
        found += [shapes.campaign(c, ctx.caller.organization_id) for c in result.items]
        if not result.has_more:
            return ok(request, found)
        params = PageParams(limit=100, cursor=result.next_cursor)


@router.put("/profiles/{profile_id}/campaigns/{campaign_id}")
async def update_campaign(
    profile_id: str, campaign_id: str, body: schemas.CampaignBody, ctx: AdminCtx, request: Request
) -> Response:
    replaced = await campaigns.replace_campaign(
        ctx.conn, ctx.caller, profile_id, campaign_id, _content(body)
    )
    return ok(request, shapes.campaign(replaced, ctx.caller.organization_id))


@router.delete("/profiles/{profile_id}/campaigns/{campaign_id}", status_code=204)
async def delete_campaign(profile_id: str, campaign_id: str, ctx: AdminCtx) -> Response:
    await campaigns.delete_campaign(ctx.conn, ctx.caller, profile_id, campaign_id)
    return no_content()


# Webhooks -------------------------------------------------------------------------------


def _selection(
    request: Request,
    event_types: list[str] | None,
    event_filters: dict[str, list[str]] | None,
) -> sent_events.Selection:
    listing = f"{request.scope.get('root_path', '')}/v3/webhooks/event-types"
    return sent_events.select(event_types, event_filters, event_log.EVENT_TYPES, listing)


@router.post("/webhooks", status_code=201)
async def create_webhook(body: schemas.Webhook, ctx: AdminCtx, request: Request) -> Response:
    """Event names are Sent.dm's (`messages`, `templates`, `message.delivered`, …) or
    msgprofiles' (`profile`, `profile.created`, …), stored and echoed as sent;
    `event_filters` narrow a named family to some of its sub-types."""
    selection = _selection(request, body.event_types, body.event_filters)
    data = validated(
        WebhookSubscriptionCreate,
        {
            "url": body.endpoint_url,
            "description": body.display_name,
            "event_types": selection.native,
            "retry_count": 3 if body.retry_count is None else body.retry_count,
            "timeout_seconds": 30 if body.timeout_seconds is None else body.timeout_seconds,
            "payload_format": formats.NAME,
            "format_options": selection.options,
        },
    )
    state = ctx.runtime
    created = await webhooks.create_subscription(
        ctx.conn, ctx.caller, data, state.secrets, state.settings.allow_private_webhooks
    )
    shape = shapes.webhook(created, ctx.caller.organization_id, created.secret)
    return ok(request, shape, 201)


@router.get("/webhooks")
async def list_webhooks(
    ctx: Ctx,
    request: Request,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    is_active: bool | None = None,
    search: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    status: Literal["active", "paused"] | None = None
    if is_active is not None:
        status = "active" if is_active else "paused"
    result = await webhooks.list_subscriptions(
        ctx.conn, ctx.caller, numbered(page, page_size), status, search
    )
    items = [shapes.webhook(w, ctx.caller.organization_id) for w in result.items]
    return ok(request, {"webhooks": items, "pagination": _pagination(result, page, page_size)})


@router.get("/webhooks/event-types")
async def list_event_types(ctx: Ctx, request: Request) -> Response:
    families = shapes.event_types(event_log.catalogue())
    pagination = {
        "page": 1,
        "page_size": len(families),
        "total_count": len(families),
        "total_pages": 1,
        "has_more": False,
        "cursors": None,
    }
    return ok(request, {"event_types": families, "pagination": pagination})


@router.get("/webhooks/{webhook_id}")
async def get_webhook(webhook_id: str, ctx: Ctx, request: Request) -> Response:
    found = await webhooks.get_subscription(ctx.conn, ctx.caller, webhook_id)
    return ok(request, shapes.webhook(found, ctx.caller.organization_id))


@router.put("/webhooks/{webhook_id}")
async def update_webhook(
    webhook_id: str, body: schemas.Webhook, ctx: AdminCtx, request: Request
) -> Response:
    """Only the keys sent change (the SDK sends only what the caller gave); event types and
    filters not sent keep their stored values, and must still agree with the new ones."""
    sent = body.model_fields_set
    renamed = {"endpoint_url": "url", "display_name": "description"}
    values = {renamed.get(k, k): getattr(body, k) for k in sent & {*renamed, "retry_count"}}
    values |= {k: getattr(body, k) for k in sent & {"timeout_seconds"}}
    if sent & {"event_types", "event_filters"}:
        current = await webhooks.get_subscription(ctx.conn, ctx.caller, webhook_id)
        stored = current.format_options or {}
        selection = _selection(
            request,
            body.event_types
            if "event_types" in sent
            else stored.get("event_types", current.event_types),
            body.event_filters if "event_filters" in sent else stored.get("event_filters"),
        )
        values |= {"event_types": selection.native, "format_options": selection.options}
    data = validated(WebhookSubscriptionUpdate, values)
    updated = await webhooks.update_subscription(
        ctx.conn, ctx.caller, webhook_id, data, ctx.runtime.settings.allow_private_webhooks
    )
    return ok(request, shapes.webhook(updated, ctx.caller.organization_id))


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: str, ctx: AdminCtx) -> Response:
    await webhooks.delete_subscription(ctx.conn, ctx.caller, webhook_id)
    return no_content()


@router.get("/webhooks/{webhook_id}/events")
async def list_webhook_events(
    webhook_id: str,
    ctx: Ctx,
    request: Request,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    search: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    result = await webhooks.list_deliveries(
        ctx.conn, ctx.caller, webhook_id, numbered(page, page_size), search=search
    )
    items = [
        shapes.delivery(d, await event_log.get_event(ctx.conn, ctx.caller, d.event_id))
        for d in result.items
    ]
    return ok(request, {"events": items, "pagination": _pagination(result, page, page_size)})


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_webhook_secret(webhook_id: str, ctx: AdminCtx, request: Request) -> Response:
    """Sent.dm retires the old secret at once: no grace period."""
    rotated = await webhooks.rotate_secret(
        ctx.conn,
        ctx.caller,
        webhook_id,
        RotateSecret(grace_period_hours=0),
        ctx.runtime.secrets,
    )
    return ok(request, {"signing_secret": rotated.secret})


@router.post("/webhooks/{webhook_id}/test")
async def test_webhook(
    webhook_id: str, ctx: AdminCtx, request: Request, body: schemas.TestWebhook | None = None
) -> Response:
    """Deliver a specimen of `event_type` (required; Sent.dm's names or ours) to this webhook
    only, whatever its filters, in Sent.dm's envelope marked `test: true`."""
    name = body.event_type if body is not None else None
    if not name:
        raise DomainError(
            ErrorCode.validation_error,
            "Event type is required.",
            details=[{"field": "event_type", "type": "missing", "message": "required"}],
        )
    _selection(request, [name], None)  # a known name, or a 400 naming it
    family = sent_events.family(name)
    payload = sent_events.SPECIMENS.get(family, {"object": family, "test": True})
    ping = await webhooks.send_test(
        ctx.conn, ctx.caller, webhook_id, {"event_type": name, "payload": payload}
    )
    message = f"Test event {ping.event_id} queued for delivery."
    return ok(request, {"success": True, "message": message})


@router.patch("/webhooks/{webhook_id}/toggle-status")
async def toggle_webhook_status(
    webhook_id: str, ctx: AdminCtx, request: Request, body: schemas.ToggleStatus | None = None
) -> Response:
    """Turn deliveries on or off (`is_active`; without it, the other way round). While off,
    deliveries are held, not lost."""
    current = await webhooks.get_subscription(ctx.conn, ctx.caller, webhook_id)
    wanted = body.is_active if body is not None else None
    active = current.status != "active" if wanted is None else wanted
    changed = await webhooks.set_status(
        ctx.conn, ctx.caller, webhook_id, "active" if active else "paused"
    )
    return ok(request, shapes.webhook(changed, ctx.caller.organization_id))

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from msgprofiles.campaigns import service
from msgprofiles.campaigns.schemas import Campaign, CampaignContent, CampaignSubmit
from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.webhooks import callbacks

router = APIRouter(
    prefix="/v1/profiles/{profile_id}/campaigns",
    tags=["Campaigns"],
    route_class=ApiRoute,
    responses=ERROR_RESPONSES,
)
ONE = "/{campaign_id}"


@router.post("", status_code=201, response_model=Envelope[Campaign])
async def create_campaign(profile_id: str, body: CampaignContent, ctx: AdminCtx) -> Response:
    """Add a 10DLC campaign under the profile's brand (its own or its parent's). Admin keys."""
    return ctx.ok(await service.create_campaign(ctx.conn, ctx.caller, profile_id, body), 201)


@router.get("", response_model=ListEnvelope[Campaign])
async def list_campaigns(
    profile_id: str, ctx: Ctx, page: Annotated[PageParams, Depends(page_params)]
) -> Response:
    """The profile's campaigns, and its parent's when it inherits them (`inherited: true`)."""
    return ctx.page(await service.list_campaigns(ctx.conn, ctx.caller, profile_id, page))


@router.get(ONE, response_model=Envelope[Campaign])
async def get_campaign(profile_id: str, campaign_id: str, ctx: Ctx) -> Response:
    """One campaign of the profile (or inherited by it)."""
    return ctx.ok(await service.get_campaign(ctx.conn, ctx.caller, profile_id, campaign_id))


@router.put(ONE, response_model=Envelope[Campaign])
async def replace_campaign(
    profile_id: str, campaign_id: str, body: CampaignContent, ctx: AdminCtx
) -> Response:
    """Replace the whole campaign; refused (409 `campaign_locked`) while it is under review
    or approved. A rejected campaign becomes a draft again. Admin keys."""
    replaced = await service.replace_campaign(ctx.conn, ctx.caller, profile_id, campaign_id, body)
    return ctx.ok(replaced)


@router.delete(ONE, response_model=Envelope[Campaign])
async def delete_campaign(profile_id: str, campaign_id: str, ctx: AdminCtx) -> Response:
    """Delete one of the profile's own campaigns. Admin keys."""
    return ctx.ok(await service.delete_campaign(ctx.conn, ctx.caller, profile_id, campaign_id))


@router.post(ONE + "/submit", status_code=202, response_model=Envelope[Campaign])
async def submit_campaign(
    profile_id: str, campaign_id: str, ctx: AdminCtx, body: CampaignSubmit | None = None
) -> Response:
    """Send the campaign to TCR review (status `pending_review`); it ends `approved` or
    `rejected`, with an event (also POSTed to `callback_url` when given). Its brand must be
    registered or submitted (409 `brand_not_registered`). Admin keys."""
    callback = None
    if body is not None and body.callback_url is not None:
        allow_private = ctx.runtime.settings.allow_private_webhooks
        callback = await callbacks.checked(str(body.callback_url), allow_private)
    submitted = await service.submit_campaign(
        ctx.conn, ctx.caller, profile_id, campaign_id, callback=callback
    )
    return ctx.ok(submitted, 202)

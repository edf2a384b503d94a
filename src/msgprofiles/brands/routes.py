from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from msgprofiles.brands import service
from msgprofiles.brands.schemas import (
    Brand,
    BrandCreate,
    BrandSubmit,
    BrandUpdate,
    EntityType,
    Vertical,
)
from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.webhooks import callbacks

router = APIRouter(
    prefix="/v1/brands", tags=["Brands"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("", status_code=201, response_model=Envelope[Brand])
async def create_brand(body: BrandCreate, ctx: AdminCtx) -> Response:
    """Create a brand (KYC). The organization's first brand is PRIMARY. Admin keys."""
    return ctx.ok(await service.create_brand(ctx.conn, ctx.caller, body), 201)


@router.get("", response_model=ListEnvelope[Brand])
async def list_brands(
    ctx: Ctx,
    page: Annotated[PageParams, Depends(page_params)],
    entity_type: Annotated[EntityType | None, Query()] = None,
    vertical: Annotated[Vertical | None, Query()] = None,
    type: Annotated[Literal["PRIMARY", "SECONDARY"] | None, Query()] = None,
) -> Response:
    """Your organization's brands, newest first; filter by entity type, vertical and type."""
    result = await service.list_brands(
        ctx.conn, ctx.caller, page, entity_type=entity_type, vertical=vertical, brand_type=type
    )
    return ctx.page(result)


@router.get("/{brand_id}", response_model=Envelope[Brand])
async def get_brand(brand_id: str, ctx: Ctx) -> Response:
    """One brand, with its TCR registration status."""
    return ctx.ok(await service.get_brand(ctx.conn, ctx.caller, brand_id))


@router.patch("/{brand_id}", response_model=Envelope[Brand])
async def update_brand(brand_id: str, body: BrandUpdate, ctx: AdminCtx) -> Response:
    """Change the fields sent. After TCR submission only the alias may change (409
    `brand_locked`). Admin keys."""
    return ctx.ok(await service.update_brand(ctx.conn, ctx.caller, brand_id, body))


@router.delete("/{brand_id}", response_model=Envelope[Brand])
async def delete_brand(brand_id: str, ctx: AdminCtx) -> Response:
    """Delete a secondary brand (the primary one stays: 409). Admin keys."""
    return ctx.ok(await service.delete_brand(ctx.conn, ctx.caller, brand_id))


@router.post("/{brand_id}/submit", status_code=202, response_model=Envelope[Brand])
async def submit_brand(brand_id: str, ctx: AdminCtx, body: BrandSubmit | None = None) -> Response:
    """Submit the brand to TCR: its KYC details freeze, registration runs in the background
    and ends in `brand.verified`, `brand.unverified` or `brand.rejected` (also POSTed to
    `callback_url` when given). Admin keys."""
    body = body or BrandSubmit()
    callback = None
    if body.callback_url is not None:
        allow_private = ctx.runtime.settings.allow_private_webhooks
        callback = await callbacks.checked(str(body.callback_url), allow_private)
    submitted = await service.submit_brand(
        ctx.conn,
        ctx.caller,
        brand_id,
        registration_alias=body.registration_alias,
        callback=callback,
    )
    return ctx.ok(submitted, 202)

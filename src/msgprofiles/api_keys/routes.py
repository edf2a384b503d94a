from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from msgprofiles.api_keys import service
from msgprofiles.api_keys.schemas import ApiKey, ApiKeyCreate, ApiKeyWithSecret
from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope

router = APIRouter(
    prefix="/v1/api_keys", tags=["API keys"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("", status_code=201, response_model=Envelope[ApiKeyWithSecret])
async def create_api_key(body: ApiKeyCreate, ctx: AdminCtx) -> Response:
    """Create an API key for your organization (admin keys only). The `secret` is in this
    response only: msgprofiles keeps just a hash of it."""
    ctx.caller.require_organization_scope()
    return ctx.ok(await service.create_api_key(ctx.conn, ctx.caller, body), 201)


@router.get("", response_model=ListEnvelope[ApiKey])
async def list_api_keys(
    ctx: Ctx,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[Literal["active", "revoked"] | None, Query()] = None,
) -> Response:
    """Your organization's API keys, newest first. Secrets are never listed."""
    ctx.caller.require_organization_scope()
    return ctx.page(await service.list_api_keys(ctx.conn, ctx.caller, page, status))


@router.get("/{key_id}", response_model=Envelope[ApiKey])
async def get_api_key(key_id: str, ctx: Ctx) -> Response:
    """One API key of your organization."""
    ctx.caller.require_organization_scope()
    return ctx.ok(await service.get_api_key(ctx.conn, ctx.caller, key_id))


@router.delete("/{key_id}", response_model=Envelope[ApiKey])
async def revoke_api_key(key_id: str, ctx: AdminCtx) -> Response:
    """Revoke an API key (admin keys only). It stops working at once; the record stays, with
    `status: revoked`."""
    ctx.caller.require_organization_scope()
    return ctx.ok(await service.revoke_api_key(ctx.conn, ctx.caller, key_id))

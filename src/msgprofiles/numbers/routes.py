from typing import Annotated

from fastapi import APIRouter, Depends, Response

from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.numbers import service
from msgprofiles.numbers.schemas import PhoneNumber, PhoneNumberCreate, PhoneNumberUpdate
from msgprofiles.webhooks import callbacks

router = APIRouter(
    prefix="/v1/numbers", tags=["Numbers"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("", status_code=201, response_model=Envelope[PhoneNumber])
async def create_number(body: PhoneNumberCreate, ctx: AdminCtx) -> Response:
    """Add a number the organization leases, optionally assigned to a profile. Admin keys."""
    return ctx.ok(await service.create_number(ctx.conn, ctx.caller, body), 201)


@router.get("", response_model=ListEnvelope[PhoneNumber])
async def list_numbers(ctx: Ctx, page: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Your numbers, newest first (a profile key sees its profile's)."""
    return ctx.page(await service.list_numbers(ctx.conn, ctx.caller, page))


@router.get("/{number_id}", response_model=Envelope[PhoneNumber])
async def get_number(number_id: str, ctx: Ctx) -> Response:
    """One number."""
    return ctx.ok(await service.get_number(ctx.conn, ctx.caller, number_id))


@router.patch("/{number_id}", response_model=Envelope[PhoneNumber])
async def update_number(number_id: str, body: PhoneNumberUpdate, ctx: AdminCtx) -> Response:
    """Change a number's health or the profile it belongs to; `callback_url` is told of the
    number's later changes. Admin keys."""
    callback = None
    if body.callback_url is not None:
        allow_private = ctx.runtime.settings.allow_private_webhooks
        callback = await callbacks.checked(str(body.callback_url), allow_private)
    updated = await service.update_number(ctx.conn, ctx.caller, number_id, body, callback=callback)
    return ctx.ok(updated)


@router.delete("/{number_id}", response_model=Envelope[PhoneNumber])
async def release_number(number_id: str, ctx: AdminCtx) -> Response:
    """Release a number. Admin keys."""
    return ctx.ok(await service.release_number(ctx.conn, ctx.caller, number_id))

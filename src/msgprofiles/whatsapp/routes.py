from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from msgprofiles.core.http import ERROR_RESPONSES, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.whatsapp import service
from msgprofiles.whatsapp.schemas import AccountRoute, Status, WhatsAppAccount

router = APIRouter(
    prefix="/v1/whatsapp_accounts",
    tags=["WhatsApp accounts"],
    route_class=ApiRoute,
    responses=ERROR_RESPONSES,
)


@router.get("", response_model=ListEnvelope[WhatsAppAccount])
async def list_accounts(
    ctx: Ctx,
    page: Annotated[PageParams, Depends(page_params)],
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Status | None = None,
) -> Response:
    """Your connected WhatsApp accounts and your customers', newest first."""
    accounts = await service.list_accounts(ctx.conn, ctx.caller, page, customer_id, status)
    return ctx.page(accounts)


@router.get("/lookup", response_model=Envelope[AccountRoute])
async def lookup_account(
    ctx: Ctx, phone_number_id: Annotated[str, Query(min_length=1, max_length=64)]
) -> Response:
    """Route inbound traffic: the account of Meta's phone number id, with its customer and
    profile, in one indexed read."""
    return ctx.ok(await service.lookup(ctx.conn, ctx.caller, phone_number_id))


@router.get("/{account_id}", response_model=Envelope[WhatsAppAccount])
async def get_account(account_id: str, ctx: Ctx) -> Response:
    """One WhatsApp account."""
    return ctx.ok(await service.get_account(ctx.conn, ctx.caller, account_id))

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import Page, PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.customers import service
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

router = APIRouter(
    prefix="/v1/customers", tags=["Customers"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("", status_code=201, response_model=Envelope[Customer])
async def create_customer(body: CustomerCreate, ctx: AdminCtx) -> Response:
    """An end-customer of yours; it starts `pending` until it connects a WhatsApp account
    through a setup link. Admin keys."""
    return ctx.ok(await service.create_customer(ctx.conn, ctx.caller, body), 201)


@router.get("", response_model=ListEnvelope[Customer])
async def list_customers(
    ctx: Ctx,
    page: Annotated[PageParams, Depends(page_params)],
    status: Status | None = None,
    search: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response:
    """Your customers, newest first; `search` looks in names and emails."""
    return ctx.page(await service.list_customers(ctx.conn, ctx.caller, page, status, search))


@router.get("/{customer_id}", response_model=Envelope[CustomerWithAccounts])
async def get_customer(customer_id: str, ctx: Ctx) -> Response:
    """A customer with the WhatsApp accounts it owns."""
    return ctx.ok(await service.get_customer(ctx.conn, ctx.caller, customer_id))


@router.patch("/{customer_id}", response_model=Envelope[Customer])
async def update_customer(customer_id: str, body: CustomerUpdate, ctx: AdminCtx) -> Response:
    """Change its details, or suspend it (`status: suspended`; its accounts may not send) and
    bring it back. An archived customer is a 409. Admin keys."""
    return ctx.ok(await service.update_customer(ctx.conn, ctx.caller, customer_id, body))


@router.delete("/{customer_id}", response_model=Envelope[Archived])
async def archive_customer(customer_id: str, ctx: AdminCtx) -> Response:
    """Archive the customer for good; it stays readable, its accounts keep it. Admin keys."""
    return ctx.ok(await service.archive_customer(ctx.conn, ctx.caller, customer_id))


@router.post(
    "/{customer_id}/setup_links", status_code=201, response_model=Envelope[SetupLinkWithToken]
)
async def create_setup_link(customer_id: str, body: SetupLinkCreate, ctx: AdminCtx) -> Response:
    """A one-time link the customer opens to connect its WhatsApp account. `setup_url`
    carries its token and is shown only here. Admin keys."""
    public_url = ctx.runtime.settings.base_url
    link = await service.create_setup_link(ctx.conn, ctx.caller, customer_id, body, public_url)
    return ctx.ok(link, 201)


@router.get("/{customer_id}/setup_links", response_model=ListEnvelope[SetupLink])
async def list_setup_links(
    customer_id: str, ctx: Ctx, status: LinkStatus | None = None
) -> Response:
    """The customer's 50 latest links, newest first (never their tokens)."""
    links = await service.list_setup_links(ctx.conn, ctx.caller, customer_id, status)
    return ctx.page(Page(links, has_more=False, next_cursor=None))


@router.patch("/{customer_id}/setup_links/{link_id}", response_model=Envelope[SetupLink])
async def update_setup_link(
    customer_id: str, link_id: str, body: SetupLinkUpdate, ctx: AdminCtx
) -> Response:
    """Change an active link's redirects (null clears one); another link is a 409."""
    return ctx.ok(await service.update_setup_link(ctx.conn, ctx.caller, customer_id, link_id, body))


@router.delete("/{customer_id}/setup_links/{link_id}", response_model=Envelope[SetupLink])
async def revoke_setup_link(customer_id: str, link_id: str, ctx: AdminCtx) -> Response:
    """Revoke an active link; a used, expired or revoked one is a 409. Admin keys."""
    return ctx.ok(await service.revoke_setup_link(ctx.conn, ctx.caller, customer_id, link_id))

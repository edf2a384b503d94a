from typing import Annotated

from fastapi import APIRouter, Depends, Response

from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx, OperatorCtx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.organizations import service
from msgprofiles.organizations.schemas import (
    Organization,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationUpdate,
)
from msgprofiles.webhooks.schemas import RotateSecret, SigningSecret

router = APIRouter(
    prefix="/v1", tags=["Organizations"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("/organizations", status_code=201, response_model=Envelope[OrganizationCreated])
async def create_organization(body: OrganizationCreate, ctx: OperatorCtx) -> Response:
    """Create a tenant organization (operator admin keys only). The response carries the new
    organization's first admin API key, whose secret is shown only here."""
    return ctx.ok(await service.create_organization(ctx.conn, ctx.caller, body), 201)


@router.get("/organizations", response_model=ListEnvelope[Organization])
async def list_organizations(
    ctx: OperatorCtx, page: Annotated[PageParams, Depends(page_params)]
) -> Response:
    """Every organization of the installation, newest first (operator admin keys only)."""
    return ctx.page(await service.list_organizations(ctx.conn, ctx.caller, page))


@router.get("/organization", response_model=Envelope[Organization])
async def get_organization(ctx: Ctx) -> Response:
    """The organization your API key belongs to."""
    return ctx.ok(await service.get_organization(ctx.conn, ctx.caller))


@router.patch("/organization", response_model=Envelope[Organization])
async def update_organization(body: OrganizationUpdate, ctx: AdminCtx) -> Response:
    """Change your organization's name, email, metadata or WhatsApp Business Account (admin
    keys only). The account's access token is stored encrypted and never returned."""
    ctx.caller.require_organization_scope()
    box = ctx.runtime.secrets
    return ctx.ok(await service.update_organization(ctx.conn, ctx.caller, body, box))


@router.post("/organization/callback_secret", response_model=Envelope[SigningSecret])
async def rotate_callback_secret(ctx: AdminCtx, body: RotateSecret | None = None) -> Response:
    """A new secret for the signed results msgprofiles POSTs to the URLs you give it (profile
    completion), shown once. The first one is also shown by the first
    `POST /v1/profiles/{id}/complete`. The old secret keeps signing alongside the new one for
    the grace period (default 24 h). Admin keys."""
    box = ctx.runtime.secrets
    return ctx.ok(
        await service.rotate_callback_secret(ctx.conn, ctx.caller, body or RotateSecret(), box)
    )

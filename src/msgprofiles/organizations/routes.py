from typing import Annotated

from fastapi import APIRouter, Depends

from msgprofiles.core.http import ERROR_RESPONSES, ApiRoute, CallerDep, ConnDep, RequestIdDep
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.organizations import service
from msgprofiles.organizations.schemas import (
    Organization,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationUpdate,
)

router = APIRouter(
    prefix="/v1", tags=["Organizations"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("/organizations", status_code=201)
async def create_organization(
    body: OrganizationCreate, caller: CallerDep, conn: ConnDep, request_id: RequestIdDep
) -> Envelope[OrganizationCreated]:
    """Create a tenant organization (operator admin keys only). The response carries the new
    organization's first admin API key, whose secret is shown only here."""
    created = await service.create_organization(conn, caller, body)
    return Envelope(data=created, request_id=request_id)


@router.get("/organizations")
async def list_organizations(
    caller: CallerDep,
    conn: ConnDep,
    request_id: RequestIdDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> ListEnvelope[Organization]:
    """Every organization of the installation, newest first (operator admin keys only)."""
    result = await service.list_organizations(conn, caller, page)
    return ListEnvelope(
        data=result.items,
        has_more=result.has_more,
        next_cursor=result.next_cursor,
        request_id=request_id,
    )


@router.get("/organization")
async def get_organization(
    caller: CallerDep, conn: ConnDep, request_id: RequestIdDep
) -> Envelope[Organization]:
    """The organization your API key belongs to."""
    return Envelope(data=await service.get_organization(conn, caller), request_id=request_id)


@router.patch("/organization")
async def update_organization(
    body: OrganizationUpdate, caller: CallerDep, conn: ConnDep, request_id: RequestIdDep
) -> Envelope[Organization]:
    """Change your organization's name, email or metadata (admin keys only)."""
    caller.require_organization_scope()
    caller.require_admin()
    organization = await service.update_organization(conn, caller, body)
    return Envelope(data=organization, request_id=request_id)

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from msgprofiles.api_keys import service
from msgprofiles.api_keys.schemas import ApiKey, ApiKeyCreate, ApiKeyWithSecret
from msgprofiles.core.http import ERROR_RESPONSES, ApiRoute, CallerDep, ConnDep, RequestIdDep
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope

router = APIRouter(
    prefix="/v1/api_keys", tags=["API keys"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("", status_code=201)
async def create_api_key(
    body: ApiKeyCreate, caller: CallerDep, conn: ConnDep, request_id: RequestIdDep
) -> Envelope[ApiKeyWithSecret]:
    """Create an API key for your organization (admin keys only). The `secret` is in this
    response only: msgprofiles keeps just a hash of it."""
    caller.require_organization_scope()
    caller.require_admin()
    key = await service.create_api_key(conn, caller, body)
    return Envelope(data=key, request_id=request_id)


@router.get("")
async def list_api_keys(
    caller: CallerDep,
    conn: ConnDep,
    request_id: RequestIdDep,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[Literal["active", "revoked"] | None, Query()] = None,
) -> ListEnvelope[ApiKey]:
    """Your organization's API keys, newest first. Secrets are never listed."""
    caller.require_organization_scope()
    result = await service.list_api_keys(conn, caller, page, status)
    return ListEnvelope(
        data=result.items,
        has_more=result.has_more,
        next_cursor=result.next_cursor,
        request_id=request_id,
    )


@router.get("/{key_id}")
async def get_api_key(
    key_id: str, caller: CallerDep, conn: ConnDep, request_id: RequestIdDep
) -> Envelope[ApiKey]:
    """One API key of your organization."""
    caller.require_organization_scope()
    return Envelope(data=await service.get_api_key(conn, caller, key_id), request_id=request_id)


@router.delete("/{key_id}")
async def revoke_api_key(
    key_id: str, caller: CallerDep, conn: ConnDep, request_id: RequestIdDep
) -> Envelope[ApiKey]:
    """Revoke an API key (admin keys only). It stops working at once; the record stays, with
    `status: revoked`."""
    caller.require_organization_scope()
    caller.require_admin()
    key = await service.revoke_api_key(conn, caller, key_id)
    return Envelope(data=key, request_id=request_id)

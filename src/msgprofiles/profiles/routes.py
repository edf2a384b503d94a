from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.numbers import service as numbers
from msgprofiles.numbers.schemas import PhoneNumber
from msgprofiles.profiles import service
from msgprofiles.profiles.schemas import (
    Profile,
    ProfileCreate,
    ProfileUpdate,
    SelectedSender,
    SelectSender,
    Status,
)

router = APIRouter(
    prefix="/v1/profiles", tags=["Profiles"], route_class=ApiRoute, responses=ERROR_RESPONSES
)
Page = Annotated[PageParams, Depends(page_params)]


@router.post("", status_code=201, response_model=Envelope[Profile])
async def create_profile(body: ProfileCreate, ctx: AdminCtx) -> Response:
    """Create a sender profile (a child of your organization's own profile). Admin keys.
    Card details go to the payment processor and are never stored or returned."""
    state = ctx.runtime
    created = await service.create_profile(
        ctx.conn, ctx.caller, body, state.providers.payments, state.secrets
    )
    return ctx.ok(created, 201)


@router.get("", response_model=ListEnvelope[Profile])
async def list_profiles(
    ctx: Ctx,
    page: Page,
    status: Annotated[Status | None, Query()] = None,
    search: Annotated[
        str | None, Query(max_length=100, description="In name or short name.")
    ] = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    name: Annotated[str | None, Query(max_length=255, description="Exactly this name.")] = None,
    name_contains: Annotated[
        str | None, Query(max_length=255, description="The name contains this, whatever the case.")
    ] = None,
) -> Response:
    """Your organization's live profiles, newest first (a profile key sees its own); filter by
    status, by a search in name or short name, by name, and by the end-customer served."""
    result = await service.list_profiles(
        ctx.conn,
        ctx.caller,
        page,
        status=status,
        search=search,
        customer_id=customer_id,
        name=name,
        name_contains=name_contains,
    )
    return ctx.page(result)


@router.get("/{profile_id}", response_model=Envelope[Profile])
async def get_profile(profile_id: str, ctx: Ctx) -> Response:
    """One profile."""
    return ctx.ok(await service.get_profile(ctx.conn, ctx.caller, profile_id))


@router.patch("/{profile_id}", response_model=Envelope[Profile])
async def update_profile(profile_id: str, body: ProfileUpdate, ctx: AdminCtx) -> Response:
    """Change the fields sent (messaging settings merge field by field). Admin keys."""
    payments = ctx.runtime.providers.payments
    profile = await service.update_profile(ctx.conn, ctx.caller, profile_id, body, payments)
    return ctx.ok(profile)


@router.delete("/{profile_id}", response_model=Envelope[Profile])
async def delete_profile(profile_id: str, ctx: AdminCtx) -> Response:
    """Delete a child profile: it leaves reads and lists, its data stays. Admin keys."""
    return ctx.ok(await service.delete_profile(ctx.conn, ctx.caller, profile_id))


@router.get("/{profile_id}/numbers", response_model=ListEnvelope[PhoneNumber])
async def list_profile_numbers(profile_id: str, ctx: Ctx, page: Page) -> Response:
    """The numbers assigned to this profile."""
    return ctx.page(await numbers.list_numbers(ctx.conn, ctx.caller, page, profile_id))


@router.post("/{profile_id}/select_sender", response_model=Envelope[SelectedSender])
async def select_sender(profile_id: str, body: SelectSender, ctx: Ctx) -> Response:
    """The number to send a message to `to` from: the number pool's weights between long
    codes and toll-free numbers, unhealthy numbers skipped, the same number again for the
    same recipient when sticky, a number of the recipient's area code or country when
    geomatch is on, and destinations outside the whitelist refused."""
    chosen = await numbers.select_sender(
        ctx.conn, ctx.caller, profile_id, body.to, ctx.runtime.random
    )
    return ctx.ok(chosen)

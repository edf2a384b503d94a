from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from msgprofiles.core.http import ERROR_RESPONSES, ApiRoute, Ctx
from msgprofiles.core.pagination import PageParams, page_params
from msgprofiles.core.schemas import Envelope, ListEnvelope
from msgprofiles.numbers import service as numbers
from msgprofiles.numbers.schemas import PhoneNumber
from msgprofiles.profiles import completion, service
from msgprofiles.profiles.schemas import (
    CompleteProfile,
    Completion,
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
async def create_profile(body: ProfileCreate, ctx: Ctx, request: Request) -> Response:
    """Create a sender profile (a child of your organization's own profile). Admin keys.
    Card details go to the payment processor and are never stored or returned."""
    ctx.caller.require_admin()
    state = request.app.state
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
) -> Response:
    """Your organization's live profiles, newest first (a profile key sees its own); filter by
    status, by a search in name or short name, and by the end-customer served."""
    result = await service.list_profiles(
        ctx.conn, ctx.caller, page, status=status, search=search, customer_id=customer_id
    )
    return ctx.page(result)


@router.get("/{profile_id}", response_model=Envelope[Profile])
async def get_profile(profile_id: str, ctx: Ctx) -> Response:
    """One profile."""
    return ctx.ok(await service.get_profile(ctx.conn, ctx.caller, profile_id))


@router.patch("/{profile_id}", response_model=Envelope[Profile])
async def update_profile(
    profile_id: str, body: ProfileUpdate, ctx: Ctx, request: Request
) -> Response:
    """Change the fields sent (messaging settings merge field by field). Admin keys."""
    ctx.caller.require_admin()
    payments = request.app.state.providers.payments
    profile = await service.update_profile(ctx.conn, ctx.caller, profile_id, body, payments)
    return ctx.ok(profile)


@router.delete("/{profile_id}", response_model=Envelope[Profile])
async def delete_profile(profile_id: str, ctx: Ctx) -> Response:
    """Delete a child profile: it leaves reads and lists, its data stays. Admin keys."""
    ctx.caller.require_admin()
    return ctx.ok(await service.delete_profile(ctx.conn, ctx.caller, profile_id))


@router.get("/{profile_id}/numbers", response_model=ListEnvelope[PhoneNumber])
async def list_profile_numbers(profile_id: str, ctx: Ctx, page: Page) -> Response:
    """The numbers assigned to this profile."""
    return ctx.page(await numbers.list_numbers(ctx.conn, ctx.caller, page, profile_id))


@router.post("/{profile_id}/select_sender", response_model=Envelope[SelectedSender])
async def select_sender(
    profile_id: str, body: SelectSender, ctx: Ctx, request: Request
) -> Response:
    """The number to send a message to `to` from: the number pool's weights between long
    codes and toll-free numbers, unhealthy numbers skipped, the same number again for the
    same recipient when sticky, a number of the recipient's area code or country when
    geomatch is on, and destinations outside the whitelist refused."""
    chosen = await numbers.select_sender(
        ctx.conn, ctx.caller, profile_id, body.to, request.app.state.random
    )
    return ctx.ok(chosen)


@router.post("/{profile_id}/complete", status_code=202, response_model=Envelope[Completion])
async def complete_profile(
    profile_id: str, body: CompleteProfile, ctx: Ctx, request: Request
) -> Response:
    """The last step of onboarding. Checks every prerequisite (400
    `completion_prerequisites_unmet`, naming each one in `details`), then submits in the
    background whatever needs it — brand and campaigns to TCR, numbers to the carrier, the
    WhatsApp phone to Meta — sets the profile's status (`submitted` when something waits for
    an outside review, else `completed`) and POSTs the signed result to `web_hook_url`, with
    the retries of webhook deliveries. 202 while it runs (calling again joins the same run);
    200 and nothing done when the profile is already completed. Admin keys."""
    ctx.caller.require_admin()
    state = request.app.state
    result, already = await completion.start_completion(
        ctx.conn,
        ctx.caller,
        profile_id,
        body,
        state.secrets,
        allow_private_urls=state.settings.allow_private_webhooks,
    )
    return ctx.ok(result, 200 if already else 202)


@router.get("/{profile_id}/completion", response_model=Envelope[Completion])
async def get_completion(profile_id: str, ctx: Ctx) -> Response:
    """The profile's latest completion: its result and the delivery of its callback."""
    return ctx.ok(await completion.get_completion(ctx.conn, ctx.caller, profile_id))

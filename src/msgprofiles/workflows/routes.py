"""Routes of the workflows: they start one and read how it went."""

from fastapi import APIRouter, Response

from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx
from msgprofiles.core.schemas import Envelope
from msgprofiles.whatsapp.schemas import WhatsAppAccount, WhatsAppAccountUpdate
from msgprofiles.workflows import accounts, send_checks
from msgprofiles.workflows import completion as service
from msgprofiles.workflows.schemas import CompleteProfile, Completion
from msgprofiles.workflows.send_checks import SendCheck, SendCheckResult

router = APIRouter(
    prefix="/v1/profiles", tags=["Profiles"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@router.post("/{profile_id}/complete", status_code=202, response_model=Envelope[Completion])
async def complete_profile(profile_id: str, body: CompleteProfile, ctx: AdminCtx) -> Response:
    """The last step of onboarding. Checks every prerequisite (400
    `completion_prerequisites_unmet`, naming each one in `details`), then submits in the
    background whatever needs it — brand and campaigns to TCR, numbers to the carrier, the
    WhatsApp phone to Meta — sets the profile's status (`submitted` when something waits for
    an outside review, else `completed`) and POSTs the signed result to `web_hook_url`, with
    the retries of webhook deliveries. 202 while it runs (calling again joins the same run);
    200 and nothing done when the profile is already completed. Admin keys."""
    state = ctx.runtime
    result, already = await service.start_completion(
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
    return ctx.ok(await service.get_completion(ctx.conn, ctx.caller, profile_id))


checks = APIRouter(
    prefix="/v1/send_checks", tags=["Sending"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@checks.post("", response_model=Envelope[SendCheckResult])
async def check_send(body: SendCheck, ctx: Ctx) -> Response:
    """Ask before each message: may this profile (or WhatsApp number) send on this channel to
    this recipient now? `allowed`, or every reason not (`contact_opted_out` — the
    recipient's contact opted out of the channel —, `customer_suspended` — archived
    customers too —, `account_disconnected`, `profile_not_completed`, `campaign_not_approved`,
    `destination_not_allowed`, `messaging_disabled`). Changes nothing; any key may ask."""
    return ctx.ok(await send_checks.check_send(ctx.conn, ctx.caller, body))


whatsapp_accounts = APIRouter(
    prefix="/v1/whatsapp_accounts",
    tags=["WhatsApp accounts"],
    route_class=ApiRoute,
    responses=ERROR_RESPONSES,
)


@whatsapp_accounts.patch("/{account_id}", response_model=Envelope[WhatsAppAccount])
async def update_whatsapp_account(
    account_id: str, body: WhatsAppAccountUpdate, ctx: AdminCtx
) -> Response:
    """Set the profile that sends from the account (one of its customer's profiles, or of
    yours for your own accounts; null frees it) or its status as Meta reports it. Admin
    keys."""
    return ctx.ok(await accounts.update_account(ctx.conn, ctx.caller, account_id, body))

"""Completion: the last step of a profile's compliance onboarding.

`start_completion` checks every prerequisite at once (400 naming each unmet one) and records
a running completion with its job in one transaction. A profile has at most one running
completion (a partial unique index), so repeated calls join it rather than start another.

The job submits what needs submitting — the brand and campaigns to TCR, the numbers to the
carrier, the WhatsApp phone to Meta. Each step looks at what is recorded before acting and
records its outcome as it goes, so a worker killed halfway simply runs it again. The job then
sets the profile's status by the Status Logic and POSTs the signed result to the caller's URL,
retried like webhook deliveries."""

import time
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update

from msgprofiles.brands import service as brands
from msgprofiles.campaigns import service as campaigns
from msgprofiles.core.auth import Caller
from msgprofiles.core.crypto import SecretBox
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.outbound import check_url, post_signed, retry_delay
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, IntegrityError, Row, prepare
from msgprofiles.jobs.runner import Retry, enqueue, handler
from msgprofiles.numbers.service import numbers_of_profile
from msgprofiles.organizations.service import callback_signing_secrets, ensure_callback_secret
from msgprofiles.profiles import service as profiles
from msgprofiles.providers.carrier import ConnectionRefused
from msgprofiles.providers.whatsapp import WhatsAppRefused
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import formats
from msgprofiles.webhooks.events import emit, register_event_type
from msgprofiles.workflows.models import profile_completions
from msgprofiles.workflows.schemas import CallbackState, CompleteProfile, Completion

register_event_type(
    "profile.completed",
    "A profile's completion succeeded: its status is now submitted or completed.",
)
register_event_type(
    "profile.completion_failed", "A profile's completion failed; `completion.error` says why."
)

COMPLETE_JOB = "profile.complete"
CALLBACK_JOB = "profile.completion_callback"
Outcome = Literal["submitted", "completed"]
# Failures that are a registry's or carrier's verdict on the profile: it is rejected.
_REFUSALS = frozenset(
    {"brand_rejected", "campaigns_rejected", "number_refused", "whatsapp_refused"}
)

_c = profile_completions
_this = (_c.c.organization_id == bindparam("org")) & (_c.c.id == bindparam("cmpl"))
_get = prepare(select(_c).where(_this))
_of_profile = (_c.c.organization_id == bindparam("org")) & (_c.c.profile_id == bindparam("prof"))
_running = prepare(select(_c).where(_of_profile, _c.c.status == "running"))
_latest = prepare(select(_c).where(_of_profile).order_by(_c.c.id.desc()).limit(1))
_insert = prepare(insert(_c))
_finish_run = prepare(
    update(_c)
    .where(_this, _c.c.status == "running")
    .values(
        status=bindparam("new_status"),
        outcome=bindparam("outcome"),
        error=bindparam("error", type_=_c.c.error.type),
        callback_status="pending",
        finished_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)
_record_callback = prepare(
    update(_c)
    .where(_this, _c.c.callback_status == "pending")
    .values(
        callback_status=bindparam("new_status"),
        callback_attempts=bindparam("attempts"),
        callback_last_error=bindparam("last_error"),
        updated_at=bindparam("now"),
    )
)


def _to_model(row: Row | Mapping[str, Any], secret: str | None = None) -> Completion:
    return Completion(
        id=row["id"],
        profile_id=row["profile_id"],
        status=row["status"],
        outcome=row["outcome"],
        error=row["error"],
        web_hook_url=row["web_hook_url"],
        callback=CallbackState(
            status=row["callback_status"],
            attempts=row["callback_attempts"],
            last_error=row["callback_last_error"],
        ),
        callback_secret=secret,
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def _unmet(field: str, kind: str, message: str) -> dict[str, str]:
    return {"field": field, "type": kind, "message": message}


async def prerequisites(conn: Connection, caller: Caller, profile: Row) -> list[dict[str, str]]:
    """Every prerequisite of completion the profile does not meet (empty: ready)."""
    unmet = [
        _unmet(
            field, "required_for_completion", f"The profile needs its {field.replace('_', ' ')}."
        )
        for field in ("short_name", "description")
        if not profile[field]
    ]
    organization_id = caller.organization_id
    child = not profile["is_parent"]
    [(brand_id, inherits_brand)] = await profiles.brand_ids_of(conn, organization_id, [profile])
    brand = brand_id and await brands.brand_row(conn, organization_id, brand_id)
    if not brand:
        unmet.append(
            _unmet("inherit_tcr_brand", "parent_has_no_brand", "The parent profile has no brand.")
            if inherits_brand
            else _unmet(
                "brand_id",
                "required_for_completion",
                "The profile needs a brand, or to inherit its parent's (inherit_tcr_brand).",
            )
        )
    elif brand["is_tcr_application"] and not brands.submitted(brand):
        for missing in brands.missing_for_submission(brand):
            field = f"brand.{missing['field']}"
            unmet.append(
                _unmet(field, missing["type"], f"TCR needs the brand's {missing['field']}.")
            )

    if child and profile["inherit_tcr_campaign"]:
        parent = await profiles.parent_profile(conn, organization_id)
        if not await _usable_campaigns(conn, organization_id, parent):
            unmet.append(
                _unmet(
                    "inherit_tcr_campaign",
                    "parent_has_no_campaigns",
                    "The parent profile has no campaign to inherit.",
                )
            )
    elif (
        brand
        and brand["is_tcr_application"]
        and not await _usable_campaigns(conn, organization_id, profile)
    ):
        unmet.append(
            _unmet(
                "campaigns",
                "required_for_tcr_application",
                "A TCR application needs at least one campaign that is not rejected.",
            )
        )
    return unmet


async def _usable_campaigns(conn: Connection, organization_id: str, owner: Row) -> list[Row]:
    rows = await campaigns.campaigns_of(conn, organization_id, [owner["id"]])
    return [row for row in rows if row["status"] != "rejected"]


async def start_completion(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    data: CompleteProfile,
    box: SecretBox,
    *,
    allow_private_urls: bool,
) -> tuple[Completion, bool]:
    """Start completing the profile, or join the run under way. Returns the completion and
    whether it had already completed (then nothing is started)."""
    url = str(data.web_hook_url)
    await check_url(url, allow_private_urls)
    org = caller.organization_id
    async with conn.transaction():
        profile = await profiles.require_profile(conn, caller, profile_id)
        running = await conn.fetch_one(_running, {"org": org, "prof": profile_id})
        if running is not None:
            return _to_model(running), False
        if profile["status"] == "completed":
            latest = await conn.fetch_one(_latest, {"org": org, "prof": profile_id})
            assert latest is not None, "only a completion completes a profile"
            return _to_model(latest), True
        if unmet := await prerequisites(conn, caller, profile):
            raise DomainError(
                ErrorCode.completion_prerequisites_unmet,
                "The profile cannot be completed yet: "
                + "; ".join(item["message"] for item in unmet),
                details=unmet,
            )
        secret = await ensure_callback_secret(conn, org, box)
        now = utcnow()
        row = {
            "organization_id": org,
            "id": new_id("cmpl"),
            "profile_id": profile_id,
            "status": "running",
            "outcome": None,
            "error": None,
            "web_hook_url": url,
            "callback_status": "waiting",
            "callback_attempts": 0,
            "callback_last_error": None,
            "created_at": now,
            "finished_at": None,
            "updated_at": now,
        }
        try:
            async with conn.savepoint():
                await conn.execute(_insert, row)
        except IntegrityError:  # a concurrent call started it first: join that run
            running = await conn.fetch_one(_running, {"org": org, "prof": profile_id})
            assert running is not None
            return _to_model(running), False
        await enqueue(conn, org, COMPLETE_JOB, {"completion_id": row["id"]})
    return _to_model(row, secret), False


async def get_completion(conn: Connection, caller: Caller, profile_id: str) -> Completion:
    """The profile's latest completion."""
    await profiles.require_profile(conn, caller, profile_id)
    row = await conn.fetch_one(_latest, {"org": caller.organization_id, "prof": profile_id})
    if row is None:
        raise not_found(ErrorCode.completion_not_found, "completion of profile", profile_id)
    return _to_model(row)


def status_logic(
    *,
    has_sms: bool,
    has_whatsapp: bool,
    tcr_application: bool,
    inherits_registration: bool,
    main_destination: bool,
) -> Outcome:
    """The seed's Status Logic, first match wins: what still waits for an outside review is
    `submitted`, the rest is `completed`."""
    if not has_sms and not has_whatsapp:
        return "submitted"
    if tcr_application and not inherits_registration:
        return "submitted"
    if not tcr_application and main_destination:
        return "submitted"
    return "completed"


class CompletionFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def _register_brand(context: Runtime, organization_id: str, brand: Row) -> Row:
    """The brand registered with TCR: submitted now if it was not, then registered."""
    if not brands.submitted(brand):
        if missing := brands.missing_for_submission(brand):
            fields = ", ".join(d["field"] for d in missing)
            raise CompletionFailed("brand_incomplete", f"TCR needs the brand's {fields}.")
        async with context.database.connect() as conn, conn.transaction():
            await brands.mark_submitted(conn, organization_id, brand)
    registered = await brands.register_pending(context, organization_id, brand["id"])
    if registered is None:
        raise CompletionFailed("brand_required", "The profile's brand was deleted.")
    if registered["registration_status"] == "rejected":
        raise CompletionFailed(
            "brand_rejected", f"TCR rejected the brand: {registered['rejection_reason']}"
        )
    return registered


async def _register_campaigns(context: Runtime, organization_id: str, owner: Row) -> str:
    """Every campaign the profile sends under reviewed by TCR, each after its brand is
    registered; the TCR id of the first approved one."""
    async with context.database.connect() as conn:
        rows = await campaigns.campaigns_of(conn, organization_id, [owner["id"]])
    registered: set[str] = set()
    approved: list[str] = []
    for row in rows:
        if row["status"] in ("draft", "pending_review") and row["brand_id"] not in registered:
            async with context.database.connect() as conn:
                brand = await brands.brand_row(conn, organization_id, row["brand_id"])
            if brand is not None:
                await _register_brand(context, organization_id, brand)
                registered.add(brand["id"])
        if row["status"] == "draft":
            async with context.database.connect() as conn, conn.transaction():
                await campaigns.mark_submitted(conn, organization_id, row)
        if row["status"] in ("draft", "pending_review"):
            row = await campaigns.register_pending(context, organization_id, row["id"]) or row
        if row["status"] == "approved":
            approved.append(row["tcr_campaign_id"])
    if not approved:
        raise CompletionFailed("campaigns_rejected", "TCR approved none of the campaigns.")
    return approved[0]


async def _run(context: Runtime, completion: Row) -> tuple[Outcome, Row]:
    """Submit everything the profile needs; its resulting status. Raises CompletionFailed."""
    org = completion["organization_id"]
    async with context.database.connect() as conn:
        profile = await profiles.profile_row(conn, org, completion["profile_id"])
        if profile is None or profile["deleted_at"] is not None:
            raise CompletionFailed("profile_deleted", "The profile was deleted.")
        inherits_campaigns = not profile["is_parent"] and profile["inherit_tcr_campaign"]
        parent = await profiles.parent_profile(conn, org) if inherits_campaigns else profile
        [(brand_id, inherits_brand)] = await profiles.brand_ids_of(conn, org, [profile])
        brand = brand_id and await brands.brand_row(conn, org, brand_id)
        numbers = await numbers_of_profile(conn, org, profile["id"])
    if not brand:
        raise CompletionFailed("brand_required", "The profile's brand is gone.")

    tcr_campaign_id = None
    if brand["is_tcr_application"]:
        brand = await _register_brand(context, org, brand)
        owner = parent if inherits_campaigns else profile
        tcr_campaign_id = await _register_campaigns(context, org, owner)

    if profile["sending_phone_number"] and profile["sending_phone_number"] not in numbers:
        numbers.append(profile["sending_phone_number"])
    try:
        for number in numbers:
            await context.providers.carrier.connect_number(number, tcr_campaign_id)
    except ConnectionRefused as refused:
        raise CompletionFailed("number_refused", str(refused)) from None
    if profile["waba_id"] and profile["whatsapp_phone_number_id"]:
        try:
            await context.providers.whatsapp.register_phone(
                profile["waba_id"], profile["whatsapp_phone_number_id"]
            )
        except WhatsAppRefused as refused:
            raise CompletionFailed("whatsapp_refused", str(refused)) from None

    outcome = status_logic(
        has_sms=bool(numbers),
        # A WhatsApp channel is a phone to send from, not only an account.
        has_whatsapp=bool(profile["whatsapp_phone_number_id"] or profile["whatsapp_phone_number"]),
        tcr_application=brand["is_tcr_application"],
        inherits_registration=bool(inherits_brand and inherits_campaigns),
        main_destination=any(c.get("is_main") for c in brand["destination_countries"]),
    )
    return outcome, profile


@handler(COMPLETE_JOB)
async def complete(context: Runtime, job: Row) -> None:
    org = job["organization_id"]
    params = {"org": org, "cmpl": job["payload"]["completion_id"]}
    async with context.database.connect() as conn:
        completion = await conn.fetch_one(_get, params)
    if completion is None or completion["status"] != "running":
        return  # finished already: a job may run twice
    try:
        outcome, _ = await _run(context, completion)
        await _finish(context, completion, outcome=outcome)
    except CompletionFailed as failed:
        await _finish(context, completion, error={"code": failed.code, "message": failed.message})
    except Exception as error:  # a provider is unreachable: try again later, then give up
        delay = retry_delay(context.settings.webhook_retry_schedule, job["attempts"])
        if delay is not None:
            raise Retry(delay, f"{type(error).__name__}: {error}") from error
        message = f"A provider stayed unavailable: {type(error).__name__}: {error}"[:500]
        await _finish(
            context, completion, error={"code": "provider_unavailable", "message": message}
        )


async def _finish(
    context: Runtime,
    completion: Row,
    *,
    outcome: Outcome | None = None,
    error: dict[str, str] | None = None,
) -> None:
    """Record the result, set the profile's status, emit the event and queue the callback."""
    org, profile_id = completion["organization_id"], completion["profile_id"]
    now = utcnow()
    changes = {
        "status": "failed" if error else "succeeded",
        "outcome": outcome,
        "error": error,
        "callback_status": "pending",
        "finished_at": now,
        "updated_at": now,
    }
    async with context.database.connect() as conn, conn.transaction():
        if not await conn.execute(
            _finish_run,
            {
                "org": org,
                "cmpl": completion["id"],
                "new_status": changes["status"],
                "outcome": outcome,
                "error": error,
                "now": now,
            },
        ):
            return  # another run of this job finished it
        status = outcome or ("rejected" if error and error["code"] in _REFUSALS else None)
        if status is not None:
            await profiles.set_profile_status(conn, org, profile_id, status)
        profile = await profiles.profile_row(conn, org, profile_id)
        event = "profile.completion_failed" if error else "profile.completed"
        data: dict[str, Any] = {
            "completion": _to_model({**completion, **changes}).model_dump(mode="json")
        }
        if profile is not None:
            data["profile"] = profiles.profile_model(profile).model_dump(mode="json")
        await emit(conn, org, event, data, profile_id=profile_id)
        await enqueue(conn, org, CALLBACK_JOB, {"completion_id": completion["id"]})


def callback_message(completion: Row) -> formats.Message:
    """The result POSTed to the caller's URL, in the native format of webhook deliveries."""
    succeeded = completion["status"] == "succeeded"
    return formats.Message(
        completion["id"],
        "profile.completed" if succeeded else "profile.completion_failed",
        completion["finished_at"],
        {
            "completion_id": completion["id"],
            "profile_id": completion["profile_id"],
            "success": succeeded,
            "status": completion["outcome"] if succeeded else "failed",
            "error": completion["error"],
            "timestamp": formats.iso(completion["finished_at"]),
        },
    )


@handler(CALLBACK_JOB)
async def send_callback(context: Runtime, job: Row) -> None:
    org = job["organization_id"]
    params = {"org": org, "cmpl": job["payload"]["completion_id"]}
    async with context.database.connect() as conn:
        completion = await conn.fetch_one(_get, params)
        if completion is None or completion["callback_status"] != "pending":
            return  # delivered already: a job may run twice
        secrets = await callback_signing_secrets(conn, org, context.secrets)
    body, headers = formats.standard(callback_message(completion), secrets, int(time.time()))
    settings = context.settings
    sent = await post_signed(
        context.http,
        completion["web_hook_url"],
        body,
        headers,
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_private=settings.allow_private_webhooks,
    )
    attempts = completion["callback_attempts"] + 1
    schedule = context.settings.webhook_retry_schedule
    delay = None if sent.error is None else retry_delay(schedule, attempts)
    status = "succeeded" if sent.error is None else ("pending" if delay else "failed")
    async with context.database.connect() as conn:
        await conn.execute(
            _record_callback,
            {
                **params,
                "new_status": status,
                "attempts": attempts,
                "last_error": sent.error,
                "now": utcnow(),
            },
        )
    if delay is not None:
        raise Retry(delay, sent.error or "")

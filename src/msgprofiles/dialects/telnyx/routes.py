"""Telnyx's messaging profiles (spec §6, §7.2) on the native profiles: the same objects and
numbers as /v1, Telnyx's names, pages and errors."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from msgprofiles.core.errors import ErrorCode
from msgprofiles.core.http import AdminCtx, Context, Ctx
from msgprofiles.core.pagination import Page
from msgprofiles.dialects.telnyx import schemas
from msgprofiles.dialects.telnyx.wire import TelnyxRoute, data, page
from msgprofiles.dialects.toolkit import from_uuid, numbered, to_uuid, validated
from msgprofiles.numbers import service as numbers
from msgprofiles.numbers.schemas import PhoneNumber
from msgprofiles.profiles import service as profiles
from msgprofiles.profiles.schemas import Profile, ProfileCreate, ProfileUpdate
from msgprofiles.webhooks.formats import iso

router = APIRouter(prefix="/v2/messaging_profiles", route_class=TelnyxRoute)

PageNumber = Annotated[int, Query(alias="page[number]", ge=1, le=100_000)]
PageSize = Annotated[int, Query(alias="page[size]", ge=1, le=250)]
Name = Annotated[str | None, Query(min_length=1, max_length=255)]


def _id(value: str) -> str:
    return from_uuid("prof", value, ErrorCode.profile_not_found, "messaging profile")


def _profile(record: Profile) -> dict[str, Any]:
    settings = record.messaging
    kept = settings.vendor_settings.get("telnyx", {})
    pool = settings.number_pool
    shown = {
        "record_type": "messaging_profile",
        "id": to_uuid(record.id),
        "name": record.name,
        "enabled": settings.enabled,
        "webhook_url": settings.webhook_url and str(settings.webhook_url),
        "webhook_failover_url": settings.failover_url and str(settings.failover_url),
        "webhook_api_version": kept.get("webhook_api_version", "2"),
        "whitelisted_destinations": settings.whitelisted_destinations or ["*"],
        "number_pool_settings": (pool.model_dump(exclude={"enabled"}) if pool.enabled else None),
        "url_shortener_settings": (
            settings.url_shortener_settings and settings.url_shortener_settings.model_dump()
        ),
        "alpha_sender": settings.alpha_sender,
        "daily_spend_limit": settings.daily_spend_limit,
        "daily_spend_limit_enabled": settings.daily_spend_limit_enabled,
        "mms_fall_back_to_sms": settings.mms_fall_back_to_sms,
        "mms_transcoding": settings.mms_transcoding,
        "mobile_only": settings.mobile_only,
        "smart_encoding": settings.smart_encoding,
        "features": kept.get("features"),
        "health_webhook_url": kept.get("health_webhook_url"),
        "ai_assistant_id": kept.get("ai_assistant_id"),
        "resource_group_id": kept.get("resource_group_id"),
        "organization_id": to_uuid(record.organization_id),
        "v1_secret": None,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }
    # Telnyx shows redaction only where it was turned on for the organization.
    return shown | {k: kept[k] for k in ("redaction_enabled", "redaction_level") if k in kept}


def _messaging(body: schemas.ProfileCreate | schemas.ProfileUpdate) -> dict[str, Any]:
    """The native messaging settings a Telnyx body sends (only those sent)."""
    sent = body.model_dump(mode="json", include=body.model_fields_set, exclude={"name"})
    settings: dict[str, Any] = {
        name: sent[name]
        for name in (
            "enabled",
            "webhook_url",
            "url_shortener_settings",
            "alpha_sender",
            "daily_spend_limit",
            "daily_spend_limit_enabled",
            "mms_fall_back_to_sms",
            "mms_transcoding",
            "mobile_only",
            "smart_encoding",
        )
        if name in sent
    }
    if "webhook_failover_url" in sent:
        settings["failover_url"] = sent["webhook_failover_url"]
    if "whitelisted_destinations" in sent:
        wanted = sent["whitelisted_destinations"]
        settings["whitelisted_destinations"] = [] if wanted == ["*"] else wanted
    if "number_pool_settings" in sent:  # null turns the pool off and keeps its weights
        pool = sent["number_pool_settings"]
        settings["number_pool"] = {"enabled": False} if pool is None else {**pool, "enabled": True}
    if kept := schemas.kept(body):
        settings["vendor_settings"] = {"telnyx": kept}
    return {k: v for k, v in settings.items() if v is not None or k in _CLEARABLE}


_CLEARABLE = {"webhook_url", "failover_url", "url_shortener_settings", "alpha_sender"}


@router.post("")
async def create_profile(body: schemas.ProfileCreate, ctx: AdminCtx) -> Response:
    """A messaging profile (SMS only unless the organization has a WhatsApp account)."""
    data_ = validated(ProfileCreate, {"name": body.name, "messaging": _messaging(body)})
    state = ctx.runtime
    created = await profiles.create_profile(
        ctx.conn, ctx.caller, data_, state.providers.payments, state.secrets
    )
    return data(_profile(created))


@router.get("")
async def list_profiles(
    ctx: Ctx,
    page_number: PageNumber = 1,
    page_size: PageSize = 20,
    name: Annotated[str | None, Query(alias="filter[name]", max_length=255)] = None,
    name_eq: Annotated[str | None, Query(alias="filter[name][eq]", max_length=255)] = None,
    name_contains: Annotated[
        str | None, Query(alias="filter[name][contains]", max_length=255)
    ] = None,
) -> Response:
    """Newest first. `filter[name]` and `filter[name][eq]`: exactly that name;
    `filter[name][contains]`: part of it. Several filters must all hold."""
    exact = {value for value in (name, name_eq) if value is not None}
    if len(exact) > 1:  # two different exact names: no profile has both
        return page(Page([], has_more=False, next_cursor=None, total=0), page_number, page_size)
    found = await profiles.list_profiles(
        ctx.conn,
        ctx.caller,
        numbered(page_number, page_size),
        name=next(iter(exact), None),
        name_contains=name_contains,
    )
    return page(found.map(_profile), page_number, page_size)


@router.get("/{profile_id}")
async def retrieve_profile(profile_id: str, ctx: Ctx) -> Response:
    return data(_profile(await profiles.get_profile(ctx.conn, ctx.caller, _id(profile_id))))


@router.patch("/{profile_id}")
async def update_profile(profile_id: str, body: schemas.ProfileUpdate, ctx: AdminCtx) -> Response:
    """Change what is sent; `number_pool_settings: null` turns the pool off."""
    values: dict[str, Any] = {}
    if body.name is not None:
        values["name"] = body.name
    if messaging := _messaging(body):
        values["messaging"] = messaging
    changes = validated(ProfileUpdate, values)
    payments = ctx.runtime.providers.payments
    updated = await profiles.update_profile(
        ctx.conn, ctx.caller, _id(profile_id), changes, payments
    )
    return data(_profile(updated))


@router.delete("/{profile_id}")
async def delete_profile(profile_id: str, ctx: AdminCtx) -> Response:
    """Answers the deleted profile (the organization's own profile stays: 409)."""
    return data(_profile(await profiles.delete_profile(ctx.conn, ctx.caller, _id(profile_id))))


_TYPES = {"long_code": "long-code", "toll_free": "toll-free"}


def _phone_number(number: PhoneNumber) -> dict[str, Any]:
    return {
        "record_type": "messaging_phone_number",
        "id": to_uuid(number.id),
        "phone_number": number.number,
        "messaging_profile_id": number.profile_id and to_uuid(number.profile_id),
        "country_code": number.country,
        "type": _TYPES[number.type],
        "health": None,  # msgprofiles keeps no per-number metrics
        "tags": [],
        "created_at": iso(number.created_at),
        "updated_at": iso(number.updated_at),
    }


def _short_code(number: PhoneNumber) -> dict[str, Any]:
    return {
        "record_type": "short_code",
        "id": to_uuid(number.id),
        "short_code": number.number,
        "messaging_profile_id": number.profile_id and to_uuid(number.profile_id),
        "country_code": number.country,
        "tags": [],
        "created_at": iso(number.created_at),
        "updated_at": iso(number.updated_at),
    }


async def _numbers(
    ctx: Context,
    profile_id: str,
    page_number: int,
    page_size: int,
    shape: Callable[[PhoneNumber], dict[str, Any]],
    types: list[str],
) -> Response:
    found = await numbers.list_numbers(
        ctx.conn, ctx.caller, numbered(page_number, page_size), _id(profile_id), types
    )
    return page(found.map(shape), page_number, page_size)


@router.get("/{profile_id}/phone_numbers")
async def list_phone_numbers(
    profile_id: str, ctx: Ctx, page_number: PageNumber = 1, page_size: PageSize = 20
) -> Response:
    """The long codes and toll-free numbers assigned to the profile."""
    return await _numbers(ctx, profile_id, page_number, page_size, _phone_number, list(_TYPES))


@router.get("/{profile_id}/short_codes")
async def list_short_codes(
    profile_id: str, ctx: Ctx, page_number: PageNumber = 1, page_size: PageSize = 20
) -> Response:
    """The short codes assigned to the profile."""
    return await _numbers(ctx, profile_id, page_number, page_size, _short_code, ["short_code"])

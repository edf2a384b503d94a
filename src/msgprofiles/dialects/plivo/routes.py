"""Plivo's Profile, 10DLC Brand, Campaign and number-linking API (spec §2, §7-§9) on the
native services: a profile is a brand record, a brand is that record's TCR registration, a
campaign has a sender profile of its own, and linking a number assigns it to that profile."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from msgprofiles.brands import service as brands
from msgprofiles.brands.schemas import Brand, BrandCreate, BrandUpdate, EntityType, Vertical
from msgprofiles.campaigns import service as campaigns
from msgprofiles.campaigns.schemas import Campaign, CampaignContent
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import AdminCtx, Context
from msgprofiles.core.validation import e164
from msgprofiles.dialects.plivo import formats, schemas, shapes
from msgprofiles.dialects.plivo.wire import AUTH_ID, PlivoRoute, answer, meta, refuse
from msgprofiles.dialects.toolkit import from_uuid, offset, to_uuid, validated
from msgprofiles.numbers import service as numbers
from msgprofiles.webhooks import callbacks
from msgprofiles.workflows import registration

router = APIRouter(prefix="/v1/Account/{auth_id}", route_class=PlivoRoute)
_AUTH_ID = {
    "name": "auth_id",
    "in": "path",
    "required": True,
    "description": "Your auth id: the route class checks it against the Basic username.",
    "schema": {"type": "string", "pattern": AUTH_ID.pattern},
}
"""Documented, not declared: solving a dependency that only documented it cost 3 to 5 % of
every request (Plivo reads and creates went from 75-78 % of native to 80-81 %)."""

Endpoint = Callable[..., Awaitable[Response]]


def route(method: str, path: str, status_code: int = 200) -> Callable[[Endpoint], Endpoint]:
    """A route at `path/` (the SDK's spelling, documented) and at `path` (without a
    redirect's round trip), listed in the docs under its resource."""
    tag = next(
        name
        for part, name in (
            ("/Number", "Number linking"),
            ("/Campaign", "Campaigns"),
            ("/Brand", "Brands"),
            ("/Profile", "Profiles"),
        )
        if part in path
    )

    def register(endpoint: Endpoint) -> Endpoint:
        for spelling, documented in ((path + "/", True), (path, False)):
            router.add_api_route(
                spelling,
                endpoint,
                methods=[method],
                status_code=status_code,
                include_in_schema=documented,
                tags=[tag],
                openapi_extra={"parameters": [_AUTH_ID]},
            )
        return endpoint

    return register


Limit = Annotated[int, Query(ge=1, le=20, description="At most 20.")]
Offset = Annotated[int, Query(ge=0)]


def _brand_id(value: str, what: str = "profile") -> str:
    return from_uuid("brand", value, ErrorCode.brand_not_found, what)


def _campaign_id(value: str) -> str:
    return from_uuid("camp", value, ErrorCode.campaign_not_found, "campaign")


def _number(value: str) -> str:
    """A number as Plivo writes it (`12125557778`, `+1 212…`) in E.164."""
    try:
        return e164("+" + value if value.isdigit() else value)
    except ValueError:
        raise DomainError(
            ErrorCode.invalid_phone_number,
            f"{value!r} is not a phone number.",
            details=[{"field": "number", "message": "not a phone number"}],
        ) from None


async def _callback(
    ctx: Context, url: object | None, options: dict[str, Any] | None = None
) -> callbacks.Callback | None:
    if url is None:
        return None
    allow_private = ctx.runtime.settings.allow_private_webhooks
    return await callbacks.checked(str(url), allow_private, formats.NAME, options)


# Profiles (the brand records) -------------------------------------------------------------


async def _primary_uuid(ctx: Context, *shown: Brand) -> str | None:
    """The account's PRIMARY profile: one of those shown, or looked up."""
    for brand in shown:
        if brand.type == "PRIMARY":
            return to_uuid(brand.id)
    primary = await brands.primary_brand_id(ctx.conn, ctx.caller)
    return to_uuid(primary) if primary else None


def _kyc(body: schemas.ProfileCreate | schemas.ProfileUpdate) -> dict[str, Any]:
    """The native brand fields a profile body sends (blanks were dropped)."""
    sent = {k: v for k, v in body.changes().items() if v is not None}
    renames = {
        "company_name": "legal_name",
        "ein": "tax_id",
        "ein_issuing_country": "tax_id_country",
    }
    values = {renames.get(k, k): v for k, v in sent.items() if k not in ("plivo_subaccount",)}
    if "profile_alias" in values:
        values["alias"] = values.pop("profile_alias")
    for name in ("address", "authorized_contact"):
        if name in values:
            values[name] = values[name].model_dump(mode="json")
    if "website" in values:
        values["website"] = str(values["website"])
    if values.get("tax_id"):
        country = values.get("tax_id_country") or (values.get("address") or {}).get("country")
        if country == "US":
            values["tax_id_type"] = "us_ein"
    return values


def _kept(body: schemas.ProfileCreate | schemas.ProfileUpdate) -> dict[str, Any] | None:
    return {"plivo": {"plivo_subaccount": body.plivo_subaccount}} if body.plivo_subaccount else None


@route("POST", "/Profile")
async def create_profile(body: schemas.ProfileCreate, ctx: AdminCtx, request: Request) -> Response:
    """A business profile: the brand record a 10DLC brand registers from (PRIMARY if it is
    the account's first)."""
    data = validated(BrandCreate, _kyc(body))
    created = await brands.create_brand(ctx.conn, ctx.caller, data, vendor_fields=_kept(body))
    return answer(
        request, {"message": "Profile created successfully.", "profile_uuid": to_uuid(created.id)}
    )


@route("GET", "/Profile")
async def list_profiles(
    ctx: AdminCtx,
    request: Request,
    limit: Limit = 20,
    offset_: Annotated[int, Query(alias="offset", ge=0)] = 0,
    entity_type: EntityType | None = None,
    type: Literal["PRIMARY", "SECONDARY"] | None = None,
    vertical: Vertical | None = None,
) -> Response:
    page = await brands.list_brands(
        ctx.conn,
        ctx.caller,
        offset(offset_, limit),
        entity_type=entity_type,
        vertical=vertical,
        brand_type=type,
    )
    primary = await _primary_uuid(ctx, *page.items)
    return answer(
        request,
        {
            "meta": meta(request, page, limit, offset_),
            "profiles": [shapes.profile(brand, primary) for brand in page.items],
        },
    )


@route("GET", "/Profile/{profile_uuid}")
async def get_profile(profile_uuid: str, ctx: AdminCtx, request: Request) -> Response:
    found = await brands.get_brand(ctx.conn, ctx.caller, _brand_id(profile_uuid))
    return answer(request, {"profile": shapes.profile(found, await _primary_uuid(ctx, found))})


@route("POST", "/Profile/{profile_uuid}")
async def update_profile(
    profile_uuid: str, body: schemas.ProfileUpdate, ctx: AdminCtx, request: Request
) -> Response:
    """Change the fields sent; `address` and `authorized_contact` are replaced whole. A
    profile registered as a brand keeps its KYC details (409)."""
    data = validated(BrandUpdate, _kyc(body))
    updated = await brands.update_brand(
        ctx.conn, ctx.caller, _brand_id(profile_uuid), data, vendor_fields=_kept(body)
    )
    primary = await _primary_uuid(ctx, updated)
    return answer(request, {"profile": shapes.profile(updated, primary)})


@route("DELETE", "/Profile/{profile_uuid}")
async def delete_profile(profile_uuid: str, ctx: AdminCtx, request: Request) -> Response:
    """Delete a SECONDARY profile (the PRIMARY one stays: 400)."""
    await brands.delete_brand(ctx.conn, ctx.caller, _brand_id(profile_uuid))
    return answer(request, {"message": "Profile deleted successfully."})


# Brands (the records' TCR registrations) ------------------------------------------------


async def _registered_brand(ctx: Context, brand_id: str) -> Brand:
    """A brand record submitted to TCR; one never submitted has no Plivo brand (404)."""
    found = await brands.get_brand(ctx.conn, ctx.caller, _brand_id(brand_id, "brand"))
    if found.registration_status == "not_submitted":
        raise DomainError(
            ErrorCode.brand_not_found,
            f"No brand with id '{brand_id}': its profile was never registered as a brand.",
        )
    return found


@route("POST", "/10dlc/Brand")
async def create_brand(body: schemas.BrandCreate, ctx: AdminCtx, request: Request) -> Response:
    """Register the profile as a 10DLC brand with TCR. The brand's id is the profile's uuid;
    `url` is told of each registration status change."""
    callback = await _callback(ctx, body.url)
    changes = None
    if body.business_contact_email is not None:
        changes = validated(BrandUpdate, {"business_contact_email": body.business_contact_email})
    submitted = await registration.register_brand(
        ctx.conn,
        ctx.caller,
        _brand_id(body.profile_uuid),
        registration_alias=body.brand_alias,
        registration_type=body.brand_type,
        changes=changes,
        vendor_fields={"plivo": {"secondary_vetting": body.secondary_vetting}},
        callback=callback,
    )
    return answer(
        request,
        {
            "brand_id": to_uuid(submitted.id),
            "message": "Request to create brand was received and is being processed.",
        },
    )


@route("GET", "/10dlc/Brand")
async def list_brands(
    ctx: AdminCtx,
    request: Request,
    type: Literal["STANDARD", "STARTER"] | None = None,
    status: Literal["PROCESSING", "COMPLETED", "FAILED"] | None = None,
    registration_status: Literal["PROCESSING", "COMPLETED", "FAILED"] | None = None,
    limit: Limit = 20,
    offset_: Annotated[int, Query(alias="offset", ge=0)] = 0,
) -> Response:
    """The registered brands; `status` (the SDK's name) and `registration_status` (Plivo's
    documented one) filter alike."""
    wanted = status or registration_status
    page = await brands.list_brands(
        ctx.conn,
        ctx.caller,
        offset(offset_, limit),
        registration_status=shapes.BRAND_STATUS_OF[wanted] if wanted else list(shapes.BRAND_STATUS),
        has_tax_id=None if type is None else type == "STANDARD",
    )
    return answer(
        request,
        {
            "meta": meta(request, page, limit, offset_),
            "brands": [shapes.brand(record) for record in page.items],
        },
    )


@route("GET", "/10dlc/Brand/{brand_id}")
async def get_brand(brand_id: str, ctx: AdminCtx, request: Request) -> Response:
    return answer(request, {"brand": shapes.brand(await _registered_brand(ctx, brand_id))})


@route("GET", "/10dlc/Brand/{brand_id}/usecases")
async def get_usecases(brand_id: str, ctx: AdminCtx, request: Request) -> Response:
    """The use cases the brand may register campaigns for (a STARTER brand: STARTER only)."""
    found = await _registered_brand(ctx, brand_id)
    starter = shapes.brand_type(found) == "STARTER"
    codes = [code for code in shapes.USE_CASES if (code == "STARTER") == starter]
    use_cases = [
        {"name": shapes.USE_CASES[code][0], "code": code, "details": shapes.USE_CASES[code][1]}
        for code in codes
    ]
    return answer(request, {"brand_id": brand_id, "use_cases": use_cases})


@route("DELETE", "/10dlc/Brand/{brand_id}")
async def delete_brand(brand_id: str, ctx: AdminCtx, request: Request) -> Response:
    """Refused: a registration stays with TCR (delete the profile instead)."""
    await _registered_brand(ctx, brand_id)
    raise DomainError(
        ErrorCode.brand_locked, "A registered brand stays; delete the profile instead."
    )


# Campaigns ------------------------------------------------------------------------------


def _rename(part: str) -> str:
    return {"name": "campaign_alias", "use_cases": "usecase"}.get(part, part)


def _content(fields: dict[str, Any], default_name: str) -> CampaignContent:
    """Plivo's campaign fields as the native content: the use case, then each
    sub-use-case, all with the same samples."""
    samples = [fields[f"sample{i}"] for i in range(1, 6) if fields.get(f"sample{i}")]
    if len(samples) < 2:
        raise refuse("A campaign needs at least two sample messages.", "sample2")
    names = [fields["usecase"], *fields.get("sub_usecases", ())]
    use_cases = [
        {"use_case": shapes.USE_CASE.get(name, name), "sample_messages": samples}
        for name in dict.fromkeys(names)
    ]
    values: dict[str, Any] = {
        "name": fields.get("campaign_alias") or default_name,
        "use_cases": use_cases,
    }
    for name in (
        "description",
        "message_flow",
        "help_keywords",
        "help_message",
        "optin_keywords",
        "optin_message",
        "optout_keywords",
        "optout_message",
        "privacy_policy_link",
        "terms_and_conditions_link",
        "embedded_link",
        "embedded_phone",
        "age_gated",
        "direct_lending",
    ):
        if fields.get(name) not in (None, ""):
            values[name] = fields[name]
    return validated(CampaignContent, values, rename=_rename)  # type: ignore[no-any-return]


@route("POST", "/10dlc/Campaign/Import")
async def import_campaign(body: schemas.CampaignImport, ctx: AdminCtx) -> Response:
    """Not offered: campaigns registered elsewhere and shared through TCR are not imported."""
    raise refuse("Importing a campaign shared through TCR is not supported; create it here.")


@route("POST", "/10dlc/Campaign")
async def create_campaign(
    body: schemas.CampaignCreate, ctx: AdminCtx, request: Request
) -> Response:
    """A campaign of a registered brand, submitted to TCR review at once, with a sender
    profile of its own that its linked numbers are assigned to."""
    brand = await _registered_brand(ctx, body.brand_id)
    starter = shapes.brand_type(brand) == "STARTER"
    if (body.usecase == "STARTER") != starter:
        raise refuse(
            "A STARTER brand registers STARTER campaigns only, and only a STARTER brand does.",
            "usecase",
        )
    unset = [
        name
        for name in ("subscriber_optin", "subscriber_optout", "subscriber_help")
        if not getattr(body, name)
    ]
    if unset:
        raise refuse(
            "Subscribers must be able to opt in, opt out and ask for help: "
            + ", ".join(unset)
            + " must be true.",
            unset[0],
        )
    fields = body.model_dump(exclude={"url", "method", "brand_id"})
    content = _content(fields, f"{brand.registration_alias or brand.alias} {body.usecase}")
    kept = {name: fields[name] for name in shapes.SUBSCRIBER} | {
        "vertical": body.vertical,
        "campaign_alias": body.campaign_alias,
    }
    state = ctx.runtime
    created = await registration.register_campaign(
        ctx.conn,
        ctx.caller,
        brand.id,
        content,
        payments=state.providers.payments,
        box=state.secrets,
        vendor_fields={"plivo": kept},
        callback=await _callback(ctx, body.url),
    )
    return answer(
        request,
        {
            "campaign_id": to_uuid(created.id),
            "message": "Request to create campaign was received and is being processed.",
        },
    )


_CAMPAIGN_STATUS = Literal["ACTIVE", "FAILED", "PROCESSING", "EXPIRED"]


def _status_filter(value: str | None) -> tuple[list[str] | None, bool | None]:
    """(native statuses, deleted) for Plivo's registration_status filter."""
    if value is None:
        return None, None
    wanted = value.upper()
    if wanted == shapes.EXPIRED:
        return None, True
    statuses = [ours for ours, theirs in shapes.CAMPAIGN_STATUS.items() if theirs == wanted]
    if not statuses:
        raise refuse(
            "registration_status is one of ACTIVE, FAILED, PROCESSING or EXPIRED.",
            "registration_status",
        )
    return statuses, False


@route("GET", "/10dlc/Campaign")
async def list_campaigns(
    ctx: AdminCtx,
    request: Request,
    brand_id: Annotated[str | None, Query(max_length=64)] = None,
    registration_status: Annotated[str | None, Query(max_length=20)] = None,
    usecase: schemas.UseCase | None = None,
    campaign_source: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 20,
    offset_: Annotated[int, Query(alias="offset", ge=0)] = 0,
) -> Response:
    """Every campaign of the account; `registration_status` matches in any case."""
    statuses, deleted = _status_filter(registration_status)
    brand = None
    if brand_id is not None:
        brand = from_uuid("brand", brand_id, ErrorCode.validation_error, "brand")
    page = await campaigns.list_organization_campaigns(
        ctx.conn,
        ctx.caller,
        offset(offset_, limit),
        brand_id=brand,
        statuses=statuses,
        deleted=deleted,
        use_case=shapes.USE_CASE.get(usecase, usecase) if usecase else None,
    )
    items = page.items if campaign_source in (None, "plivo") else []
    return answer(
        request,
        {
            "meta": meta(request, page, limit, offset_),
            "campaigns": [shapes.campaign(record) for record in items],
        },
    )


async def _campaign(ctx: Context, campaign_id: str) -> Campaign:
    return await campaigns.find_campaign(ctx.conn, ctx.caller, _campaign_id(campaign_id))


@route("GET", "/10dlc/Campaign/{campaign_id}")
async def get_campaign(campaign_id: str, ctx: AdminCtx, request: Request) -> Response:
    return answer(request, {"campaign": shapes.campaign(await _campaign(ctx, campaign_id))})


@route("POST", "/10dlc/Campaign/{campaign_id}")
async def update_campaign(
    campaign_id: str, body: schemas.CampaignUpdate, ctx: AdminCtx, request: Request
) -> Response:
    """Change a FAILED campaign (what is sent; blanks keep the current text) and submit it
    again; any other status is a 409."""
    current = await _campaign(ctx, campaign_id)
    sent = {k: v for k, v in body.changes().items() if v is not None}
    flags = {name: current.content[name] for name in shapes.ATTRIBUTES}
    fields = shapes.campaign_fields(current) | flags | sent
    content = _content(fields, current.content["name"])
    kept = {k: sent[k] for k in ("campaign_alias", "reseller_id") if k in sent}
    updated = await registration.resubmit_campaign(
        ctx.conn, ctx.caller, current.id, content, vendor_fields={"plivo": kept}
    )
    return answer(request, {"campaign": shapes.campaign(updated)})


@route("DELETE", "/10dlc/Campaign/{campaign_id}")
async def delete_campaign(campaign_id: str, ctx: AdminCtx, request: Request) -> Response:
    """Deactivate the campaign (EXPIRED): its numbers are unlinked and its profile goes."""
    retired = await registration.retire_campaign(ctx.conn, ctx.caller, _campaign_id(campaign_id))
    return answer(request, {"campaign_id": to_uuid(retired.id), "message": "Campaign Deactivated"})


# Number linking -------------------------------------------------------------------------


def _numbers_answer(record: Campaign, numbers_: list[str]) -> dict[str, Any]:
    fields = shapes.campaign_fields(record)
    return {
        "campaign_id": to_uuid(record.id),
        "campaign_alias": fields["campaign_alias"],
        "usecase": fields["usecase"],
        "phone_numbers": [
            {"number": shapes.digits(number), "status": "COMPLETED"} for number in numbers_
        ],
    }


@route("POST", "/10dlc/Campaign/{campaign_id}/Number", status_code=202)
async def link_numbers(
    campaign_id: str, body: schemas.NumberLink, ctx: AdminCtx, request: Request
) -> Response:
    """Link numbers of the account to an ACTIVE campaign (all or none); `url` is told of
    each number's link status."""
    if body.campaign_id is not None and body.campaign_id != campaign_id:
        raise refuse("campaign_id differs from the campaign in the path.", "campaign_id")
    wanted = [_number(value) for value in body.numbers]
    callback = await _callback(ctx, body.url, {"campaign_id": campaign_id})
    await registration.link_numbers(
        ctx.conn, ctx.caller, _campaign_id(campaign_id), wanted, callback=callback
    )
    message = (
        f"Request to link {len(wanted)} number(s) to campaign {campaign_id} was received and "
        "is being processed"
    )
    return answer(request, {"message": message}, 202)


@route("GET", "/10dlc/Campaign/{campaign_id}/Number")
async def get_numbers(
    campaign_id: str,
    ctx: AdminCtx,
    request: Request,
    limit: Limit = 20,
    offset_: Annotated[int, Query(alias="offset", ge=0)] = 0,
) -> Response:
    """The numbers linked to the campaign (an EXPIRED one has none)."""
    record = await _campaign(ctx, campaign_id)
    if record.deleted_at is not None:
        return answer(request, _numbers_answer(record, []))
    page = await numbers.list_numbers(
        ctx.conn, ctx.caller, offset(offset_, limit), profile_id=record.profile_id
    )
    found = _numbers_answer(record, [n.number for n in page.items])
    return answer(request, {**found, "meta": meta(request, page, limit, offset_)})


@route("GET", "/10dlc/Campaign/{campaign_id}/Number/{number}")
async def get_number(campaign_id: str, number: str, ctx: AdminCtx, request: Request) -> Response:
    record = await _campaign(ctx, campaign_id)
    found = await numbers.find_number(ctx.conn, ctx.caller, _number(number))
    if record.deleted_at is not None or found.profile_id != record.profile_id:
        raise DomainError(
            ErrorCode.number_not_found, f"{number} is not linked to campaign {campaign_id}."
        )
    return answer(request, _numbers_answer(record, [found.number]))


@route("DELETE", "/10dlc/Campaign/{campaign_id}/Number/{number}", status_code=202)
async def unlink_number(
    campaign_id: str,
    number: str,
    ctx: AdminCtx,
    request: Request,
    body: schemas.NumberUnlink | None = None,
) -> Response:
    """Unlink a number from the campaign (it stays the account's); `url` is told of it."""
    url = body.url if body is not None else None
    callback = await _callback(ctx, url, {"campaign_id": campaign_id})
    await registration.unlink_number(
        ctx.conn, ctx.caller, _campaign_id(campaign_id), _number(number), callback=callback
    )
    message = (
        f"Request to unlink {number} from campaign {campaign_id} was received and is being "
        "processed"
    )
    return answer(request, {"message": message}, 202)

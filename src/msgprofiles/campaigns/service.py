"""10DLC campaigns of a profile's brand, with their own review status. A profile that
inherits campaigns (inherit_tcr_campaign) also sees its parent profile's, read-only."""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from msgprofiles.brands import service as brands
from msgprofiles.campaigns.models import campaigns
from msgprofiles.campaigns.schemas import Campaign, CampaignContent
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import Retry, enqueue, handler
from msgprofiles.profiles.service import brand_ids_of, parent_profile, require_profile
from msgprofiles.providers.tcr import CampaignSubmission, RegistrationRejected
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import callbacks
from msgprofiles.webhooks.events import emit, register_event_type

for _type, _text in {
    "campaign.created": "A campaign was added to a profile.",
    "campaign.updated": "A campaign's content was replaced.",
    "campaign.deleted": "A campaign was deleted.",
    "campaign.submitted": "A campaign was submitted to TCR for review; its content is frozen.",
    "campaign.approved": "TCR approved a campaign.",
    "campaign.rejected": "TCR rejected a campaign; fix it and submit again.",
}.items():
    register_event_type(_type, _text)
callbacks.tells_callbacks(
    "campaign.submitted", "campaign.approved", "campaign.rejected", "campaign.deleted"
)

REGISTER_JOB = "campaign.register"
_EDITABLE = ("draft", "rejected")

_t = campaigns
_live = _t.c.deleted_at.is_(None)
_insert = prepare(insert(_t))
_get = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("camp"), _live)
)


def _to_model(row: Row, profile_id: str) -> Campaign:
    return Campaign.model_validate(
        {**dict(row), "inherited": row["profile_id"] != profile_id}, strict=False
    )


async def visible_profiles(conn: Connection, caller: Caller, profile: Row) -> list[str]:
    """The profiles whose campaigns this one uses: itself, and its parent when inheriting."""
    owners = [profile["id"]]
    if profile["inherit_tcr_campaign"] and not profile["is_parent"]:
        owners.append((await parent_profile(conn, caller.organization_id))["id"])
    return owners


def _locked() -> DomainError:
    return DomainError(
        ErrorCode.campaign_locked,
        "This campaign was submitted to TCR: its content cannot change.",
    )


async def brand_of(conn: Connection, caller: Caller, profile: Row) -> str:
    """The brand a profile's campaigns register under: its own, or its parent's."""
    [(brand_id, _)] = await brand_ids_of(conn, caller.organization_id, [profile])
    if brand_id is None:
        raise DomainError(
            ErrorCode.brand_required,
            "Campaigns register under a brand: give the profile a brand_id, or inherit the "
            "parent profile's (inherit_tcr_brand) once it has one.",
        )
    return str(brand_id)


async def create_campaign(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    content: CampaignContent,
    *,
    vendor_fields: Mapping[str, Any] | None = None,
    dedicated_profile: bool = False,
) -> Campaign:
    """A draft campaign. `vendor_fields`: what a dialect keeps on it, e.g. {"plivo": {…}};
    `dedicated_profile`: the profile was made for it (see `Campaign`)."""
    async with conn.transaction():
        profile = await require_profile(conn, caller, profile_id)
        now = utcnow()
        row: dict[str, Any] = {
            "organization_id": caller.organization_id,
            "id": new_id("camp"),
            "profile_id": profile_id,
            "dedicated_profile": dedicated_profile,
            "brand_id": await brand_of(conn, caller, profile),
            "name": content.name,
            "content": content.model_dump(mode="json"),
            "vendor_fields": dict(vendor_fields) if vendor_fields else None,
            "status": "draft",
            "tcr_campaign_id": None,
            "submitted_at": None,
            "rejection_reason": None,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        }
        await conn.execute(_insert, row)
        campaign = _to_model(row, profile_id)
        await emit(
            conn, caller.organization_id, "campaign.created", campaign, profile_id=profile_id
        )
    return campaign


async def list_campaigns(
    conn: Connection, caller: Caller, profile_id: str, page: PageParams
) -> Page[Campaign]:
    profile = await require_profile(conn, caller, profile_id)
    owners = await visible_profiles(conn, caller, profile)
    statement = select(_t).where(
        _t.c.organization_id == caller.organization_id, _t.c.profile_id.in_(owners), _live
    )
    return (await fetch_page(conn, statement, _t.c.id, page)).map(
        lambda row: _to_model(row, profile_id)
    )


async def _campaign(
    conn: Connection, caller: Caller, profile_id: str, campaign_id: str, *, own: bool
) -> tuple[Row, Row]:
    profile = await require_profile(conn, caller, profile_id)
    row = await conn.fetch_one(_get, {"org": caller.organization_id, "camp": campaign_id})
    owners = [profile_id] if own else await visible_profiles(conn, caller, profile)
    if row is None or row["profile_id"] not in owners:  # inherited ones are read-only
        raise not_found(ErrorCode.campaign_not_found, "campaign of this profile", campaign_id)
    return profile, row


async def get_campaign(
    conn: Connection, caller: Caller, profile_id: str, campaign_id: str
) -> Campaign:
    _, row = await _campaign(conn, caller, profile_id, campaign_id, own=False)
    return _to_model(row, profile_id)


async def replace_campaign(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    campaign_id: str,
    content: CampaignContent,
    *,
    vendor_fields: Mapping[str, Any] | None = None,
) -> Campaign:
    """PUT: the whole content is replaced; refused while the campaign is under review or
    approved. A rejected campaign becomes a draft again. `vendor_fields` changes what each
    vendor named keeps, key by key."""
    async with conn.transaction():
        _, row = await _campaign(conn, caller, profile_id, campaign_id, own=True)
        if row["status"] not in _EDITABLE:
            raise _locked()
        changes = {
            "name": content.name,
            "content": content.model_dump(mode="json"),
            "status": "draft",
            "rejection_reason": None,
            "updated_at": utcnow(),
        }
        if vendor_fields:
            changes["vendor_fields"] = brands.merge_vendor_fields(
                row["vendor_fields"], vendor_fields
            )
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == campaign_id)
            .values(**changes)
        )
        campaign = _to_model({**row, **changes}, profile_id)
        await emit(
            conn, caller.organization_id, "campaign.updated", campaign, profile_id=profile_id
        )
    return campaign


async def delete_campaign(
    conn: Connection, caller: Caller, profile_id: str, campaign_id: str
) -> Campaign:
    async with conn.transaction():
        _, row = await _campaign(conn, caller, profile_id, campaign_id, own=True)
        now = utcnow()
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == campaign_id)
            .values(deleted_at=now, updated_at=now)
        )
        campaign = _to_model({**row, "updated_at": now, "deleted_at": now}, profile_id)
        await emit(
            conn, caller.organization_id, "campaign.deleted", campaign, profile_id=profile_id
        )
    return campaign


_any = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("camp"))
)


async def find_campaign(conn: Connection, caller: Caller, campaign_id: str) -> Campaign:
    """Any campaign of the organization by id, deleted ones too (their history): for
    vendors whose campaigns are addressed without their profile."""
    caller.require_organization_scope()
    row = await conn.fetch_one(_any, {"org": caller.organization_id, "camp": campaign_id})
    if row is None:
        raise not_found(ErrorCode.campaign_not_found, "campaign", campaign_id)
    return _to_model(row, row["profile_id"])


async def list_organization_campaigns(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    *,
    brand_id: str | None = None,
    statuses: Sequence[str] | None = None,
    deleted: bool | None = False,
    use_case: str | None = None,
) -> Page[Campaign]:
    """Every campaign of the organization, whatever its profile: of one brand, in any of
    `statuses`, deleted or not (`deleted=None`: both), whose main (first) use case is
    `use_case`."""
    caller.require_organization_scope()
    statement = select(_t).where(_t.c.organization_id == caller.organization_id)
    if deleted is not None:
        statement = statement.where(_t.c.deleted_at.is_not(None) if deleted else _live)
    if brand_id is not None:
        statement = statement.where(_t.c.brand_id == brand_id)
    if statuses is not None:
        statement = statement.where(_t.c.status.in_(statuses))
    if use_case is not None:
        main = _t.c.content[("use_cases", 0, "use_case")].as_string()
        statement = statement.where(main == use_case)
    result = await fetch_page(conn, statement, _t.c.id, page)
    return result.map(lambda row: _to_model(row, row["profile_id"]))


# A profile's campaigns are its own and, when it inherits them, its parent's: two ids at most,
# so one prepared statement serves (a send check reads them before every message).
_of_profiles = prepare(
    select(_t)
    .where(
        _t.c.organization_id == bindparam("org"),
        (_t.c.profile_id == bindparam("first")) | (_t.c.profile_id == bindparam("second")),
        _live,
    )
    .order_by(_t.c.id)
)


async def campaigns_of(conn: Connection, organization_id: str, profile_ids: list[str]) -> list[Row]:
    """The live campaigns of these profiles (one, or a profile and its parent), oldest first."""
    first, *rest = profile_ids
    assert len(rest) <= 1, "a profile and its parent at most"
    params = {"org": organization_id, "first": first, "second": rest[0] if rest else first}
    return await conn.fetch_all(_of_profiles, params)


async def mark_submitted(
    conn: Connection, organization_id: str, row: Mapping[str, Any]
) -> Campaign | None:
    """Freeze a campaign for review (status pending_review), in the caller's transaction;
    None when it was submitted meanwhile."""
    now = utcnow()
    changes = {"status": "pending_review", "submitted_at": now, "updated_at": now}
    if not await conn.execute(
        update(_t)
        .where(
            _t.c.organization_id == organization_id,
            _t.c.id == row["id"],
            _t.c.status.in_(_EDITABLE),
        )
        .values(**changes, rejection_reason=None)
    ):
        return None
    campaign = _to_model({**row, **changes, "rejection_reason": None}, row["profile_id"])
    await emit(conn, organization_id, "campaign.submitted", campaign, profile_id=row["profile_id"])
    return campaign


async def submit_campaign(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    campaign_id: str,
    *,
    callback: callbacks.Callback | None = None,
) -> Campaign:
    """Send a campaign to TCR review. Its brand must be registered, or on its way. The
    outcome is an event, and is POSTed to `callback` when the request named one."""
    async with conn.transaction():
        _, row = await _campaign(conn, caller, profile_id, campaign_id, own=True)
        if row["status"] not in _EDITABLE:
            raise DomainError(ErrorCode.campaign_locked, "This campaign was already submitted.")
        brand = await brands.require_brand(conn, caller, row["brand_id"])
        if not brands.submitted(brand):
            raise DomainError(
                ErrorCode.brand_not_registered,
                "TCR reviews campaigns of registered brands: submit the brand first "
                f"(POST /v1/brands/{brand['id']}/submit), or complete the profile.",
            )
        if callback is not None:
            await callbacks.register(conn, caller.organization_id, campaign_id, callback)
        campaign = await mark_submitted(conn, caller.organization_id, row)
        assert campaign is not None, "checked above, in this transaction"
        await enqueue(conn, caller.organization_id, REGISTER_JOB, {"campaign_id": campaign_id})
    return campaign


class BrandNotRegisteredYet(Exception):
    """The campaign's brand is still being registered: try again shortly."""


async def register_pending(context: Runtime, organization_id: str, campaign_id: str) -> Row | None:
    """Have TCR review a campaign under review (outside any transaction) and record the
    outcome. Safe to run twice; the first outcome recorded wins. Returns the campaign as it
    is afterwards (None if it is gone)."""
    params = {"org": organization_id, "camp": campaign_id}
    async with context.database.connect() as conn:
        row = await conn.fetch_one(_get, params)
        if row is None or row["status"] != "pending_review":
            return row
        # A brand deleted meanwhile is no brand: TCR would refuse its campaigns too.
        brand = await brands.brand_row(conn, organization_id, row["brand_id"])
    changes: dict[str, Any]
    if brand is None:
        changes = {"status": "rejected", "rejection_reason": "The campaign's brand was deleted."}
    elif not brands.registered(brand):
        if brands.submitted(brand):
            raise BrandNotRegisteredYet(brand["id"])
        changes = {"status": "rejected", "rejection_reason": "The brand is not registered."}
    else:
        submission = CampaignSubmission(
            campaign_id=campaign_id,
            tcr_brand_id=brand["tcr_brand_id"],
            description=row["content"]["description"],
            use_cases=tuple(u["use_case"] for u in row["content"]["use_cases"]),
        )
        try:
            tcr_id = await context.providers.tcr.register_campaign(submission)
            changes = {"status": "approved", "tcr_campaign_id": tcr_id}
        except RegistrationRejected as rejected:
            changes = {"status": "rejected", "rejection_reason": str(rejected)}
    async with context.database.connect() as conn, conn.transaction():
        changes["updated_at"] = utcnow()
        if await conn.execute(
            update(_t)
            .where(
                _t.c.organization_id == organization_id,
                _t.c.id == campaign_id,
                _t.c.status == "pending_review",
            )
            .values(**changes)
        ):
            event = f"campaign.{changes['status']}"
            campaign = _to_model({**row, **changes}, row["profile_id"])
            await emit(conn, organization_id, event, campaign, profile_id=row["profile_id"])
        return await conn.fetch_one(_get, params)


@handler(REGISTER_JOB)
async def register(context: Runtime, job: Row) -> None:
    try:
        await register_pending(context, job["organization_id"], job["payload"]["campaign_id"])
    except BrandNotRegisteredYet:
        raise Retry(timedelta(seconds=5), "waiting for the brand's registration") from None

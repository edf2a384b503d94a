"""10DLC campaigns of a profile's brand, with their own review status. A profile that
inherits campaigns (inherit_tcr_campaign) also sees its parent profile's, read-only."""

from typing import Any

from sqlalchemy import bindparam, insert, select, update

from msgprofiles.campaigns.models import campaigns
from msgprofiles.campaigns.schemas import Campaign, CampaignContent
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.profiles.service import parent_profile, require_profile
from msgprofiles.webhooks.events import emit, register_event_type

register_event_type("campaign.created", "A campaign was added to a profile.")
register_event_type("campaign.updated", "A campaign's content was replaced.")
register_event_type("campaign.deleted", "A campaign was deleted.")

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


async def _visible_profiles(conn: Connection, caller: Caller, profile: Row) -> list[str]:
    """The profiles whose campaigns this one uses: itself, and its parent when inheriting."""
    owners = [profile["id"]]
    if profile["inherit_tcr_campaign"] and not profile["is_parent"]:
        owners.append((await parent_profile(conn, caller.organization_id))["id"])
    return owners


async def _brand_of(conn: Connection, caller: Caller, profile: Row) -> str:
    """The brand a profile's campaigns register under: its own, or its parent's."""
    if profile["inherit_tcr_brand"] and not profile["is_parent"]:
        brand_id = (await parent_profile(conn, caller.organization_id))["brand_id"]
    else:
        brand_id = profile["brand_id"]
    if brand_id is None:
        raise DomainError(
            ErrorCode.brand_required,
            "Campaigns register under a brand: give the profile a brand_id, or inherit the "
            "parent profile's (inherit_tcr_brand) once it has one.",
        )
    return str(brand_id)


async def create_campaign(
    conn: Connection, caller: Caller, profile_id: str, content: CampaignContent
) -> Campaign:
    async with conn.transaction():
        profile = await require_profile(conn, caller, profile_id)
        now = utcnow()
        row: dict[str, Any] = {
            "organization_id": caller.organization_id,
            "id": new_id("camp"),
            "profile_id": profile_id,
            "brand_id": await _brand_of(conn, caller, profile),
            "name": content.name,
            "content": content.model_dump(mode="json"),
            "status": "draft",
            "tcr_campaign_id": None,
            "submitted_at": None,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        }
        await conn.execute(_insert, row)
        campaign = _to_model(row, profile_id)
        await emit(conn, caller.organization_id, "campaign.created", campaign)
    return campaign


async def list_campaigns(
    conn: Connection, caller: Caller, profile_id: str, page: PageParams
) -> Page[Campaign]:
    profile = await require_profile(conn, caller, profile_id)
    owners = await _visible_profiles(conn, caller, profile)
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
    owners = [profile_id] if own else await _visible_profiles(conn, caller, profile)
    if row is None or row["profile_id"] not in owners:  # inherited ones are read-only
        raise not_found(ErrorCode.campaign_not_found, "campaign of this profile", campaign_id)
    return profile, row


async def get_campaign(
    conn: Connection, caller: Caller, profile_id: str, campaign_id: str
) -> Campaign:
    _, row = await _campaign(conn, caller, profile_id, campaign_id, own=False)
    return _to_model(row, profile_id)


async def replace_campaign(
    conn: Connection, caller: Caller, profile_id: str, campaign_id: str, content: CampaignContent
) -> Campaign:
    """PUT: the whole content is replaced; refused once the campaign went to review."""
    async with conn.transaction():
        _, row = await _campaign(conn, caller, profile_id, campaign_id, own=True)
        if row["status"] != "draft":
            raise DomainError(
                ErrorCode.campaign_locked,
                "This campaign was submitted to TCR: its content cannot change.",
            )
        changes = {
            "name": content.name,
            "content": content.model_dump(mode="json"),
            "updated_at": utcnow(),
        }
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == campaign_id)
            .values(**changes)
        )
        campaign = _to_model({**row, **changes}, profile_id)
        await emit(conn, caller.organization_id, "campaign.updated", campaign)
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
        campaign = _to_model({**row, "updated_at": now}, profile_id)
        await emit(conn, caller.organization_id, "campaign.deleted", campaign)
    return campaign

"""The Plivo-style 10DLC flow over the native domains: a brand's campaigns are addressed
without a profile, each campaign sends from a profile made for it, and numbers are linked to
the campaign (assigned to that profile). Every step is one transaction, with the native events
and the request's status callback."""

from collections.abc import Mapping
from typing import Any, Literal

from msgprofiles.brands import service as brands
from msgprofiles.brands.schemas import Brand, BrandFields
from msgprofiles.campaigns import service as campaigns
from msgprofiles.campaigns.schemas import Campaign, CampaignContent
from msgprofiles.core.auth import Caller
from msgprofiles.core.crypto import SecretBox
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.db.database import Connection
from msgprofiles.numbers import service as numbers
from msgprofiles.numbers.schemas import PhoneNumber
from msgprofiles.profiles import service as profiles
from msgprofiles.profiles.schemas import ProfileCreate
from msgprofiles.providers.payments import PaymentProcessor
from msgprofiles.webhooks.callbacks import Callback


async def register_brand(
    conn: Connection,
    caller: Caller,
    brand_id: str,
    *,
    registration_alias: str,
    registration_type: Literal["STANDARD", "STARTER"] | None = None,
    changes: BrandFields | None = None,
    vendor_fields: Mapping[str, Any] | None = None,
    callback: Callback | None = None,
) -> Brand:
    """Submit a brand record to TCR under `registration_alias`, with last `changes` to its
    details first. `registration_type`, when asked for, must fit the record: a STANDARD
    registration needs a tax id (EIN); a STARTER one is a sole proprietor (INDIVIDUAL) without
    one."""
    async with conn.transaction():
        current = await brands.get_brand(conn, caller, brand_id)
        if changes is not None or vendor_fields:
            current = await brands.update_brand(
                conn, caller, brand_id, changes or BrandFields(), vendor_fields=vendor_fields
            )
        if registration_type == "STANDARD" and not current.tax_id:
            raise DomainError(
                ErrorCode.validation_error,
                "A STANDARD registration needs the brand's tax id (EIN); a sole proprietor "
                "without one registers as STARTER.",
                details=[{"field": "brand_type", "message": "needs an EIN"}],
            )
        if registration_type == "STARTER" and (
            current.entity_type != "INDIVIDUAL" or current.tax_id
        ):
            raise DomainError(
                ErrorCode.validation_error,
                "A STARTER registration is for a sole proprietor (INDIVIDUAL) without an EIN.",
                details=[{"field": "brand_type", "message": "not a sole proprietor"}],
            )
        return await brands.submit_brand(
            conn, caller, brand_id, registration_alias=registration_alias, callback=callback
        )


async def register_campaign(
    conn: Connection,
    caller: Caller,
    brand_id: str,
    content: CampaignContent,
    *,
    payments: PaymentProcessor,
    box: SecretBox,
    vendor_fields: Mapping[str, Any] | None = None,
    callback: Callback | None = None,
) -> Campaign:
    """A campaign of the brand with a sender profile of its own (named as the campaign,
    SMS only unless the organization has a WhatsApp account), submitted to TCR review at once."""
    async with conn.transaction():
        await brands.require_brand(conn, caller, brand_id)
        profile = await profiles.create_profile(
            conn, caller, ProfileCreate(name=content.name, brand_id=brand_id), payments, box
        )
        draft = await campaigns.create_campaign(
            conn,
            caller,
            profile.id,
            content,
            vendor_fields=vendor_fields,
            dedicated_profile=True,
        )
        return await campaigns.submit_campaign(
            conn, caller, profile.id, draft.id, callback=callback
        )


async def resubmit_campaign(
    conn: Connection,
    caller: Caller,
    campaign_id: str,
    content: CampaignContent,
    *,
    vendor_fields: Mapping[str, Any] | None = None,
) -> Campaign:
    """A rejected campaign with its content replaced, submitted again; any other status is a
    409 (under review, approved and deleted campaigns do not change)."""
    async with conn.transaction():
        campaign = await _live_campaign(conn, caller, campaign_id)
        if campaign.status != "rejected":
            raise DomainError(
                ErrorCode.campaign_locked,
                "Only a rejected campaign can be changed and submitted again.",
            )
        profile_id = campaign.profile_id
        await campaigns.replace_campaign(
            conn, caller, profile_id, campaign_id, content, vendor_fields=vendor_fields
        )
        return await campaigns.submit_campaign(conn, caller, profile_id, campaign_id)


async def retire_campaign(conn: Connection, caller: Caller, campaign_id: str) -> Campaign:
    """Delete the campaign; when its profile was made for it, that profile's numbers are
    freed and the profile is deleted too."""
    async with conn.transaction():
        campaign = await _live_campaign(conn, caller, campaign_id)
        profile_id = campaign.profile_id
        if campaign.dedicated_profile:
            for number in await numbers.numbers_of_profile(
                conn, caller.organization_id, profile_id
            ):
                await numbers.unassign_number(conn, caller, profile_id, number)
        deleted = await campaigns.delete_campaign(conn, caller, profile_id, campaign_id)
        if campaign.dedicated_profile:
            await profiles.delete_profile(conn, caller, profile_id)
        return deleted


async def link_numbers(
    conn: Connection,
    caller: Caller,
    campaign_id: str,
    e164_numbers: list[str],
    *,
    callback: Callback | None = None,
) -> list[PhoneNumber]:
    """Send these numbers' messages under the campaign: assign them to its profile. The
    campaign must be approved."""
    async with conn.transaction():
        campaign = await _live_campaign(conn, caller, campaign_id)
        if campaign.status != "approved":
            raise DomainError(
                ErrorCode.campaign_not_approved,
                "Numbers are linked to approved campaigns; this one is "
                f"{campaign.status.replace('_', ' ')}.",
            )
        return await numbers.assign_numbers(
            conn, caller, campaign.profile_id, e164_numbers, callback=callback
        )


async def unlink_number(
    conn: Connection,
    caller: Caller,
    campaign_id: str,
    e164_number: str,
    *,
    callback: Callback | None = None,
) -> PhoneNumber:
    """Take a number off the campaign (off its profile)."""
    async with conn.transaction():
        campaign = await campaigns.find_campaign(conn, caller, campaign_id)
        return await numbers.unassign_number(
            conn, caller, campaign.profile_id, e164_number, callback=callback
        )


async def _live_campaign(conn: Connection, caller: Caller, campaign_id: str) -> Campaign:
    campaign = await campaigns.find_campaign(conn, caller, campaign_id)
    if campaign.deleted_at is not None:
        raise not_found(ErrorCode.campaign_not_found, "campaign", campaign_id)
    return campaign

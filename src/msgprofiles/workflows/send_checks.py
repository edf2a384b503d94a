"""The pre-send check: the one question a sending platform asks before each message — may
this profile (or WhatsApp number) send on this channel to this recipient now? — answered
from every domain that has a say, with every reason it may not."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from msgprofiles.campaigns import service as campaigns
from msgprofiles.contacts import service as contacts
from msgprofiles.core.auth import Caller
from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import E164, region_of
from msgprofiles.customers import service as customers
from msgprofiles.db.database import Connection
from msgprofiles.profiles.schemas import Usd
from msgprofiles.profiles.service import require_profile
from msgprofiles.whatsapp import service as whatsapp

Reason = Literal[
    "contact_opted_out",
    "customer_suspended",
    "account_disconnected",
    "profile_not_completed",
    "campaign_not_approved",
    "destination_not_allowed",
    "messaging_disabled",
    "daily_spend_limit_reached",
]
# US carriers take application-to-person SMS only under an approved 10DLC campaign.
_CAMPAIGN_COUNTRIES = frozenset({"US"})


class SendCheck(InputModel):
    profile_id: str | None = Field(default=None, max_length=40)
    phone_number_id: str | None = Field(
        default=None, max_length=64, description="A WhatsApp account's (Meta's id)."
    )
    to: E164
    channel: Literal["sms", "whatsapp"]
    spent_today: Usd | None = Field(
        default=None,
        description="What the profile has spent since midnight UTC, in US dollars, as the "
        "sending platform counts it: checked against the profile's daily spend limit.",
    )

    @model_validator(mode="after")
    def _sender(self) -> "SendCheck":
        if self.profile_id is None and self.phone_number_id is None:
            raise ValueError("give profile_id or phone_number_id")
        return self


class Refusal(BaseModel):
    code: Reason
    message: str


class SendCheckResult(BaseModel):
    object: Literal["send_check"] = "send_check"
    allowed: bool
    reasons: list[Refusal] = Field(
        description="Every reason the message may not go; empty if allowed."
    )


async def check_send(conn: Connection, caller: Caller, data: SendCheck) -> SendCheckResult:
    reasons: list[Refusal] = []

    def refuse(code: Reason, message: str) -> None:
        reasons.append(Refusal(code=code, message=message))

    account = None
    if data.phone_number_id is not None:
        account = (await whatsapp.lookup(conn, caller, data.phone_number_id)).account
    profile_id = data.profile_id or (account.profile_id if account else None)
    profile = await require_profile(conn, caller, profile_id) if profile_id else None
    customer_id = (account.customer_id if account else None) or (
        profile["customer_id"] if profile else None
    )
    if await contacts.opted_out(conn, caller, data.to, data.channel):
        refuse("contact_opted_out", f"The recipient opted out of {data.channel}.")
    if customer_id is not None:
        status = await customers.customer_status(conn, caller, customer_id)
        if status in ("suspended", "archived"):
            refuse("customer_suspended", f"The customer is {status}.")
    if data.channel == "whatsapp" and account is not None and account.status != "connected":
        refuse("account_disconnected", f"The WhatsApp account is {account.status}.")
    if profile is not None:
        settings = profile["messaging"]
        if profile["status"] != "completed":
            refuse("profile_not_completed", f"The profile is {profile['status']}, not completed.")
        if not settings["enabled"]:
            refuse("messaging_disabled", "Messaging is disabled for this profile.")
        country = region_of(data.to)
        allowed = settings["whitelisted_destinations"]
        if allowed and country not in allowed:
            refuse("destination_not_allowed", f"This profile may not send to {country}.")
        if data.channel == "sms" and country in _CAMPAIGN_COUNTRIES:
            owners = await campaigns.visible_profiles(conn, caller, profile)
            found = await campaigns.campaigns_of(conn, caller.organization_id, owners)
            if not any(campaign["status"] == "approved" for campaign in found):
                refuse("campaign_not_approved", "No approved 10DLC campaign covers this profile.")
        limit = settings.get("daily_spend_limit")
        spent = data.spent_today
        enforced = settings.get("daily_spend_limit_enabled") and limit is not None
        if enforced and spent is not None and Decimal(spent) >= Decimal(limit):
            refuse(
                "daily_spend_limit_reached",
                f"The profile spent {spent} USD today; its limit is {limit} USD a day.",
            )
    return SendCheckResult(allowed=not reasons, reasons=reasons)

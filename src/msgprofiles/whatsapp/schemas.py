from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from msgprofiles.core.schemas import InputModel

Status = Literal["connected", "disconnected", "degraded", "onboarding"]


class WhatsAppAccount(BaseModel):
    id: str = Field(examples=["wa_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["whatsapp_account"] = "whatsapp_account"
    customer_id: str | None = Field(description="The owner: a customer, or null for yours.")
    profile_id: str | None = Field(description="The profile that sends from it, if any.")
    waba_id: str
    phone_number_id: str = Field(description="Meta's id of the phone number.")
    phone_number: str | None
    name: str | None = Field(description="The display name.")
    status: Status
    onboarded_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountRoute(BaseModel):
    """What an inbound message to a phone number id belongs to."""

    account: WhatsAppAccount
    organization_id: str
    customer_id: str | None
    profile_id: str | None


class WhatsAppAccountUpdate(InputModel):
    """Only the fields sent are changed; `profile_id: null` frees the account."""

    not_null = frozenset({"status"})

    profile_id: str | None = Field(
        default=None,
        max_length=40,
        description="The profile that sends from it: a profile of the account's customer (or, "
        "for your own accounts, one of yours).",
    )
    status: Status | None = Field(
        default=None, description="As Meta reports it: connected, disconnected, degraded."
    )

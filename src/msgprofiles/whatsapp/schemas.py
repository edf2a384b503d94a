from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

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

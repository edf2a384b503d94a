import ipaddress
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AnyUrl, BaseModel, EmailStr, Field

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import SmallObject
from msgprofiles.whatsapp.schemas import WhatsAppAccount

Status = Literal["pending", "active", "suspended", "archived"]
"""pending until its first WhatsApp account connects, then active; suspended by its
organization (its accounts may not send); archived by DELETE, for good."""
LinkStatus = Literal["active", "consumed", "expired", "revoked"]


Metadata = Annotated[
    SmallObject, Field(description="Any JSON object of yours: at most 50 keys and 16 KiB.")
]


def _redirect(value: AnyUrl) -> str:
    """https, or http on a loopback host (for development)."""
    url = str(value)
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http":
        try:
            if host == "localhost" or ipaddress.ip_address(host).is_loopback:
                return url
        except ValueError:
            pass
    raise ValueError("use https (or http on localhost, 127.0.0.0/8 or ::1)")


RedirectUrl = Annotated[
    AnyUrl,
    Field(max_length=2048),
    AfterValidator(_redirect),
]


class Customer(BaseModel):
    id: str = Field(examples=["cus_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["customer"] = "customer"
    name: str
    email: str | None
    status: Status
    metadata: dict[str, Any] | None
    team_id: str = Field(description="Your grouping of customers; by default your organization.")
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CustomerWithAccounts(Customer):
    whatsapp_accounts: list[WhatsAppAccount] = Field(
        description="The WhatsApp accounts the customer owns."
    )


class CustomerCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=255)
    metadata: Metadata | None = None
    team_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Default: your organization's id."
    )


class CustomerUpdate(InputModel):
    """Only the fields sent are changed; `email` and `metadata` take null to clear. A
    customer is archived by DELETE, not by its status."""

    not_null = frozenset({"name", "status"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=255)
    metadata: Metadata | None = None
    status: Literal["pending", "active", "suspended"] | None = None


class SetupLink(BaseModel):
    id: str = Field(examples=["csl_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["customer_setup_link"] = "customer_setup_link"
    customer_id: str
    status: LinkStatus
    token_last4: str
    expires_at: datetime
    consumed_at: datetime | None
    success_redirect_url: str | None
    failure_redirect_url: str | None
    created_at: datetime


class SetupLinkWithToken(SetupLink):
    setup_url: str = Field(
        description="The page the customer opens, with the link's token: shown only here."
    )


class SetupLinkCreate(InputModel):
    expires_in_hours: int = Field(default=168, ge=1, le=720)
    success_redirect_url: RedirectUrl | None = None
    failure_redirect_url: RedirectUrl | None = None


class SetupLinkUpdate(InputModel):
    """Only while the link is active; null clears a redirect."""

    success_redirect_url: RedirectUrl | None = None
    failure_redirect_url: RedirectUrl | None = None


class Archived(BaseModel):
    id: str
    object: Literal["customer"] = "customer"
    archived: Literal[True] = True

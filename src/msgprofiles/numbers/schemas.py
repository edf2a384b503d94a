from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, Field

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import CountryCode

NumberType = Literal["long_code", "toll_free", "short_code"]
Health = Literal["healthy", "unhealthy"]


class PhoneNumber(BaseModel):
    id: str = Field(examples=["num_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["number"] = "number"
    number: str = Field(description="E.164, or the digits of a short code.")
    type: NumberType
    country: str
    health: Health
    profile_id: str | None
    created_at: datetime
    updated_at: datetime


class PhoneNumberCreate(InputModel):
    number: str = Field(
        min_length=3,
        max_length=20,
        description="E.164 for long codes and toll-free numbers; 3-8 digits for a short code.",
    )
    type: NumberType
    country: CountryCode | None = Field(
        default=None, description="Required for short codes; else taken from the number."
    )
    health: Health = "healthy"
    profile_id: str | None = Field(default=None, max_length=40)


class PhoneNumberUpdate(InputModel):
    """Only the fields sent are changed; `profile_id: null` unassigns the number."""

    not_null = frozenset({"health"})

    health: Health | None = None
    profile_id: str | None = Field(default=None, max_length=40)
    callback_url: AnyHttpUrl | None = Field(
        default=None,
        description="Told of this number's later changes (its profile assignment, its "
        "release): a signed POST (the organization's callback secret), retried like webhook "
        "deliveries.",
    )

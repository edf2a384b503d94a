import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field, field_validator

from msgprofiles.core.schemas import InputModel

UseCaseName = Literal[
    "MARKETING",
    "ACCOUNT_NOTIFICATION",
    "CUSTOMER_CARE",
    "FRAUD_ALERT",
    "TWO_FA",
    "DELIVERY_NOTIFICATION",
    "SECURITY_ALERT",
    "M2M",
    "MIXED",
    "HIGHER_EDUCATION",
    "POLLING_VOTING",
    "PUBLIC_SERVICE_ANNOUNCEMENT",
    "LOW_VOLUME",
    "SOLE_PROPRIETOR",
]
Status = Literal["draft", "pending_review", "approved", "rejected"]
_KEYWORD = re.compile(r"[A-Za-z0-9]{1,32}")


def _keywords(value: str) -> str:
    """Comma-separated single words, as carriers match them: `STOP,QUIT,END`."""
    words = [word.strip() for word in value.split(",")]
    if not all(_KEYWORD.fullmatch(word) for word in words):
        raise ValueError("comma-separated words of letters and digits, e.g. STOP,QUIT")
    return ",".join(word.upper() for word in words)


Keywords = Annotated[str, AfterValidator(_keywords), Field(max_length=255)]
SampleMessage = Annotated[str, Field(min_length=20, max_length=1024)]


class UseCase(InputModel):
    use_case: UseCaseName
    sample_messages: list[SampleMessage] = Field(min_length=1, max_length=5)


class CampaignContent(InputModel):
    """A 10DLC campaign as TCR reviews it."""

    name: str = Field(min_length=1, max_length=255)
    description: str = Field(min_length=40, max_length=4096)
    type: str = Field(default="KYC", max_length=40)
    use_cases: list[UseCase] = Field(min_length=1, max_length=5)
    message_flow: str = Field(
        min_length=40, max_length=2048, description="How recipients opt in (call to action)."
    )
    help_keywords: Keywords = "HELP"
    help_message: str | None = Field(default=None, min_length=20, max_length=255)
    optin_keywords: Keywords | None = None
    optin_message: str | None = Field(default=None, min_length=20, max_length=255)
    optout_keywords: Keywords = "STOP"
    optout_message: str | None = Field(default=None, min_length=20, max_length=255)
    privacy_policy_link: AnyHttpUrl | None = None
    terms_and_conditions_link: AnyHttpUrl | None = None
    embedded_link: bool = False
    embedded_phone: bool = False
    age_gated: bool = False
    direct_lending: bool = False
    number_pool: bool = False
    volume: int | None = Field(default=None, ge=0, description="Messages a day.")

    @field_validator("optout_message")
    @classmethod
    def _says_stop(cls, value: str | None) -> str | None:
        if value is not None and "STOP" not in value.upper():
            raise ValueError("the opt-out message tells recipients to reply STOP")
        return value

    @field_validator("optout_keywords")
    @classmethod
    def _has_stop(cls, value: str) -> str:
        if "STOP" not in value.split(","):
            raise ValueError("the opt-out keywords include STOP")
        return value


class CampaignSubmit(InputModel):
    callback_url: AnyHttpUrl | None = Field(
        default=None,
        description="Told of each review status change of this campaign: a signed POST (the "
        "organization's callback secret), retried like webhook deliveries.",
    )


class Campaign(BaseModel):
    id: str = Field(examples=["camp_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["campaign"] = "campaign"
    profile_id: str
    brand_id: str
    inherited: bool = Field(description="A campaign of the parent profile, shared with this one.")
    dedicated_profile: bool = Field(
        default=False,
        description="Its profile was made for it (a Plivo campaign): deleting the campaign "
        "frees the profile's numbers and deletes the profile.",
    )
    status: Status
    tcr_campaign_id: str | None
    submitted_at: datetime | None
    rejection_reason: str | None
    content: dict[str, Any]
    vendor_fields: dict[str, dict[str, Any]] | None = Field(
        description="What a vendor's API keeps on the campaign with no field of ours, by vendor."
    )
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, EmailStr, Field, SecretStr

from msgprofiles.api_keys.schemas import ApiKeyWithSecret
from msgprofiles.core.schemas import InputModel


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:
        raise ValueError("at most 50 metadata keys")
    for key, item in value.items():
        if not 1 <= len(key) <= 40:
            raise ValueError("metadata keys are 1 to 40 characters")
        if len(item) > 500:
            raise ValueError("metadata values are at most 500 characters")
    return value


Metadata = Annotated[
    dict[str, str],
    AfterValidator(_check_metadata),
    Field(description="Your own key/value pairs (≤ 50 keys, values ≤ 500 characters)."),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class WhatsAppCredentials(InputModel):
    """A WhatsApp Business Account: its token is stored encrypted and never returned."""

    waba_id: str = Field(min_length=1, max_length=64)
    phone_number_id: str | None = Field(default=None, min_length=1, max_length=64)
    access_token: SecretStr = Field(min_length=1, max_length=4096)


class WhatsAppAccount(BaseModel):
    waba_id: str
    phone_number_id: str | None


class Organization(BaseModel):
    id: str = Field(examples=["org_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["organization"] = "organization"
    name: str
    email: str | None
    metadata: dict[str, str]
    is_operator: bool = Field(description="The organization that operates this installation.")
    whatsapp_business_account: WhatsAppAccount | None = Field(
        description="Profiles created without WhatsApp credentials of their own inherit it."
    )
    created_at: datetime
    updated_at: datetime


class OrganizationCreated(Organization):
    api_key: ApiKeyWithSecret = Field(
        description="The new organization's first admin key; its secret is shown only here."
    )


class OrganizationCreate(InputModel):
    name: Name
    email: EmailStr | None = None
    metadata: Metadata = Field(default_factory=dict)


class OrganizationUpdate(InputModel):
    """Only the fields sent are changed."""

    not_null = frozenset({"name", "metadata"})

    name: Name | None = None
    email: EmailStr | None = None
    metadata: Metadata | None = None
    whatsapp_business_account: WhatsAppCredentials | None = None

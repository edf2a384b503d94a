from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from msgprofiles.core.schemas import InputModel


class ApiKey(BaseModel):
    id: str = Field(examples=["key_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["api_key"] = "api_key"
    organization_id: str
    name: str
    role: Literal["admin", "member"]
    profile_id: str | None = Field(description="Set when the key acts for one profile only.")
    hint: str = Field(description="The secret's last characters, e.g. `mpk_…x7Qa`.")
    status: Literal["active", "revoked"]
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: datetime | None


class ApiKeyWithSecret(ApiKey):
    secret: str | None = Field(
        description="The API key, shown only in this response: store it now. A replay of the "
        "request with its Idempotency-Key returns null here."
    )


class ApiKeyCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "member"] = "member"
    profile_id: str | None = Field(default=None, max_length=40)

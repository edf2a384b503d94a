from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field

from msgprofiles.core.schemas import InputModel


class CompleteProfile(InputModel):
    web_hook_url: AnyHttpUrl = Field(
        description="Where the signed result (success or failure) is POSTed when done."
    )


class CallbackState(BaseModel):
    status: Literal["waiting", "pending", "succeeded", "failed"] = Field(
        description="waiting: the run is not finished; pending: being delivered (retries)."
    )
    attempts: int
    last_error: str | None


class Completion(BaseModel):
    id: str = Field(examples=["cmpl_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["profile_completion"] = "profile_completion"
    profile_id: str
    status: Literal["running", "succeeded", "failed"]
    outcome: Literal["submitted", "completed"] | None = Field(
        description="The profile's status when the run succeeded."
    )
    error: dict[str, Any] | None = Field(description="{code, message, details} when it failed.")
    web_hook_url: str
    callback: CallbackState
    callback_secret: str | None = Field(
        default=None,
        description="The organization's callback signing secret, shown once: in the response "
        "of the first completion ever started (rotate it with POST /v1/organization/"
        "callback_secret).",
    )
    created_at: datetime
    finished_at: datetime | None

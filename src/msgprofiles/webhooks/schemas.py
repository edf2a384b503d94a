from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field, field_validator

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import SmallObject
from msgprofiles.webhooks.formats import FORMATS

Status = Literal["active", "paused", "disabled"]
Url = Annotated[AnyHttpUrl, Field(description="http(s) address that receives deliveries.")]


def _registered_format(name: str) -> str:
    if name not in FORMATS:
        raise ValueError(f"Unknown payload format; one of: {', '.join(sorted(FORMATS))}.")
    return name


PayloadFormat = Annotated[str, AfterValidator(_registered_format)]
RetryCount = Annotated[
    int | None,
    Field(
        ge=0,
        le=20,
        description="Retries after a failed attempt; null: the installation's schedule.",
    ),
]
Timeout = Annotated[
    int | None,
    Field(ge=1, le=120, description="Seconds to wait for an answer; null: the installation's."),
]
FORMAT_DESCRIPTION = (
    "The body's shape: `standard` ({id, type, created_at, data}, signed the Standard Webhooks "
    "way), or a format a vendor dialect registers under its name, shaped and signed as that "
    "vendor's receivers expect."
)


FormatOptions = Annotated[
    SmallObject | None,
    Field(
        description="What the payload format keeps for this subscription (at most 50 keys "
        "and 16 KiB of JSON): a vendor dialect's event names as its client sent them.",
    ),
]
EventTypes = Annotated[
    list[str] | None,
    Field(description="Event types to receive; omit or null for every type.", max_length=100),
]


class WebhookSubscription(BaseModel):
    id: str = Field(examples=["whsub_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["webhook_subscription"] = "webhook_subscription"
    profile_id: str | None = Field(
        description="Set: a profile's own subscription, receiving only the events of that "
        "profile (its changes, campaigns, numbers and completion); null: every event."
    )
    url: str
    description: str | None
    event_types: list[str] | None
    status: Status
    retry_count: int | None
    timeout_seconds: int | None
    payload_format: str
    format_options: dict[str, Any] | None = None
    consecutive_failures: int = Field(description="Failed attempts since the last success.")
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "WebhookSubscription":
        """A stored subscription as the API shows it (never its secrets)."""
        return cls.model_validate({field: row[field] for field in _SUBSCRIPTION_FIELDS})


_SUBSCRIPTION_FIELDS = tuple(WebhookSubscription.model_fields.keys() - {"object"})


class WebhookSubscriptionWithSecret(WebhookSubscription):
    secret: str | None = Field(
        description="The signing secret (`whsec_…`), shown only in this response. A replay of "
        "the request with its Idempotency-Key returns null here."
    )


class SigningSecret(BaseModel):
    object: Literal["signing_secret"] = "signing_secret"
    secret: str | None = Field(description="The new signing secret, shown only here.")
    previous_secret_expires_at: datetime = Field(
        description="Until then deliveries carry signatures with both secrets."
    )


class WebhookSubscriptionCreate(InputModel):
    url: Url
    profile_id: str | None = Field(
        default=None,
        max_length=40,
        description="Receive only this profile's events. A profile-scoped key (or "
        "X-Profile-Id) makes its profile's subscriptions without it.",
    )
    description: str | None = Field(default=None, max_length=500)
    event_types: EventTypes = None
    retry_count: RetryCount = None
    timeout_seconds: Timeout = None
    payload_format: PayloadFormat = Field(default="standard", description=FORMAT_DESCRIPTION)
    format_options: FormatOptions = None

    @field_validator("event_types")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted(set(value))


class WebhookSubscriptionUpdate(InputModel):
    """Only the fields sent are changed."""

    not_null = frozenset({"url", "status", "payload_format"})

    url: Url | None = None
    description: str | None = Field(default=None, max_length=500)
    event_types: EventTypes = None
    status: Literal["active", "paused"] | None = None
    retry_count: RetryCount = None
    timeout_seconds: Timeout = None
    payload_format: PayloadFormat | None = Field(default=None, description=FORMAT_DESCRIPTION)
    format_options: FormatOptions = None

    _distinct = field_validator("event_types")(WebhookSubscriptionCreate._distinct.__func__)  # type: ignore[attr-defined]


class RotateSecret(InputModel):
    grace_period_hours: float = Field(
        default=24, ge=0, le=168, description="How long the old secret keeps signing."
    )


class Event(BaseModel):
    id: str = Field(examples=["evt_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["event"] = "event"
    type: str
    created_at: datetime
    data: dict[str, Any]


class EventType(BaseModel):
    object: Literal["event_type"] = "event_type"
    type: str
    description: str


class DeliveryAttempt(BaseModel):
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None
    next_retry_at: datetime | None


class Delivery(BaseModel):
    id: str = Field(examples=["whdel_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["webhook_delivery"] = "webhook_delivery"
    subscription_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "held", "succeeded", "failed", "cancelled"]
    attempts: list[DeliveryAttempt]
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Redeliver(InputModel):
    subscription_id: str | None = Field(
        default=None, description="Only to this subscription; default: every one that matches."
    )


class Ping(BaseModel):
    object: Literal["webhook_test"] = "webhook_test"
    event_id: str
    delivery_id: str

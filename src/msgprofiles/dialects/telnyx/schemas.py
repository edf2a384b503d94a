"""Telnyx's messaging-profile bodies (spec §6.3, §7.2). Types are the native ones where the
setting is native; Telnyx-only settings are kept in the profile's `vendor_settings`."""

from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BeforeValidator, Field, field_validator

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import SmallObject, country_code
from msgprofiles.profiles.schemas import AlphaSender, UrlShortenerSettings, Usd


def _integral(value: object) -> object:
    """Telnyx's weights are numbers: `3.0` is 3; `2.5` stays refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _blank_url(value: object) -> object:
    return None if value == "" else value


PoolWeight = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=9)]
Url = Annotated[AnyHttpUrl | None, BeforeValidator(_blank_url)]
ApiVersion = Literal["1", "2", "2010-04-01"]


class NumberPoolSettings(InputModel):
    long_code_weight: PoolWeight
    toll_free_weight: PoolWeight
    skip_unhealthy: bool
    sticky_sender: bool = False
    geomatch: bool = False


class _Settings(InputModel):
    enabled: bool | None = None
    webhook_url: Url = None
    webhook_failover_url: Url = None
    webhook_api_version: ApiVersion | None = None
    number_pool_settings: NumberPoolSettings | None = None
    url_shortener_settings: UrlShortenerSettings | None = None
    alpha_sender: AlphaSender | None = None
    daily_spend_limit: Usd | None = None
    daily_spend_limit_enabled: bool | None = None
    mms_fall_back_to_sms: bool | None = None
    mms_transcoding: bool | None = None
    mobile_only: bool | None = None
    smart_encoding: bool | None = None
    features: SmallObject | None = None
    health_webhook_url: Url = None
    ai_assistant_id: str | None = Field(default=None, max_length=100)
    resource_group_id: str | None = Field(default=None, max_length=100)

    @field_validator("whitelisted_destinations", check_fields=False)
    @classmethod
    def _destinations(cls, value: list[str] | None) -> list[str] | None:
        """`["*"]`: anywhere; else ISO alpha-2 codes (an empty list would allow nowhere)."""
        if value is None or value == ["*"]:
            return value
        if not value:
            raise ValueError('name at least one country, or ["*"] for any')
        return [country_code(code) for code in value]


Destinations = Annotated[list[Annotated[str, Field(max_length=2)]], Field(max_length=250)]


class ProfileCreate(_Settings):
    name: str = Field(min_length=1, max_length=255)
    whitelisted_destinations: Destinations


class ProfileUpdate(_Settings):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    whitelisted_destinations: Destinations | None = None
    redaction_enabled: bool | None = None
    redaction_level: Literal[1, 2] | None = None


# Telnyx settings msgprofiles keeps for Telnyx (its `vendor_settings`), echoed back.
KEPT = (
    "webhook_api_version",
    "features",
    "health_webhook_url",
    "ai_assistant_id",
    "resource_group_id",
    "redaction_enabled",
    "redaction_level",
)


def kept(body: _Settings) -> dict[str, Any]:
    sent = body.model_dump(mode="json", include=body.model_fields_set)
    return {name: sent[name] for name in KEPT if name in sent}

"""Plivo's request bodies (spec §3, §7-§9). The SDK sends every key, `""` for what the caller
left unset: a blank is "not given" everywhere. Types are the native ones, so a value is
refused here under Plivo's name exactly when the native API would refuse it."""

from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BeforeValidator, EmailStr, Field, model_validator

from msgprofiles.brands.schemas import (
    Address,
    AltBusinessIdType,
    AuthorizedContact,
    CustomerType,
    EntityType,
    StockExchange,
    Text,
    Vertical,
)
from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import E164, CountryCode


def _blank_is_absent(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: None if v == "" else v for k, v in value.items()}
    return value


def _with_plus(value: object) -> object:
    """Plivo writes numbers as digits (`12125557778`): E.164 with its `+`."""
    return "+" + value if isinstance(value, str) and value.isdigit() else value


def _with_scheme(value: object) -> object:
    """The seed's own example sends `www.example.com`."""
    if isinstance(value, str) and value and "://" not in value:
        return "https://" + value
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


Phone = Annotated[E164, BeforeValidator(_with_plus)]
Website = Annotated[AnyHttpUrl, BeforeValidator(_with_scheme)]
Method = Annotated[Literal["GET", "POST"], BeforeValidator(_upper)]


class PlivoInput(InputModel):
    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, values: Any) -> Any:
        return _blank_is_absent(values)


class PlivoAddress(PlivoInput, Address):
    pass


class PlivoContact(PlivoInput, AuthorizedContact):
    phone: Phone


class ProfileCreate(PlivoInput):
    profile_alias: Text
    customer_type: CustomerType
    entity_type: EntityType
    company_name: Text
    vertical: Vertical
    address: PlivoAddress
    authorized_contact: PlivoContact
    ein: str | None = Field(default=None, max_length=40)
    ein_issuing_country: CountryCode | None = None
    stock_symbol: str | None = Field(default=None, max_length=10)
    stock_exchange: StockExchange | None = None
    alt_business_id: str | None = Field(default=None, max_length=50)
    alt_business_id_type: AltBusinessIdType | None = None
    website: Website | None = None
    plivo_subaccount: str | None = Field(default=None, max_length=40)
    business_contact_email: EmailStr | None = None
    doing_business_as: str | None = Field(default=None, max_length=255)


class ProfileUpdate(PlivoInput):
    """The fields Plivo lets change (§3.2); any other is refused by name. `address` and
    `authorized_contact` are replaced whole."""

    entity_type: EntityType | None = None
    company_name: Text | None = None
    vertical: Vertical | None = None
    address: PlivoAddress | None = None
    authorized_contact: PlivoContact | None = None
    website: Website | None = None
    plivo_subaccount: str | None = Field(default=None, max_length=40)
    business_contact_email: EmailStr | None = None
    doing_business_as: str | None = Field(default=None, max_length=255)


class BrandCreate(PlivoInput):
    profile_uuid: str = Field(max_length=64)
    brand_alias: Text
    brand_type: Literal["STANDARD", "STARTER"] | None = None
    secondary_vetting: bool = False
    business_contact_email: EmailStr | None = None
    url: AnyHttpUrl | None = None
    method: Method | None = None


UseCase = Literal[
    "2FA",
    "ACCOUNT_NOTIFICATION",
    "CUSTOMER_CARE",
    "DELIVERY_NOTIFICATION",
    "FRAUD_ALERT",
    "HIGHER_EDUCATION",
    "LOW_VOLUME",
    "MARKETING",
    "MIXED",
    "POLLING_VOTING",
    "PUBLIC_SERVICE_ANNOUNCEMENT",
    "SECURITY_ALERT",
    "STARTER",
]
Sample = Annotated[str | None, Field(default=None, max_length=1024)]
Content = Annotated[str | None, Field(default=None, max_length=4096)]


class CampaignContent(PlivoInput):
    """What a campaign says, as create and update send it."""

    campaign_alias: Text | None = None
    description: Content = None
    sample1: Sample = None
    sample2: Sample = None
    sample3: Sample = None
    sample4: Sample = None
    sample5: Sample = None
    message_flow: Content = None
    help_message: Content = None
    help_keywords: Content = None
    optin_keywords: Content = None
    optin_message: Content = None
    optout_keywords: Content = None
    optout_message: Content = None
    terms_and_conditions_link: Content = None
    privacy_policy_link: Content = None


class CampaignCreate(CampaignContent):
    brand_id: str = Field(max_length=64)
    vertical: Vertical
    usecase: UseCase
    sub_usecases: list[UseCase] = Field(default_factory=list, max_length=5)
    embedded_link: bool = False
    embedded_phone: bool = False
    age_gated: bool = False
    direct_lending: bool = False
    subscriber_optin: bool = False
    subscriber_optout: bool = False
    subscriber_help: bool = False
    affiliate_marketing: bool = False
    url: AnyHttpUrl | None = None
    method: Method | None = None


class CampaignUpdate(CampaignContent):
    reseller_id: str | None = Field(default=None, max_length=64)


class CampaignImport(PlivoInput):
    campaign_id: str = Field(max_length=64)
    campaign_alias: str | None = Field(default=None, max_length=255)
    url: AnyHttpUrl | None = None
    method: Method | None = None


class NumberLink(PlivoInput):
    campaign_id: str | None = Field(default=None, max_length=64)
    numbers: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        min_length=1, max_length=100
    )
    url: AnyHttpUrl | None = None
    method: Method | None = None


class NumberUnlink(PlivoInput):
    campaign_id: str | None = Field(default=None, max_length=64)  # the SDK sends it too
    url: AnyHttpUrl | None = None
    method: Method | None = None

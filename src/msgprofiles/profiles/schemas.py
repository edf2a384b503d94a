import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    EmailStr,
    Field,
    SecretStr,
    model_validator,
)

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import E164, CountryCode, SmallObject
from msgprofiles.organizations.schemas import WhatsAppCredentials

BillingModel = Literal["organization", "profile", "profile_and_organization"]
PROFILE_BILLING = ("profile", "profile_and_organization")
Status = Literal["incomplete", "submitted", "completed", "rejected"]
"""incomplete until completed (POST /v1/profiles/{id}/complete); then submitted (waiting for an
outside review), completed (ready to send), or rejected (a registry or carrier refused it)."""

_SHORT_NAME = re.compile(r"[A-Za-z0-9 ]{3,11}")


def short_name(value: str) -> str:
    """What carriers accept as a sender label: 3-11 letters, digits or spaces, with a letter."""
    if not _SHORT_NAME.fullmatch(value) or not any(c.isalpha() for c in value):
        raise ValueError("3 to 11 letters, digits or spaces, with at least one letter")
    return value


ShortName = Annotated[str, AfterValidator(short_name), Field(examples=["SALES"])]
Weight = Annotated[int, Field(ge=0, le=9)]


def alpha_sender(value: str) -> str:
    """What an alphanumeric sender ID may be: 1-11 letters, digits or spaces, with a letter."""
    if not re.fullmatch(r"[A-Za-z0-9 ]{1,11}", value) or not any(c.isalpha() for c in value):
        raise ValueError("1 to 11 letters, digits or spaces, with at least one letter")
    return value


AlphaSender = Annotated[str, AfterValidator(alpha_sender), Field(examples=["ACME"])]
Usd = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$",
        examples=["269.00"],
        description="US dollars, e.g. 269.00.",
    ),
]
Hostname = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
        r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
        examples=["acme.link"],
    ),
]
VendorSettings = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=40)], SmallObject],
    Field(
        max_length=10,
        description="Settings a vendor's API has and msgprofiles does not use, kept by vendor "
        'and echoed back (e.g. {"telnyx": {"webhook_api_version": "2"}}).',
    ),
]


class UrlShortenerSettings(InputModel):
    """Links of public URL shorteners in messages are replaced with links on this domain."""

    domain: Hostname
    prefix: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]*$")
    replace_blacklist_only: bool = False
    send_webhooks: bool = False


class BillingContact(InputModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    address: str | None = Field(default=None, max_length=500)
    phone: E164 | None = None


def _luhn(number: SecretStr) -> SecretStr:
    digits = number.get_secret_value()
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        raise ValueError("a card number is 13 to 19 digits")
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    if total % 10:
        raise ValueError("not a valid card number")
    return number


def _expiry(value: str) -> str:
    month, _, year = value.partition("/")
    if not (len(month) == 2 and month.isdigit() and len(year) == 2 and year.isdigit()):
        raise ValueError("the expiry is MM/YY")
    if not 1 <= int(month) <= 12:
        raise ValueError("the expiry month is 01 to 12")
    now = datetime.now(UTC)
    if (2000 + int(year), int(month)) < (now.year, now.month):
        raise ValueError("the card has expired")
    return value


def _cvc(value: SecretStr) -> SecretStr:
    code = value.get_secret_value()
    if not code.isdigit() or len(code) not in (3, 4):
        raise ValueError("the CVC is 3 or 4 digits")
    return value


class PaymentDetails(InputModel):
    """Handed to the payment processor and forgotten: never stored, returned or logged."""

    card_number: Annotated[SecretStr, AfterValidator(_luhn)]
    expiry: Annotated[str, AfterValidator(_expiry), Field(examples=["08/29"])]
    cvc: Annotated[SecretStr, AfterValidator(_cvc)]
    zip_code: SecretStr = Field(min_length=3, max_length=10)


class PaymentMethod(BaseModel):
    brand: str
    last4: str


class NumberPool(InputModel):
    enabled: bool = False
    long_code_weight: Weight = 1
    toll_free_weight: Weight = 1
    skip_unhealthy: bool = True
    sticky_sender: bool = False
    geomatch: bool = False


class MessagingSettings(InputModel):
    enabled: bool = True
    webhook_url: AnyHttpUrl | None = None
    failover_url: AnyHttpUrl | None = None
    number_pool: NumberPool = Field(default_factory=NumberPool)
    whitelisted_destinations: list[CountryCode] = Field(
        default_factory=list,
        max_length=250,
        description="ISO country codes a message may go to; empty: anywhere.",
    )
    alpha_sender: AlphaSender | None = Field(
        default=None, description="The sender ID for destinations that require an alphanumeric one."
    )
    daily_spend_limit: Usd | None = Field(
        default=None, description="What the profile may spend a day (UTC), in US dollars."
    )
    daily_spend_limit_enabled: bool = Field(
        default=False,
        description="The pre-send check refuses a message once the day's spend reaches the limit.",
    )
    url_shortener_settings: UrlShortenerSettings | None = None
    mms_fall_back_to_sms: bool = Field(
        default=False, description="An MMS a destination cannot take goes as SMS with a link."
    )
    mms_transcoding: bool = Field(default=False, description="Resize MMS media carriers refuse.")
    mobile_only: bool = Field(default=False, description="Send to mobile numbers only.")
    smart_encoding: bool = Field(
        default=False, description="Replace characters that force UCS-2 with GSM-7 look-alikes."
    )
    vendor_settings: VendorSettings = Field(default_factory=dict)

    @model_validator(mode="after")
    def _limit_to_enable(self) -> "MessagingSettings":
        if self.daily_spend_limit_enabled and self.daily_spend_limit is None:
            raise ValueError("daily_spend_limit_enabled needs a daily_spend_limit")
        return self


class NumberPoolUpdate(InputModel):
    enabled: bool | None = None
    long_code_weight: Weight | None = None
    toll_free_weight: Weight | None = None
    skip_unhealthy: bool | None = None
    sticky_sender: bool | None = None
    geomatch: bool | None = None


class MessagingSettingsUpdate(InputModel):
    """Only the fields sent are changed; null clears an optional setting. `vendor_settings`
    changes each vendor's settings key by key."""

    enabled: bool | None = None
    webhook_url: AnyHttpUrl | None = None
    failover_url: AnyHttpUrl | None = None
    number_pool: NumberPoolUpdate | None = None
    whitelisted_destinations: list[CountryCode] | None = Field(default=None, max_length=250)
    alpha_sender: AlphaSender | None = None
    daily_spend_limit: Usd | None = None
    daily_spend_limit_enabled: bool | None = None
    url_shortener_settings: UrlShortenerSettings | None = None
    mms_fall_back_to_sms: bool | None = None
    mms_transcoding: bool | None = None
    mobile_only: bool | None = None
    smart_encoding: bool | None = None
    vendor_settings: VendorSettings | None = None


class Profile(BaseModel):
    id: str = Field(examples=["prof_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["profile"] = "profile"
    organization_id: str
    is_parent: bool = Field(description="The organization's own profile; the others are children.")
    customer_id: str | None = Field(description="The end-customer this profile serves, if any.")
    name: str
    short_name: str | None
    description: str | None
    icon_url: str | None
    status: Status
    billing_model: BillingModel
    billing_contact: BillingContact | None
    payment_method: PaymentMethod | None = Field(
        description="The card on file with the payment processor (never the card itself)."
    )
    brand_id: str | None = Field(description="The profile's own brand (see inherit_tcr_brand).")
    inherit_tcr_brand: bool
    inherit_tcr_campaign: bool
    inherit_contacts: bool
    inherit_templates: bool
    allow_contact_sharing: bool
    allow_template_sharing: bool
    allow_number_change_during_onboarding: bool
    sending_phone_number: str | None
    whatsapp_phone_number: str | None
    waba_id: str | None = Field(description="The WhatsApp Business Account (token never shown).")
    whatsapp_phone_number_id: str | None
    whatsapp_inherited: bool = Field(description="Uses the organization's WhatsApp account.")
    messaging: MessagingSettings
    created_at: datetime
    updated_at: datetime
    created_by: str | None = Field(
        default=None, description="The API key that created the profile (null: the CLI)."
    )
    updated_by: str | None = Field(
        default=None, description="The API key that changed it last (null: the CLI)."
    )


class _ProfileFields(InputModel):
    not_null = frozenset(
        {
            "name",
            "inherit_tcr_brand",
            "inherit_tcr_campaign",
            "inherit_contacts",
            "inherit_templates",
            "allow_contact_sharing",
            "allow_template_sharing",
            "allow_number_change_during_onboarding",
        }
    )

    short_name: ShortName | None = None
    description: str | None = Field(default=None, max_length=5000)
    icon_url: AnyHttpUrl | None = None
    billing_model: BillingModel | None = None
    billing_contact: BillingContact | None = None
    payment_details: PaymentDetails | None = Field(
        default=None, description="Only with a profile billing model. Never stored or returned."
    )
    brand_id: str | None = Field(default=None, max_length=40)
    customer_id: str | None = Field(
        default=None,
        max_length=40,
        description="The end-customer this profile sends for (null: your own); not archived.",
    )
    inherit_tcr_brand: bool | None = None
    inherit_tcr_campaign: bool | None = None
    inherit_contacts: bool | None = None
    inherit_templates: bool | None = None
    allow_contact_sharing: bool | None = None
    allow_template_sharing: bool | None = None
    allow_number_change_during_onboarding: bool | None = None
    sending_phone_number: E164 | None = None
    whatsapp_phone_number: E164 | None = None


class ProfileCreate(_ProfileFields):
    name: str = Field(min_length=1, max_length=255)
    messaging: MessagingSettings | None = None
    whatsapp_business_account: WhatsAppCredentials | None = Field(
        default=None,
        description="The profile's own WhatsApp credentials. Without them the profile inherits "
        "the organization's account, or has no WhatsApp channel (SMS only) when there is none.",
    )


class ProfileUpdate(_ProfileFields):
    """Only the fields sent are changed; send null to clear an optional field."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    messaging: MessagingSettingsUpdate | None = None


class SelectSender(InputModel):
    to: E164


class SelectedSender(BaseModel):
    object: Literal["selected_sender"] = "selected_sender"
    number_id: str
    number: str
    type: Literal["long_code", "toll_free", "short_code"]
    sticky: bool = Field(description="The number this recipient was given before.")
    matched: Literal["area_code", "country", "none"] = Field(
        description="How geomatch narrowed the choice."
    )

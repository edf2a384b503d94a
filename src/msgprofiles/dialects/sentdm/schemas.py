"""Sent.dm v3 request bodies, as the `sentdm` SDK sends them (../shared/spec/sentdm.md §3, §5):
snake_case at the top, camelCase inside `brand` and `campaign` (snake_case accepted too), and
their translation onto the native inputs. Validation uses the native field types, so an error
names the Sent.dm field."""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AnyHttpUrl, BeforeValidator, ConfigDict, EmailStr, Field, model_validator
from pydantic.alias_generators import to_camel

from msgprofiles.brands.schemas import (
    AddressDraft,
    BrandRelationship,
    ContactDraft,
    Vertical,
)
from msgprofiles.campaigns.schemas import UseCaseName
from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import E164, CountryCode
from msgprofiles.organizations.schemas import WhatsAppCredentials
from msgprofiles.profiles.schemas import BillingContact, PaymentDetails, ShortName

# Sent.dm names the entity types by TCR's words; ours are shorter.
ENTITY_TYPES = {
    "PRIVATE_PROFIT": "PRIVATE",
    "PUBLIC_PROFIT": "PUBLIC",
    "NON_PROFIT": "NON_PROFIT",
    "SOLE_PROPRIETOR": "INDIVIDUAL",
    "GOVERNMENT": "GOVERNMENT",
}
SentEntityType = Literal[
    "PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "SOLE_PROPRIETOR", "GOVERNMENT"
]


class CamelModel(InputModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Contact(CamelModel):
    name: str = Field(min_length=1, max_length=255)
    business_name: str | None = Field(default=None, max_length=255)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=20)
    phone_country_code: str | None = Field(default=None, pattern=r"^\+?[0-9]{1,4}$")
    role: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _e164(self) -> "Contact":
        """`phone` may come without its `+` when `phoneCountryCode` names the country."""
        if self.phone and not self.phone.startswith("+") and self.phone_country_code:
            self.phone = "+" + self.phone_country_code.lstrip("+") + self.phone
        if self.phone:
            ContactDraft(phone=self.phone)  # raises the native message if it is not a number
        return self


class DestinationCountry(CamelModel):
    id: CountryCode
    is_main: bool = False


class Compliance(CamelModel):
    brand_relationship: BrandRelationship
    vertical: Vertical
    destination_countries: list[DestinationCountry] | None = Field(default=None, max_length=250)
    is_tcr_application: bool | None = None
    notes: str | None = Field(default=None, max_length=5000)
    phone_number_prefix: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{0,3}$")


class Business(CamelModel):
    legal_name: str | None = Field(default=None, min_length=1, max_length=255)
    tax_id: str | None = Field(default=None, max_length=40)
    tax_id_type: str | None = Field(default=None, max_length=20)
    entity_type: SentEntityType | None = None
    url: AnyHttpUrl | None = None
    street: str | None = Field(default=None, min_length=1, max_length=255)
    city: str | None = Field(default=None, min_length=1, max_length=255)
    state: str | None = Field(default=None, min_length=1, max_length=10)
    postal_code: str | None = Field(default=None, min_length=2, max_length=12)
    country: CountryCode | None = None
    country_of_registration: CountryCode | None = None

    @model_validator(mode="after")
    def _state_of_country(self) -> "Business":
        address = AddressDraft(state=self.state, country=self.country)
        self.state = address.state
        return self


class Brand(CamelModel):
    contact: Contact
    compliance: Compliance
    business: Business | None = None

    def native(self) -> dict[str, Any]:
        """The same brand by the native record's fields (validate with BrandFields)."""
        contact, compliance, business = self.contact, self.compliance, self.business
        first, _, last = contact.name.rpartition(" ")
        values: dict[str, Any] = {
            "doing_business_as": contact.business_name,
            "authorized_contact": {
                "first_name": first or last,
                "last_name": last if first else None,
                "email": contact.email,
                "phone": contact.phone,
                "title": contact.role,
            },
            "brand_relationship": compliance.brand_relationship,
            "vertical": compliance.vertical,
            "is_tcr_application": bool(compliance.is_tcr_application),
            "destination_countries": [
                {"country": c.id, "is_main": c.is_main}
                for c in compliance.destination_countries or []
            ],
            "notes": compliance.notes,
            "phone_number_prefix": compliance.phone_number_prefix,
        }
        if business is not None:
            values |= {
                "legal_name": business.legal_name,
                "tax_id": business.tax_id,
                "tax_id_type": business.tax_id_type,
                "tax_id_country": business.country_of_registration,
                "entity_type": business.entity_type and ENTITY_TYPES[business.entity_type],
                "website": business.url and str(business.url),
                "address": {
                    "street": business.street,
                    "city": business.city,
                    "state": business.state,
                    "postal_code": business.postal_code,
                    "country": business.country,
                },
            }
        return values


class _ProfileFields(InputModel):
    model_config = ConfigDict(extra="forbid")  # a typo is an error; strictness as the native

    short_name: ShortName | None = None
    description: str | None = Field(default=None, max_length=5000)
    icon: AnyHttpUrl | None = None
    billing_model: Literal["profile", "organization", "profile_and_organization"] | None = None
    billing_contact: BillingContact | None = None
    payment_details: PaymentDetails | None = None
    brand: Brand | None = None
    inherit_tcr_brand: bool | None = None
    inherit_tcr_campaign: bool | None = None
    # Accepted and ignored, as by Sent.dm itself since v3 (they read back false).
    inherit_contacts: bool | None = None
    inherit_templates: bool | None = None
    allow_contact_sharing: bool | None = None
    allow_template_sharing: bool | None = None

    ignored: ClassVar[frozenset[str]] = frozenset(
        {
            "inherit_contacts",
            "inherit_templates",
            "allow_contact_sharing",
            "allow_template_sharing",
            "sending_phone_number_profile_id",
            "sending_whatsapp_number_profile_id",
        }
    )
    renamed: ClassVar[dict[str, str]] = {"icon": "icon_url"}

    def native_fields(self) -> dict[str, Any]:
        """The fields sent, by their native names (brand apart)."""
        values: dict[str, Any] = {}
        for field in self.model_fields_set - self.ignored - {"brand"}:
            value = getattr(self, field)
            values[self.renamed.get(field, field)] = value
        return values


class ProfileCreate(_ProfileFields):
    name: str = Field(min_length=1, max_length=255)
    whatsapp_business_account: WhatsAppCredentials | None = None


class ProfileUpdate(_ProfileFields):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    allow_number_change_during_onboarding: bool | None = None
    sending_phone_number: E164 | None = None
    whatsapp_phone_number: E164 | None = None
    sending_phone_number_profile_id: str | None = None
    sending_whatsapp_number_profile_id: str | None = None


class Complete(CamelModel):
    web_hook_url: AnyHttpUrl


class UseCase(CamelModel):
    messaging_use_case_us: UseCaseName
    sample_messages: list[str]


def _volume(value: object) -> object:
    """A numeric string (e.g. "1999"), as Sent.dm takes it."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


class Campaign(CamelModel):
    name: str
    description: str
    type: str
    use_cases: list[UseCase]
    help_keywords: str | None = None
    help_message: str | None = None
    message_flow: str | None = None
    optin_keywords: str | None = None
    optin_message: str | None = None
    optout_keywords: str | None = None
    optout_message: str | None = None
    privacy_policy_link: str | None = None
    terms_and_conditions_link: str | None = None
    volume: Annotated[int | None, BeforeValidator(_volume)] = None

    def native(self) -> dict[str, Any]:
        """The native campaign content (validated by CampaignContent as TCR would)."""
        values = self.model_dump(exclude_unset=True, exclude={"use_cases"})
        values["use_cases"] = [
            {"use_case": u.messaging_use_case_us, "sample_messages": u.sample_messages}
            for u in self.use_cases
        ]
        return {k: v for k, v in values.items() if v is not None}


class CampaignBody(InputModel):
    campaign: Campaign


class SenderProfile(InputModel):
    event_types: list[str] | None = None
    event_filters: dict[str, list[str]] | None = None


class Webhook(InputModel):
    display_name: str | None = Field(default=None, max_length=500)
    endpoint_url: AnyHttpUrl | None = None
    event_types: list[str] | None = Field(default=None, max_length=100)
    event_filters: dict[str, list[str]] | None = Field(default=None, max_length=100)
    retry_count: int | None = Field(default=None, ge=1, le=5)  # Sent.dm: default 3
    timeout_seconds: int | None = Field(default=None, ge=5, le=120)  # Sent.dm: default 30
    sender_profile: SenderProfile | None = None  # request-only, as Sent.dm: not kept


class TestWebhook(InputModel):
    event_type: str | None = Field(default=None, max_length=100)


class ToggleStatus(InputModel):
    is_active: bool | None = None

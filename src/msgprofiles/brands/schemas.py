from datetime import datetime
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, EmailStr, Field, model_validator

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import E164, CountryCode

CustomerType = Literal["DIRECT", "RESELLER"]
EntityType = Literal["PRIVATE", "PUBLIC", "NON_PROFIT", "GOVERNMENT", "INDIVIDUAL"]
Vertical = Literal[
    "PROFESSIONAL",
    "REAL_ESTATE",
    "HEALTHCARE",
    "HUMAN_RESOURCES",
    "ENERGY",
    "ENTERTAINMENT",
    "RETAIL",
    "TRANSPORTATION",
    "AGRICULTURE",
    "INSURANCE",
    "POSTAL",
    "EDUCATION",
    "HOSPITALITY",
    "FINANCIAL",
    "POLITICAL",
    "GAMBLING",
    "LEGAL",
    "CONSTRUCTION",
    "NGO",
    "MANUFACTURING",
    "GOVERNMENT",
    "TECHNOLOGY",
    "COMMUNICATION",
]
StockExchange = Literal[
    "NASDAQ",
    "NYSE",
    "AMEX",
    "AMX",
    "ASX",
    "B3",
    "BME",
    "BSE",
    "FRA",
    "ICEX",
    "JPX",
    "JSE",
    "KRX",
    "LON",
    "NSE",
    "OMX",
    "SEHK",
    "SGX",
    "SSE",
    "STO",
    "SWX",
    "SZSE",
    "TSX",
    "TWSE",
    "VSE",
    "OTHER",
]
AltBusinessIdType = Literal["DUNS", "LEI", "GIIN", "NONE"]
SENIORITIES = ("DIRECTOR", "GM", "VP", "CEO", "CFO", "GENERAL_COUNSEL", "OTHER")
Seniority = Literal["DIRECTOR", "GM", "VP", "CEO", "CFO", "GENERAL_COUNSEL", "OTHER"]
RegistrationStatus = Literal["not_submitted", "pending", "registered", "rejected"]
SUBMITTED = ("pending", "registered")
"""Submitted to TCR — registered, or on its way: the KYC fields are frozen."""


def _seniority(value: object) -> object:
    """Registries publish examples with titles like "admin" or "Mr.": match the known values
    whatever their case, and file anything else as OTHER rather than refuse it."""
    if not isinstance(value, str):
        return value
    normalized = value.strip().upper().replace(" ", "_")
    return normalized if normalized in SENIORITIES else "OTHER"


BrandRelationship = Literal[
    "BASIC_ACCOUNT", "SMALL_ACCOUNT", "MEDIUM_ACCOUNT", "LARGE_ACCOUNT", "KEY_ACCOUNT"
]
Text = Annotated[str, Field(min_length=1, max_length=255)]


class AddressDraft(InputModel):
    """An address as far as it is known; a TCR submission needs every part."""

    street: Text | None = None
    city: Text | None = None
    state: str | None = Field(
        default=None, min_length=1, max_length=10, description="Subdivision code, e.g. TX."
    )
    postal_code: str | None = Field(default=None, min_length=2, max_length=12)
    country: CountryCode | None = None

    @model_validator(mode="after")
    def _state_of_country(self) -> "AddressDraft":
        if self.state is None or self.country is None:
            return self
        code = f"{self.country}-{self.state.upper()}"
        subdivisions = pycountry.subdivisions.get(country_code=self.country) or []  # type: ignore[no-untyped-call]
        if subdivisions and code not in {s.code for s in subdivisions}:
            raise ValueError(f"{self.state!r} is not a state or region of {self.country}")
        self.state = self.state.upper()
        return self


class Address(AddressDraft):
    street: Text
    city: Text
    state: str = Field(min_length=1, max_length=10, description="Subdivision code, e.g. TX.")
    postal_code: str = Field(min_length=2, max_length=12)
    country: CountryCode


class ContactDraft(InputModel):
    """The authorized contact as far as it is known; a TCR submission needs names, email and
    phone."""

    first_name: Text | None = None
    last_name: Text | None = None
    email: EmailStr | None = None
    title: str | None = Field(default=None, max_length=100)
    seniority: Annotated[Seniority, BeforeValidator(_seniority)] = "OTHER"
    phone: E164 | None = None


class AuthorizedContact(ContactDraft):
    first_name: Text
    last_name: Text
    email: EmailStr
    phone: E164


class DestinationCountry(InputModel):
    country: CountryCode
    is_main: bool = Field(
        default=False, description="A main destination needs its own registration review."
    )


class BrandFields(InputModel):
    """Every brand field, each optional: a brand may be kept incomplete (a draft, as
    dialects make them) until it is submitted, when everything TCR needs must be there. Only the
    fields sent are changed; address and authorized_contact are replaced whole."""

    not_null = frozenset({"alias", "customer_type", "is_tcr_application", "destination_countries"})

    alias: Text | None = None
    customer_type: CustomerType | None = None
    entity_type: EntityType | None = None
    legal_name: Text | None = None
    doing_business_as: str | None = Field(default=None, max_length=255)
    vertical: Vertical | None = None
    tax_id: str | None = Field(default=None, max_length=40, description="EIN for US brands.")
    tax_id_type: str | None = Field(
        default=None, max_length=20, examples=["us_ein"], description="e.g. us_ein, ca_bn."
    )
    tax_id_country: CountryCode | None = Field(
        default=None, description="Where the tax id was issued (country of registration)."
    )
    stock_symbol: str | None = Field(default=None, max_length=10)
    stock_exchange: StockExchange | None = None
    alt_business_id: str | None = Field(default=None, max_length=50)
    alt_business_id_type: AltBusinessIdType | None = None
    website: AnyHttpUrl | None = None
    business_contact_email: EmailStr | None = None
    address: AddressDraft | None = None
    authorized_contact: ContactDraft | None = None
    brand_relationship: BrandRelationship | None = None
    is_tcr_application: bool | None = Field(
        default=None, description="Registered with TCR for US 10DLC (default true)."
    )
    destination_countries: list[DestinationCountry] | None = Field(default=None, max_length=250)
    notes: str | None = Field(default=None, max_length=5000)
    phone_number_prefix: str | None = Field(
        default=None, pattern=r"^\+[1-9][0-9]{0,3}$", examples=["+1"]
    )


class BrandCreate(BrandFields):
    alias: Text
    customer_type: CustomerType
    entity_type: EntityType
    legal_name: Text
    vertical: Vertical
    address: Address
    authorized_contact: AuthorizedContact


class BrandUpdate(BrandFields):
    """Only the fields sent are changed; address and authorized_contact are replaced whole.
    After TCR submission only `alias` and `notes` may change."""

    address: Address | None = None
    authorized_contact: AuthorizedContact | None = None


class BrandSubmit(InputModel):
    registration_alias: Text | None = Field(
        default=None, description="The name to register the brand under (default: its alias)."
    )
    callback_url: AnyHttpUrl | None = Field(
        default=None,
        description="Told of each registration status change of this brand: a signed POST "
        "(the organization's callback secret), retried like webhook deliveries.",
    )


class Brand(BaseModel):
    id: str = Field(examples=["brand_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["brand"] = "brand"
    type: Literal["PRIMARY", "SECONDARY"]
    alias: str
    customer_type: CustomerType
    entity_type: EntityType | None
    legal_name: str | None
    doing_business_as: str | None
    vertical: Vertical | None
    tax_id: str | None
    tax_id_type: str | None
    tax_id_country: str | None
    stock_symbol: str | None
    stock_exchange: str | None
    alt_business_id: str | None
    alt_business_id_type: str | None
    website: str | None
    business_contact_email: str | None
    address: dict[str, str | None] | None
    authorized_contact: dict[str, str | None] | None
    brand_relationship: BrandRelationship | None
    is_tcr_application: bool
    destination_countries: list[dict[str, Any]]
    notes: str | None
    phone_number_prefix: str | None
    vendor_fields: dict[str, dict[str, Any]] | None = Field(
        description="What a vendor's API keeps on the brand with no field of ours, by vendor."
    )
    registration_alias: str | None = Field(
        description="The name the brand was registered under (else its alias)."
    )
    registration_status: RegistrationStatus
    identity_status: str | None
    tcr_brand_id: str | None
    rejection_reason: str | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def submitted_to_tcr(self) -> bool:
        return self.registration_status in SUBMITTED

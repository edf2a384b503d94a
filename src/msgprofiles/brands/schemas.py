from datetime import datetime
from typing import Annotated, Literal

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


def _seniority(value: object) -> object:
    """Registries publish examples with titles like "admin" or "Mr.": match the known values
    whatever their case, and file anything else as OTHER rather than refuse it."""
    if not isinstance(value, str):
        return value
    normalized = value.strip().upper().replace(" ", "_")
    return normalized if normalized in SENIORITIES else "OTHER"


Text = Annotated[str, Field(min_length=1, max_length=255)]


class Address(InputModel):
    street: Text
    city: Text
    state: str = Field(min_length=1, max_length=10, description="Subdivision code, e.g. TX.")
    postal_code: str = Field(min_length=2, max_length=12)
    country: CountryCode

    @model_validator(mode="after")
    def _state_of_country(self) -> "Address":
        code = f"{self.country}-{self.state.upper()}"
        subdivisions = pycountry.subdivisions.get(country_code=self.country) or []  # type: ignore[no-untyped-call]
        if subdivisions and code not in {s.code for s in subdivisions}:
            raise ValueError(f"{self.state!r} is not a state or region of {self.country}")
        self.state = self.state.upper()
        return self


class AuthorizedContact(InputModel):
    first_name: Text
    last_name: Text
    email: EmailStr
    title: str | None = Field(default=None, max_length=100)
    seniority: Annotated[Seniority, BeforeValidator(_seniority)] = "OTHER"
    phone: E164


class _BrandFields(InputModel):
    not_null = frozenset(
        {"alias", "entity_type", "legal_name", "vertical", "address", "authorized_contact"}
    )

    doing_business_as: str | None = Field(default=None, max_length=255)
    tax_id: str | None = Field(default=None, max_length=40, description="EIN for US brands.")
    tax_id_country: CountryCode | None = None
    stock_symbol: str | None = Field(default=None, max_length=10)
    stock_exchange: StockExchange | None = None
    alt_business_id: str | None = Field(default=None, max_length=50)
    alt_business_id_type: AltBusinessIdType | None = None
    website: AnyHttpUrl | None = None
    business_contact_email: EmailStr | None = None


class BrandCreate(_BrandFields):
    alias: Text
    customer_type: CustomerType
    entity_type: EntityType
    legal_name: Text
    vertical: Vertical
    address: Address
    authorized_contact: AuthorizedContact


class BrandUpdate(_BrandFields):
    """Only the fields sent are changed; address and authorized_contact are replaced whole.
    After TCR submission only `alias` may change."""

    alias: Text | None = None
    entity_type: EntityType | None = None
    legal_name: Text | None = None
    vertical: Vertical | None = None
    address: Address | None = None
    authorized_contact: AuthorizedContact | None = None


class Brand(BaseModel):
    id: str = Field(examples=["brand_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["brand"] = "brand"
    type: Literal["PRIMARY", "SECONDARY"]
    alias: str
    customer_type: CustomerType
    entity_type: EntityType
    legal_name: str
    doing_business_as: str | None
    vertical: Vertical
    tax_id: str | None
    tax_id_country: str | None
    stock_symbol: str | None
    stock_exchange: str | None
    alt_business_id: str | None
    alt_business_id_type: str | None
    website: str | None
    business_contact_email: str | None
    address: dict[str, str]
    authorized_contact: dict[str, str | None]
    registration_status: RegistrationStatus
    identity_status: str | None
    tcr_brand_id: str | None
    rejection_reason: str | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime

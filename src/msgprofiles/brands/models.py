from sqlalchemy import Boolean, Column, Index, String, Table, Text

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

brands = Table(
    "brands",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("type", String(10), nullable=False),  # PRIMARY (the first) or SECONDARY
    Column("alias", String(255), nullable=False),
    Column("customer_type", String(10), nullable=False),
    # KYC fields may be missing while the brand is a draft; submission needs them.
    Column("entity_type", String(16), nullable=True),
    Column("legal_name", String(255), nullable=True),
    Column("doing_business_as", String(255), nullable=True),
    Column("vertical", String(32), nullable=True),
    Column("tax_id", String(40), nullable=True),
    Column("tax_id_type", String(20), nullable=True),
    Column("tax_id_country", String(2), nullable=True),
    Column("stock_symbol", String(10), nullable=True),
    Column("stock_exchange", String(10), nullable=True),
    Column("alt_business_id", String(50), nullable=True),
    Column("alt_business_id_type", String(8), nullable=True),
    Column("website", String(2048), nullable=True),
    Column("business_contact_email", String(320), nullable=True),
    Column("address", json_type(), nullable=True),
    Column("authorized_contact", json_type(), nullable=True),
    # Compliance: the account size, where the brand sends ([{country, is_main}]), and
    # whether it registers with TCR (US 10DLC) or elsewhere.
    Column("brand_relationship", String(16), nullable=True),
    Column("is_tcr_application", Boolean, nullable=False),
    Column("destination_countries", json_type(), nullable=False),
    Column("notes", Text, nullable=True),
    Column("phone_number_prefix", String(5), nullable=True),
    # The name the brand is registered under (Plivo's brand_alias), distinct from our alias.
    Column("registration_alias", String(255), nullable=True),
    # What a vendor's API keeps on the brand with no native field: {"plivo": {…}}.
    Column("vendor_fields", json_type(), nullable=True),
    Column("registration_status", String(16), nullable=False),
    Column("identity_status", String(20), nullable=True),
    Column("tcr_brand_id", String(20), nullable=True),
    Column("rejection_reason", Text, nullable=True),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    Index(None, "organization_id", "entity_type", "id"),
)

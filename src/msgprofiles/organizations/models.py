from sqlalchemy import Boolean, Column, String, Table

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("metadata", json_type(), nullable=False),
    # The operator organization runs the installation: its admin keys manage other tenants.
    Column("is_operator", Boolean, nullable=False, default=False),
    # {waba_id, phone_number_id, access_token (encrypted)}; profiles inherit it.
    Column("whatsapp_business_account", json_type(), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

from sqlalchemy import Boolean, Column, String, Table, Text

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
    # Signs the results POSTed to the URLs callers give (profile completion); encrypted. After
    # a rotation the previous one signs too, until it expires.
    Column("callback_secret", Text, nullable=True),
    Column("previous_callback_secret", Text, nullable=True),
    Column("previous_callback_secret_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

from sqlalchemy import CheckConstraint, Column, Index, String, Table

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime

whatsapp_accounts = Table(
    "whatsapp_accounts",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    # The owner: one of the organization's customers, or (null) the organization itself.
    Column("customer_id", String(40), nullable=True),
    Column("profile_id", String(40), nullable=True),  # the profile that sends from it
    Column("waba_id", String(64), nullable=False),
    Column("phone_number_id", String(64), nullable=False),
    Column("phone_number", String(20), nullable=True),
    Column("name", String(200), nullable=True),
    Column("status", String(16), nullable=False),
    Column("onboarded_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "status IN ('connected', 'disconnected', 'degraded', 'onboarding')", name="status"
    ),
    # Inbound traffic is routed by Meta's phone number id: one indexed read.
    Index(None, "organization_id", "phone_number_id", unique=True),
    Index(None, "organization_id", "customer_id", "id"),
)

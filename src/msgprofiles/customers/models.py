from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Index, String, Table

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

customers = Table(
    "customers",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(255), nullable=True),
    Column("status", String(16), nullable=False),
    Column("metadata", json_type(), nullable=True),
    Column("team_id", String(64), nullable=False),  # the organization's own grouping
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("archived_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'active', 'suspended', 'archived')", name="status"),
    Index(None, "organization_id", "status", "id"),
)

customer_setup_links = Table(
    "customer_setup_links",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    # SHA-256 of the token: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False),
    Column("token_last4", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("consumed_at", UTCDateTime, nullable=True),
    Column("success_redirect_url", String(2048), nullable=True),
    Column("failure_redirect_url", String(2048), nullable=True),
    Column("account_id", String(40), nullable=True),  # the WhatsApp account it connected
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('active', 'consumed', 'expired', 'revoked')", name="status"),
    ForeignKeyConstraint(
        ["organization_id", "customer_id"], ["customers.organization_id", "customers.id"]
    ),
    Index(None, "organization_id", "token_hash", unique=True),
    Index(None, "organization_id", "customer_id", "id"),
)

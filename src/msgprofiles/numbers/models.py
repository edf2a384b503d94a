from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Index, String, Table, text

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime

phone_numbers = Table(
    "phone_numbers",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("number", String(20), nullable=False),
    Column("type", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("health", String(16), nullable=False),
    Column("profile_id", String(40), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("released_at", UTCDateTime, nullable=True),
    CheckConstraint("type IN ('long_code', 'toll_free', 'short_code')", name="type"),
    CheckConstraint("health IN ('healthy', 'unhealthy')", name="health"),
    ForeignKeyConstraint(
        ["organization_id", "profile_id"], ["profiles.organization_id", "profiles.id"]
    ),
    Index(
        None,
        "organization_id",
        "number",
        unique=True,
        sqlite_where=text("released_at IS NULL"),
        postgresql_where=text("released_at IS NULL"),
    ),
    Index(None, "organization_id", "profile_id", "id"),
)

# The number a recipient was last sent from, per profile (sticky sender).
sticky_senders = Table(
    "sticky_senders",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("profile_id", String(40), primary_key=True),
    Column("recipient", String(20), primary_key=True),
    Column("number_id", String(40), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

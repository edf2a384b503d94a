from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime

api_keys = Table(
    "api_keys",
    metadata,
    Column("organization_id", String(40), ForeignKey("organizations.id"), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    # A key scoped to one profile acts only for that profile (profiles arrive later).
    Column("profile_id", String(40), nullable=True),
    # SHA-256 of the whole secret: keys are 256-bit random, so a fast hash is enough.
    Column("key_hash", String(64), nullable=False),
    # The last characters of the secret, so people can tell their keys apart.
    Column("hint", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint("role IN ('admin', 'member')", name="role"),
    Index(None, "organization_id", "key_hash", unique=True),
)

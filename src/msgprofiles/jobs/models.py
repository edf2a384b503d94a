from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Text

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("organization_id", String(40), nullable=False),
    Column("kind", String(80), nullable=False),
    Column("payload", json_type(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("run_at", UTCDateTime, nullable=False),
    # A running job belongs to one worker until its lease ends; then any worker may take it.
    Column("locked_by", String(80), nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
    Index(None, "status", "run_at"),
)

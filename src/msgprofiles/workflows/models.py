"""Tables of the cross-domain processes."""

from sqlalchemy import Column, Index, Integer, String, Table, Text, text

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

# A run of the compliance completion workflow (POST /v1/profiles/{id}/complete) and the
# delivery of its result to the caller's URL. At most one run of a profile is running.
profile_completions = Table(
    "profile_completions",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("profile_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),  # running, succeeded, failed
    Column("outcome", String(16), nullable=True),  # the profile's status: submitted, completed
    Column("error", json_type(), nullable=True),  # {code, message, details} when failed
    Column("web_hook_url", String(2048), nullable=False),
    Column("callback_status", String(16), nullable=False),  # waiting, pending, succeeded, failed
    Column("callback_attempts", Integer, nullable=False),
    Column("callback_last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "organization_id", "profile_id", "id"),
    Index(
        "uq_profile_completions_running",
        "organization_id",
        "profile_id",
        unique=True,
        sqlite_where=text("status = 'running'"),
        postgresql_where=text("status = 'running'"),
    ),
)

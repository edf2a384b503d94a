from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

# The organization's own attributes; the core ones (name, email, msisdn, channel flags) are
# built in and not stored here.
contact_attributes = Table(
    "contact_attributes",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("values", json_type(), nullable=True),  # an enum's allowed values
    Column("required", Boolean, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "type IN ('string', 'number', 'boolean', 'date', 'email', 'phone', 'enum')", name="type"
    ),
)

contacts = Table(
    "contacts",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("external_id", String(128), nullable=True),  # the organization's customer id
    Column("name", String(200), nullable=True),
    Column("email", String(320), nullable=True),
    Column("msisdn", String(20), nullable=True),
    Column("attributes", json_type(), nullable=False),  # channel flags and the organization's
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Each lookup a platform makes before a message is one indexed read; the id in the
    # index answers the lookup's ORDER BY id (SQLite would otherwise scan the primary key).
    Index(None, "organization_id", "external_id", unique=True),
    Index(None, "organization_id", "msisdn", "id"),
    Index(None, "organization_id", "email", "id"),
)

contact_app_profiles = Table(
    "contact_app_profiles",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("contact_id", String(40), nullable=False),
    Column("app_id", String(128), nullable=False),
    Column("key_name", String(64), nullable=False),  # psid, twitterid, push_token, …
    Column("key", String(512), nullable=False),  # its value: the app's id of the person
    Column("attributes", json_type(), nullable=False),
    Column("devices", json_type(), nullable=False),  # [{device_id, token, platform}]
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["organization_id", "contact_id"], ["contacts.organization_id", "contacts.id"]
    ),
    Index(None, "organization_id", "contact_id", "app_id", unique=True),
    Index(None, "organization_id", "app_id", "key", unique=True),
)

contact_consents = Table(
    "contact_consents",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("contact_id", String(40), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('opted_in', 'opted_out')", name="status"),
    CheckConstraint("source IN ('api', 'inbound_keyword', 'import')", name="source"),
    ForeignKeyConstraint(
        ["organization_id", "contact_id"], ["contacts.organization_id", "contacts.id"]
    ),
)

# A bulk import: the uploaded file is kept as chunks of whole records until a job has applied
# them, one transaction per chunk that also advances `next_chunk`, so a killed import resumes
# where it stopped and never applies a chunk twice.
contact_imports = Table(
    "contact_imports",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("format", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("columns", json_type(), nullable=True),  # a CSV file's header
    Column("bytes_received", BigInteger, nullable=False),
    Column("bytes_processed", BigInteger, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("next_chunk", Integer, nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("unchanged", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("failure", Text, nullable=True),  # why the whole import stopped
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    CheckConstraint("format IN ('ndjson', 'csv')", name="format"),
    CheckConstraint(
        "status IN ('receiving', 'queued', 'running', 'completed', 'failed', 'canceled')",
        name="status",
    ),
)

contact_import_chunks = Table(
    "contact_import_chunks",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("import_id", String(40), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("first_line", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

contact_import_errors = Table(
    "contact_import_errors",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("import_id", String(40), primary_key=True),
    Column("line", BigInteger, primary_key=True),
    Column("code", String(64), nullable=False),
    Column("field", String(200), nullable=True),
    Column("message", Text, nullable=False),
)

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

events = Table(
    "events",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("type", String(80), nullable=False),
    # The profile the event concerns, if any: only its subscriptions and the organization's get it.
    Column("profile_id", String(40), nullable=True),
    Column("data", json_type(), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "organization_id", "type", "id"),
    Index(None, "organization_id", "profile_id", "id"),  # a profile's events
    Index(None, "created_at"),  # the retention purge
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    # Set: a profile's own subscription, receiving only that profile's events.
    Column("profile_id", String(40), nullable=True),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    Column("event_types", json_type(), nullable=True),  # null: every event type
    Column("status", String(16), nullable=False),
    # Signing secrets, encrypted. After a rotation the previous one signs too, until it expires.
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    Column("previous_secret_expires_at", UTCDateTime, nullable=True),
    Column("failing_since", UTCDateTime, nullable=True),
    # Per-subscription delivery settings (null: the installation's) and the body's shape.
    Column("retry_count", Integer, nullable=True),
    Column("timeout_seconds", Integer, nullable=True),
    Column("payload_format", String(16), nullable=False),
    # What the payload format keeps for this subscription (a dialect's names, as sent).
    Column("format_options", json_type(), nullable=True),
    # Delivery health, kept up to date by each attempt.
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('active', 'paused', 'disabled')", name="status"),
    ForeignKeyConstraint(
        ["organization_id", "profile_id"], ["profiles.organization_id", "profiles.id"]
    ),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("subscription_id", String(40), nullable=False),
    Column("event_id", String(40), nullable=False),
    # pending: queued or retrying; held: the subscription is paused; cancelled: it was deleted
    # or disabled before the delivery succeeded.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "status IN ('pending', 'held', 'succeeded', 'failed', 'cancelled')", name="status"
    ),
    ForeignKeyConstraint(
        ["organization_id", "subscription_id"],
        ["webhook_subscriptions.organization_id", "webhook_subscriptions.id"],
    ),
    ForeignKeyConstraint(["organization_id", "event_id"], ["events.organization_id", "events.id"]),
    Index(None, "organization_id", "subscription_id", "id"),
    Index(None, "organization_id", "event_id"),
)

webhook_delivery_attempts = Table(
    "webhook_delivery_attempts",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("delivery_id", String(40), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("next_retry_at", UTCDateTime, nullable=True),
    ForeignKeyConstraint(
        ["organization_id", "delivery_id"],
        ["webhook_deliveries.organization_id", "webhook_deliveries.id"],
    ),
)

# The URL a brand, campaign or number request named for its object's status changes (one per
# object: the latest request's), and the vendor format its callbacks take.
status_callbacks = Table(
    "status_callbacks",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("object_id", String(40), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("payload_format", String(40), nullable=False),
    Column("format_options", json_type(), nullable=True),  # what the format needs to know
    # The messages still to send, oldest first: one sender at a time keeps them in order.
    Column("pending", json_type(), nullable=False, server_default="[]"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

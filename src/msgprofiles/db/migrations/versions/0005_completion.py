"""The Sent.dm brand sections on brands (drafts allowed), campaign rejections, the
organization's callback signing secret, profile completion runs, and per-subscription
webhook settings with delivery health.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from msgprofiles.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_DRAFTABLE: dict[str, sa.types.TypeEngine[Any]] = {
    "entity_type": sa.String(length=16),
    "legal_name": sa.String(length=255),
    "vertical": sa.String(length=32),
    "address": JSON,
    "authorized_contact": JSON,
}


def upgrade() -> None:
    with op.batch_alter_table("brands") as batch:
        for column, type_ in _DRAFTABLE.items():
            batch.alter_column(column, existing_type=type_, nullable=True)
        batch.add_column(sa.Column("tax_id_type", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("brand_relationship", sa.String(length=16), nullable=True))
        # Brands made before were made for TCR registration.
        batch.add_column(
            sa.Column("is_tcr_application", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("destination_countries", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("phone_number_prefix", sa.String(length=5), nullable=True))
    op.add_column("campaigns", sa.Column("rejection_reason", sa.Text(), nullable=True))
    op.add_column("organizations", sa.Column("callback_secret", sa.Text(), nullable=True))
    op.add_column("organizations", sa.Column("previous_callback_secret", sa.Text(), nullable=True))
    op.add_column(
        "organizations",
        sa.Column("previous_callback_secret_expires_at", UTCDateTime(), nullable=True),
    )
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("retry_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("timeout_seconds", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "payload_format", sa.String(length=16), nullable=False, server_default="standard"
            )
        )
        batch.add_column(
            sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("last_attempt_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_success_at", UTCDateTime(), nullable=True))
    op.create_table(
        "profile_completions",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("web_hook_url", sa.String(length=2048), nullable=False),
        sa.Column("callback_status", sa.String(length=16), nullable=False),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("callback_last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_profile_completions")),
    )
    op.create_index(
        op.f("ix_profile_completions_organization_id_profile_id_id"),
        "profile_completions",
        ["organization_id", "profile_id", "id"],
        unique=False,
    )
    op.create_index(
        "uq_profile_completions_running",
        "profile_completions",
        ["organization_id", "profile_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_table("profile_completions")
    with op.batch_alter_table("webhook_subscriptions") as batch:
        for column in (
            "last_success_at",
            "last_attempt_at",
            "consecutive_failures",
            "payload_format",
            "timeout_seconds",
            "retry_count",
        ):
            batch.drop_column(column)
    for column in (
        "previous_callback_secret_expires_at",
        "previous_callback_secret",
        "callback_secret",
    ):
        with op.batch_alter_table("organizations") as batch:
            batch.drop_column(column)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("rejection_reason")
    with op.batch_alter_table("brands") as batch:
        for column in (
            "phone_number_prefix",
            "notes",
            "destination_countries",
            "is_tcr_application",
            "brand_relationship",
            "tax_id_type",
        ):
            batch.drop_column(column)
        for column, type_ in _DRAFTABLE.items():
            batch.alter_column(column, existing_type=type_, nullable=False)

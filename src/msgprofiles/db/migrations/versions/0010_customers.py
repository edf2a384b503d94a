"""End-customers, their one-time setup links, and WhatsApp accounts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from msgprofiles.db.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metadata", JSON, nullable=True),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'suspended', 'archived')",
            name=op.f("ck_customers_status"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_customers")),
    )
    op.create_index(
        op.f("ix_customers_organization_id_status_id"),
        "customers",
        ["organization_id", "status", "id"],
        unique=False,
    )
    op.create_table(
        "customer_setup_links",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_last4", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=True),
        sa.Column("success_redirect_url", sa.String(length=2048), nullable=True),
        sa.Column("failure_redirect_url", sa.String(length=2048), nullable=True),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'consumed', 'expired', 'revoked')",
            name=op.f("ck_customer_setup_links_status"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "customer_id"],
            ["customers.organization_id", "customers.id"],
            name=op.f("fk_customer_setup_links_organization_id_customers"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_customer_setup_links")),
    )
    op.create_index(
        op.f("ix_customer_setup_links_organization_id_token_hash"),
        "customer_setup_links",
        ["organization_id", "token_hash"],
        unique=True,
    )
    op.create_index(
        op.f("ix_customer_setup_links_organization_id_customer_id_id"),
        "customer_setup_links",
        ["organization_id", "customer_id", "id"],
        unique=False,
    )
    op.create_table(
        "whatsapp_accounts",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("waba_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("onboarded_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('connected', 'disconnected', 'degraded', 'onboarding')",
            name=op.f("ck_whatsapp_accounts_status"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_whatsapp_accounts")),
    )
    op.create_index(
        op.f("ix_whatsapp_accounts_organization_id_phone_number_id"),
        "whatsapp_accounts",
        ["organization_id", "phone_number_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_whatsapp_accounts_organization_id_customer_id_id"),
        "whatsapp_accounts",
        ["organization_id", "customer_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("whatsapp_accounts")
    op.drop_table("customer_setup_links")
    op.drop_table("customers")

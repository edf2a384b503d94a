"""Brands (KYC) with their TCR registration, profiles linked to brands, and campaigns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from msgprofiles.db.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("profiles", sa.Column("brand_id", sa.String(length=40), nullable=True))
    _campaigns()
    op.create_table(
        "brands",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("customer_type", sa.String(length=10), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("legal_name", sa.String(length=255), nullable=False),
        sa.Column("doing_business_as", sa.String(length=255), nullable=True),
        sa.Column("vertical", sa.String(length=32), nullable=False),
        sa.Column("tax_id", sa.String(length=40), nullable=True),
        sa.Column("tax_id_country", sa.String(length=2), nullable=True),
        sa.Column("stock_symbol", sa.String(length=10), nullable=True),
        sa.Column("stock_exchange", sa.String(length=10), nullable=True),
        sa.Column("alt_business_id", sa.String(length=50), nullable=True),
        sa.Column("alt_business_id_type", sa.String(length=8), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("business_contact_email", sa.String(length=320), nullable=True),
        sa.Column(
            "address",
            JSON,
            nullable=False,
        ),
        sa.Column(
            "authorized_contact",
            JSON,
            nullable=False,
        ),
        sa.Column("registration_status", sa.String(length=16), nullable=False),
        sa.Column("identity_status", sa.String(length=20), nullable=True),
        sa.Column("tcr_brand_id", sa.String(length=20), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_brands")),
    )
    op.create_index(
        op.f("ix_brands_organization_id_entity_type_id"),
        "brands",
        ["organization_id", "entity_type", "id"],
        unique=False,
    )


def _campaigns() -> None:
    op.create_table(
        "campaigns",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tcr_campaign_id", sa.String(length=20), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        op.f("ix_campaigns_organization_id_profile_id_id"),
        "campaigns",
        ["organization_id", "profile_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("campaigns")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("brand_id")
    op.drop_table("brands")

"""Plivo-style registration: a brand's registration alias, the fields vendors keep on brands
and campaigns, a campaign's own profile; per-object status callbacks (a URL given with a brand, campaign or
number request, told of each status change).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from msgprofiles.db.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("brands") as batch:
        batch.add_column(sa.Column("registration_alias", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("vendor_fields", JSON, nullable=True))
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("dedicated_profile", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("vendor_fields", JSON, nullable=True))
    op.create_table(
        "status_callbacks",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("payload_format", sa.String(length=40), nullable=False),
        sa.Column("format_options", JSON, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "object_id", name=op.f("pk_status_callbacks")),
    )


def downgrade() -> None:
    op.drop_table("status_callbacks")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("vendor_fields")
        batch.drop_column("dedicated_profile")
    with op.batch_alter_table("brands") as batch:
        batch.drop_column("vendor_fields")
        batch.drop_column("registration_alias")

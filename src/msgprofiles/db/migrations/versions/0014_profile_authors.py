"""Profiles remember the API key that created them and the one that changed them last (Opentact
shows both), and are found by name (Telnyx and Opentact filter lists by it). A status
callback keeps the messages it has still to send, so that they go one at a time, in order.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("updated_by", sa.String(length=40), nullable=True))
    with op.batch_alter_table("status_callbacks") as batch:
        batch.add_column(sa.Column("pending", JSON, nullable=False, server_default="[]"))
    op.create_index(
        op.f("ix_profiles_organization_id_name_id"),
        "profiles",
        ["organization_id", "name", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_profiles_organization_id_name_id"), table_name="profiles")
    with op.batch_alter_table("status_callbacks") as batch:
        batch.drop_column("pending")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("updated_by")
        batch.drop_column("created_by")

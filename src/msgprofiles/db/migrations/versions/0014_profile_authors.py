"""Profiles remember the API key that created them and the one that changed them last (Opentact
shows both), and are found by name (Telnyx and Opentact filter lists by it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("updated_by", sa.String(length=40), nullable=True))
    op.create_index(
        op.f("ix_profiles_organization_id_name_id"),
        "profiles",
        ["organization_id", "name", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_profiles_organization_id_name_id"), table_name="profiles")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("updated_by")
        batch.drop_column("created_by")

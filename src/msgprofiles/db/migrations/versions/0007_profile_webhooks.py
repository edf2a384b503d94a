"""Webhook subscriptions a profile owns, and the profile each event concerns (a profile's
keys list its events).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("profile_id", sa.String(length=40), nullable=True))
    op.create_index(
        op.f("ix_events_organization_id_profile_id_id"),
        "events",
        ["organization_id", "profile_id", "id"],
        unique=False,
    )
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("profile_id", sa.String(length=40), nullable=True))
        batch.create_foreign_key(
            op.f("fk_webhook_subscriptions_organization_id_profiles"),
            "profiles",
            ["organization_id", "profile_id"],
            ["organization_id", "id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.drop_constraint(
            op.f("fk_webhook_subscriptions_organization_id_profiles"), type_="foreignkey"
        )
        batch.drop_column("profile_id")
    op.drop_index(op.f("ix_events_organization_id_profile_id_id"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("profile_id")

"""Sender profiles (a parent profile for every organization), numbers and sticky senders.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from ulid import ULID

from msgprofiles.db.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("organizations", sa.Column("whatsapp_business_account", JSON, nullable=True))
    op.create_table(
        "profiles",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("is_parent", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("short_name", sa.String(length=11), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("icon_url", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("billing_model", sa.String(length=32), nullable=False),
        sa.Column("billing_contact", JSON, nullable=True),
        sa.Column("payment_method", JSON, nullable=True),
        sa.Column("inherit_tcr_brand", sa.Boolean(), nullable=False),
        sa.Column("inherit_tcr_campaign", sa.Boolean(), nullable=False),
        sa.Column("inherit_contacts", sa.Boolean(), nullable=False),
        sa.Column("inherit_templates", sa.Boolean(), nullable=False),
        sa.Column("allow_contact_sharing", sa.Boolean(), nullable=False),
        sa.Column("allow_template_sharing", sa.Boolean(), nullable=False),
        sa.Column("allow_number_change_during_onboarding", sa.Boolean(), nullable=False),
        sa.Column("sending_phone_number", sa.String(length=20), nullable=True),
        sa.Column("whatsapp_phone_number", sa.String(length=20), nullable=True),
        sa.Column("waba_id", sa.String(length=64), nullable=True),
        sa.Column("whatsapp_phone_number_id", sa.String(length=64), nullable=True),
        sa.Column("whatsapp_access_token", sa.Text(), nullable=True),
        sa.Column("whatsapp_inherited", sa.Boolean(), nullable=False),
        sa.Column("messaging", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_profiles")),
    )
    op.create_index(
        op.f("ix_profiles_organization_id_short_name"),
        "profiles",
        ["organization_id", "short_name"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        op.f("ix_profiles_organization_id_customer_id_id"),
        "profiles",
        ["organization_id", "customer_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_profiles_organization_id_status_id"),
        "profiles",
        ["organization_id", "status", "id"],
        unique=False,
    )

    op.create_table(
        "sticky_senders",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("number_id", sa.String(length=40), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "profile_id", "recipient", name=op.f("pk_sticky_senders")
        ),
    )
    op.create_table(
        "phone_numbers",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "health IN ('healthy', 'unhealthy')", name=op.f("ck_phone_numbers_health")
        ),
        sa.CheckConstraint(
            "type IN ('long_code', 'toll_free', 'short_code')", name=op.f("ck_phone_numbers_type")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "profile_id"],
            ["profiles.organization_id", "profiles.id"],
            name=op.f("fk_phone_numbers_organization_id_profiles"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_phone_numbers")),
    )
    op.create_index(
        op.f("ix_phone_numbers_organization_id_number"),
        "phone_numbers",
        ["organization_id", "number"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_index(
        op.f("ix_phone_numbers_organization_id_profile_id_id"),
        "phone_numbers",
        ["organization_id", "profile_id", "id"],
        unique=False,
    )
    _give_every_organization_its_own_profile()


def _give_every_organization_its_own_profile() -> None:
    """From now on an organization is created with its parent profile; earlier ones get
    theirs here."""
    connection = op.get_bind()
    now = datetime.now(UTC)
    rows = connection.execute(sa.text("SELECT id, name FROM organizations")).fetchall()
    profiles = sa.table(
        "profiles",
        *(
            sa.column(name)
            for name in (
                "organization_id",
                "id",
                "is_parent",
                "name",
                "status",
                "billing_model",
                *FLAGS,
            )
        ),
        sa.column("messaging", JSON),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    messaging: dict[str, object] = {
        "enabled": True,
        "webhook_url": None,
        "failover_url": None,
        "number_pool": {
            "enabled": False,
            "long_code_weight": 1,
            "toll_free_weight": 1,
            "skip_unhealthy": True,
            "sticky_sender": False,
            "geomatch": False,
        },
        "whitelisted_destinations": [],
    }
    if rows:
        op.bulk_insert(
            profiles,
            [
                {
                    "organization_id": org_id,
                    "id": f"prof_{ULID()}",
                    "is_parent": True,
                    "name": name,
                    "status": "incomplete",
                    "billing_model": "organization",
                    **dict.fromkeys(FLAGS, False),
                    "messaging": messaging,
                    "created_at": now,
                    "updated_at": now,
                }
                for org_id, name in rows
            ],
        )


FLAGS = (
    "inherit_tcr_brand",
    "inherit_tcr_campaign",
    "inherit_contacts",
    "inherit_templates",
    "allow_contact_sharing",
    "allow_template_sharing",
    "allow_number_change_during_onboarding",
    "whatsapp_inherited",
)


def downgrade() -> None:
    op.drop_table("sticky_senders")
    op.drop_table("phone_numbers")
    op.drop_table("profiles")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("whatsapp_business_account")

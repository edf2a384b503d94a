"""Contacts (end-users' master profiles), their app profiles and consent, and each
organization's attribute schema.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from msgprofiles.db.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contact_attributes",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("values", JSON, nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "type IN ('string', 'number', 'boolean', 'date', 'email', 'phone', 'enum')",
            name=op.f("ck_contact_attributes_type"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "name", name=op.f("pk_contact_attributes")),
    )
    op.create_table(
        "contacts",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("msisdn", sa.String(length=20), nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_contacts")),
    )
    for columns, unique in ((["external_id"], True), (["msisdn"], False), (["email"], False)):
        op.create_index(
            op.f(f"ix_contacts_organization_id_{columns[0]}"),
            "contacts",
            ["organization_id", *columns],
            unique=unique,
        )
    op.create_table(
        "contact_app_profiles",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=128), nullable=False),
        sa.Column("key_name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("devices", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id", "contact_id"],
            ["contacts.organization_id", "contacts.id"],
            name=op.f("fk_contact_app_profiles_organization_id_contacts"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_contact_app_profiles")),
    )
    op.create_index(
        op.f("ix_contact_app_profiles_organization_id_contact_id_app_id"),
        "contact_app_profiles",
        ["organization_id", "contact_id", "app_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_contact_app_profiles_organization_id_app_id_key"),
        "contact_app_profiles",
        ["organization_id", "app_id", "key"],
        unique=True,
    )
    op.create_table(
        "contact_consents",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('opted_in', 'opted_out')", name=op.f("ck_contact_consents_status")
        ),
        sa.CheckConstraint(
            "source IN ('api', 'inbound_keyword', 'import')",
            name=op.f("ck_contact_consents_source"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id", "contact_id"],
            ["contacts.organization_id", "contacts.id"],
            name=op.f("fk_contact_consents_organization_id_contacts"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "contact_id", "channel", name=op.f("pk_contact_consents")
        ),
    )


def downgrade() -> None:
    op.drop_table("contact_consents")
    op.drop_table("contact_app_profiles")
    op.drop_table("contacts")
    op.drop_table("contact_attributes")

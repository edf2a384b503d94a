"""Bulk contact imports: the import, its uploaded chunks until applied, its errors by line.
The msisdn and email lookups' indexes also carry the id the lookup orders by.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from msgprofiles.db.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contact_imports",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("columns", JSON, nullable=True),
        sa.Column("bytes_received", sa.BigInteger(), nullable=False),
        sa.Column("bytes_processed", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("next_chunk", sa.Integer(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("format IN ('ndjson', 'csv')", name=op.f("ck_contact_imports_format")),
        sa.CheckConstraint(
            "status IN ('receiving', 'queued', 'running', 'completed', 'failed', 'canceled')",
            name=op.f("ck_contact_imports_status"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_contact_imports")),
    )
    op.create_table(
        "contact_import_chunks",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("import_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_line", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "import_id", "seq", name=op.f("pk_contact_import_chunks")
        ),
    )
    op.create_table(
        "contact_import_errors",
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("import_id", sa.String(length=40), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "import_id", "line", name=op.f("pk_contact_import_errors")
        ),
    )

    for column in ("msisdn", "email"):
        op.drop_index(op.f(f"ix_contacts_organization_id_{column}"), table_name="contacts")
        op.create_index(
            op.f(f"ix_contacts_organization_id_{column}_id"),
            "contacts",
            ["organization_id", column, "id"],
            unique=False,
        )


def downgrade() -> None:
    for column in ("msisdn", "email"):
        op.drop_index(op.f(f"ix_contacts_organization_id_{column}_id"), table_name="contacts")
        op.create_index(
            op.f(f"ix_contacts_organization_id_{column}"),
            "contacts",
            ["organization_id", column],
            unique=False,
        )
    op.drop_table("contact_import_errors")
    op.drop_table("contact_import_chunks")
    op.drop_table("contact_imports")

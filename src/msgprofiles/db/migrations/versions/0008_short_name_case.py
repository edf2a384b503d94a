"""Short names unique whatever their case ("ACME1" and "acme1" were two senders).

Existing duplicates: in each organization, among live profiles whose short names differ only
in case, the oldest (by created_at, then id) keeps its short name; each later one becomes the
first free "<first 9 characters> N" (N = 2, 3, …), which is still a valid short name (3-11
letters, digits or spaces). Profiles renamed this way are listed in the migration's log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _rename_duplicates() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT organization_id, id, short_name FROM profiles "
            "WHERE deleted_at IS NULL AND short_name IS NOT NULL "
            "ORDER BY organization_id, created_at, id"
        )
    ).all()
    taken: dict[str, set[str]] = {}
    for organization_id, _, short_name in rows:
        taken.setdefault(organization_id, set()).add(short_name.lower())
    kept: dict[str, set[str]] = {}
    for organization_id, profile_id, short_name in rows:
        seen = kept.setdefault(organization_id, set())
        if short_name.lower() not in seen:
            seen.add(short_name.lower())
            continue
        number = 2
        while (candidate := f"{short_name[:9]} {number}").lower() in taken[organization_id]:
            number += 1
        taken[organization_id].add(candidate.lower())
        seen.add(candidate.lower())
        bind.execute(
            sa.text(
                "UPDATE profiles SET short_name = :name WHERE organization_id = :org AND id = :id"
            ),
            {"name": candidate, "org": organization_id, "id": profile_id},
        )
        log.warning(
            "profile %s: short name %r renamed %r (case-insensitive duplicate)",
            profile_id,
            short_name,
            candidate,
        )


def upgrade() -> None:
    _rename_duplicates()
    op.drop_index(op.f("ix_profiles_organization_id_short_name"), table_name="profiles")
    op.create_index(
        "ix_profiles_organization_id_short_name_ci",
        "profiles",
        ["organization_id", sa.text("lower(short_name)")],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_profiles_organization_id_short_name_ci", table_name="profiles")
    op.create_index(
        op.f("ix_profiles_organization_id_short_name"),
        "profiles",
        ["organization_id", "short_name"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

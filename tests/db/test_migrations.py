import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, create_engine, insert, select, table
from sqlalchemy.ext.asyncio import create_async_engine

import msgprofiles.api_keys.models
import msgprofiles.brands.models
import msgprofiles.campaigns.models
import msgprofiles.contacts.models
import msgprofiles.core.idempotency
import msgprofiles.customers.models
import msgprofiles.jobs.models
import msgprofiles.numbers.models
import msgprofiles.organizations.models
import msgprofiles.profiles.models
import msgprofiles.webhooks.models
import msgprofiles.whatsapp.models
import msgprofiles.workflows.models  # noqa: F401  (every table on the metadata)
from msgprofiles.db.database import normalize_url, open_database
from msgprofiles.db.metadata import metadata
from msgprofiles.db.migrate import upgrade
from msgprofiles.profiles.models import profiles
from msgprofiles.profiles.service import new_profile_row
from tests.conftest import make_database


def _diff(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


# SQLite cannot reflect an index on an expression; the short-name tests check that one.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_migrations_build_exactly_the_declared_schema_and_rerun_safely(fresh_database):
    upgrade(fresh_database)  # a second run is a no-op
    url = normalize_url(fresh_database)
    if url.get_backend_name() == "sqlite":
        with create_engine(url).connect() as connection:
            assert _diff(connection) == []
        return

    async def check() -> list[object]:
        engine = create_async_engine(url.set(drivername="postgresql+asyncpg"))
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
        await engine.dispose()
        return diff

    assert asyncio.run(check()) == []


# The profile columns migration 0007 left (later ones are not there yet).
AT_0007 = {c.name for c in profiles.c} - {"created_by", "updated_by"}


def test_case_duplicate_short_names_are_renamed_by_the_stated_rule(tmp_path):
    """0008: the oldest profile keeps a short name; later case duplicates become the first
    free '<first 9 characters> N'."""
    url, drop = make_database(tmp_path, "shortnames", revision="0007")
    names = ["Acme1", "ACME1", "acme1", "Acme1 2", "LONGNAMEXYZ", "longnamexyz", "Other"]

    async def arrange() -> str:
        """Profiles as 0007 stored them: written through the columns it had."""
        organization_id = "org_00000000000000000000000001"
        then = table("profiles", *(column(c.name, c.type) for c in profiles.c if c.name in AT_0007))
        database = open_database(url)
        async with database.connect() as conn:
            for number, name in enumerate(names):
                row = new_profile_row(organization_id, f"Profile {number}", is_parent=False)
                row |= {"id": f"prof_{number:026d}", "short_name": name}
                row["created_at"] += timedelta(seconds=number)
                await conn.execute(insert(then), {k: v for k, v in row.items() if k in AT_0007})
        await database.close()
        return organization_id

    async def short_names(organization_id: str) -> dict[str, str]:
        database = open_database(url)
        async with database.connect() as conn:
            rows = await conn.fetch_all(
                select(profiles.c.id, profiles.c.short_name).where(
                    profiles.c.organization_id == organization_id, ~profiles.c.is_parent
                )
            )
        await database.close()
        return {row["id"]: row["short_name"] for row in rows}

    try:
        organization_id = asyncio.run(arrange())
        upgrade(url)
        after = asyncio.run(short_names(organization_id))
        assert [after[f"prof_{n:026d}"] for n in range(len(names))] == [
            "Acme1",
            "ACME1 3",  # "Acme1 2" is taken by a later profile, which keeps it
            "acme1 4",
            "Acme1 2",
            "LONGNAMEXYZ",
            "longnamex 2",
            "Other",
        ]
    finally:
        drop()

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, insert, select
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
from msgprofiles.core.crypto import SecretBox
from msgprofiles.db.database import normalize_url, open_database
from msgprofiles.db.metadata import metadata
from msgprofiles.db.migrate import upgrade
from msgprofiles.organizations.service import bootstrap_operator
from msgprofiles.profiles.models import profiles
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


def test_case_duplicate_short_names_are_renamed_by_the_stated_rule(tmp_path):
    """0008: the oldest profile keeps a short name; later case duplicates become the first
    free '<first 9 characters> N'."""
    url, drop = make_database(tmp_path, "shortnames", revision="0007")
    names = ["Acme1", "ACME1", "acme1", "Acme1 2", "LONGNAMEXYZ", "longnamexyz", "Other"]

    async def arrange() -> str:
        database = open_database(url)
        async with database.connect() as conn:
            created = await bootstrap_operator(conn, SecretBox(Fernet.generate_key()))
            assert created is not None
            parent = dict(
                await conn.fetch_one(
                    select(profiles).where(profiles.c.organization_id == created.id)
                )
            )
            for number, name in enumerate(names):
                await conn.execute(
                    insert(profiles),
                    {
                        **parent,
                        "id": f"prof_{number:026d}",
                        "is_parent": False,
                        "short_name": name,
                        "created_at": parent["created_at"] + timedelta(seconds=number),
                    },
                )
        await database.close()
        return created.id

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

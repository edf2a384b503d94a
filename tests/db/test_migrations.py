import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

import msgprofiles.api_keys.models
import msgprofiles.brands.models
import msgprofiles.campaigns.models
import msgprofiles.core.idempotency
import msgprofiles.jobs.models
import msgprofiles.numbers.models
import msgprofiles.organizations.models
import msgprofiles.profiles.models
import msgprofiles.webhooks.models
import msgprofiles.workflows.models  # noqa: F401  (every table on the metadata)
from msgprofiles.db.database import normalize_url
from msgprofiles.db.metadata import metadata
from msgprofiles.db.migrate import upgrade


def _diff(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


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

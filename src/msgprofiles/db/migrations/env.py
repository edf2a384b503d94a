"""Alembic environment. Migrations run on a connection handed over by msgprofiles.db.migrate,
or, for `alembic revision --autogenerate`, on MSGPROFILES_DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy import URL, Connection, create_engine
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
import msgprofiles.workflows.models  # noqa: F401  (register every table on the metadata)
from msgprofiles.config import Settings
from msgprofiles.db.database import normalize_url
from msgprofiles.db.metadata import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE support on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: URL) -> None:
    engine = create_async_engine(url.set(drivername="postgresql+asyncpg"))
    async with engine.begin() as conn:
        await conn.run_sync(run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
elif normalize_url(Settings().resolved_database_url).get_backend_name() == "sqlite":
    url = normalize_url(Settings().resolved_database_url)
    with create_engine(url.set(drivername="sqlite+pysqlite")).begin() as conn:
        run(conn)
else:
    asyncio.run(_run_async(normalize_url(Settings().resolved_database_url)))

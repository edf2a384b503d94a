"""Alembic, driven from code: `msgprofiles migrate`, `serve` on start, and the tests."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from msgprofiles.db.database import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`. Idempotent; safe on every start."""
    url = normalize_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url.set(drivername="sqlite+pysqlite"))
        with engine.begin() as connection:
            _upgrade_on(connection, revision)
        engine.dispose()
        return

    async def run() -> None:
        engine = create_async_engine(url.set(drivername="postgresql+asyncpg"))
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on, revision)
        await engine.dispose()

    asyncio.run(run())

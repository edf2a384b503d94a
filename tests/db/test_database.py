"""The db layer's promises, on whichever database the suite runs."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import bindparam, func, insert, select, text

from msgprofiles.core.ids import new_id
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import prepare
from msgprofiles.organizations.models import organizations
from tests.conftest import POSTGRES_SERVER

_count = (
    select(func.count()).select_from(organizations).where(organizations.c.name == bindparam("name"))
)
_prepared_get = prepare(select(organizations).where(organizations.c.id == bindparam("org")))


def row(name: str) -> dict[str, object]:
    now = utcnow()
    return {
        "id": new_id("org"),
        "name": name,
        "email": None,
        "metadata": {"k": "v"},
        "is_operator": False,
        "created_at": now,
        "updated_at": now,
    }


async def count(database, name: str) -> int:
    async with database.connect() as conn:
        return await conn.fetch_value(_count, {"name": name})


async def test_a_failed_transaction_leaves_nothing(database):
    async with database.connect() as conn:
        with pytest.raises(ValueError):
            async with conn.transaction():
                await conn.execute(insert(organizations), row("tx rolled back"))
                raise ValueError
    assert await count(database, "tx rolled back") == 0


async def test_nested_transactions_commit_together(database):
    async with database.connect() as conn, conn.transaction():
        await conn.execute(insert(organizations), row("tx outer"))
        async with conn.transaction():
            await conn.execute(insert(organizations), row("tx inner"))
    assert await count(database, "tx outer") == await count(database, "tx inner") == 1


async def test_a_swallowed_inner_failure_cannot_commit_half_the_work(database):
    async with database.connect() as conn:
        with pytest.raises(RuntimeError, match="savepoint"):
            async with conn.transaction():
                await conn.execute(insert(organizations), row("tx half a"))
                try:
                    async with conn.transaction():
                        await conn.execute(insert(organizations), row("tx half b"))
                        raise KeyError
                except KeyError:
                    pass
        assert not conn.in_transaction
    assert await count(database, "tx half a") == await count(database, "tx half b") == 0


async def test_a_savepoint_undoes_only_its_block(database):
    async with database.connect() as conn, conn.transaction():
        await conn.execute(insert(organizations), row("sp kept"))
        with pytest.raises(KeyError):
            async with conn.savepoint():
                await conn.execute(insert(organizations), row("sp undone"))
                raise KeyError
    assert await count(database, "sp kept") == 1
    assert await count(database, "sp undone") == 0


async def test_prepared_statements_read_back_like_sqlalchemy(database):
    original = row("prepared")
    async with database.connect() as conn:
        await conn.execute(prepare(insert(organizations)), original)
        fast = await conn.fetch_one(_prepared_get, {"org": original["id"]})
        plain = await conn.fetch_one(_prepared_get.statement, {"org": original["id"]})
    assert dict(fast) == dict(plain)
    assert fast["created_at"] == original["created_at"] and fast["created_at"].tzinfo
    assert fast["metadata"] == {"k": "v"} and fast["is_operator"] is False


@pytest.mark.skipif(not POSTGRES_SERVER, reason="a server-side disconnect needs PostgreSQL")
async def test_a_connection_the_server_dropped_is_not_reused(database):
    async with database.connect() as conn, database.connect() as other:
        pid = await conn.fetch_value(text("SELECT pg_backend_pid()"))
        await other.fetch_value(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    failures = 0
    for _ in range(12):  # the dropped one fails once, then is gone from the pool
        try:
            async with database.connect() as conn:
                assert await conn.fetch_one(_prepared_get, {"org": "org_none"}) is None
        except Exception:
            failures += 1
    assert failures <= 1
    async with database.connect() as conn:
        assert await conn.fetch_value(text("SELECT 1")) == 1


@pytest.mark.skipif(not POSTGRES_SERVER, reason="a server-side disconnect needs PostgreSQL")
async def test_connections_closed_while_idle_cost_no_request(database):
    """What a PostgreSQL restart does to a pool: every idle connection is closed by the server.
    None of them is handed out again, so no request fails."""

    together, pids = asyncio.Barrier(3), []

    async def hold() -> None:
        async with database.connect() as conn:
            pids.append(await conn.fetch_value(text("SELECT pg_backend_pid()")))
            await together.wait()  # three open at once, then three idle

    await asyncio.gather(*(hold() for _ in range(3)))
    async with database.connect() as killer:
        killer_pid = await killer.fetch_value(text("SELECT pg_backend_pid()"))
    assert killer_pid in pids, "the pool hands out the idle connections"
    admin = await asyncpg.connect(POSTGRES_SERVER)
    try:
        for pid in pids:
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the idle connections' sockets see the server hang up

    async def request() -> int:
        async with database.connect() as conn:
            return await conn.fetch_value(text("SELECT pg_backend_pid()"))

    new_pids = await asyncio.gather(*(request() for _ in range(3)))
    assert not set(new_pids) & set(pids)


async def test_a_postgresql_server_without_autovacuum_is_named_at_start(database, capsys):
    """Its tables bloat and keep the plans of their first minutes: the operator is told."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite has no autovacuum")
    async with database.connect() as conn:
        setting = await conn.fetch_value(text("SELECT current_setting('autovacuum')"))
    capsys.readouterr()
    await database.check_configuration()
    warned = "postgresql_autovacuum_off" in capsys.readouterr().out
    assert warned == (setting == "off")

"""Database access: SQLAlchemy Core statements executed on one connection per request.

Two engines hide behind one small interface (see DESIGN.md, "Data access"):

* SQLite: the standard `sqlite3` driver called inline from async code (its queries take
  microseconds; a thread hop would cost more). SQLite has one writer, so write transactions are
  serialized by an in-process lock *before* `BEGIN IMMEDIATE`; a write that waited on SQLite's
  busy timeout while holding the event loop would stall every other request instead.
* PostgreSQL: asyncpg, connections opened through SQLAlchemy's async engine.

Both run in autocommit between transactions, so a read costs only its query; `transaction()`
issues BEGIN/COMMIT itself. Each process keeps its open connections in an idle list (a request
takes one and gives it back) and drops any whose state is in doubt or that the server closed
while it idled (a PostgreSQL restart costs no request). Module-level statements
wrapped in `prepare()` run on the driver directly; any other statement runs through
SQLAlchemy. A transaction inside another joins it: a service owns its
transaction and still commits or rolls back together with a caller's (idempotency, jobs).
`savepoint()` is for the rare caller that recovers from a failed step.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import asyncpg
from sqlalchemy import ClauseElement, Dialect, Executable, Table, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from msgprofiles.core.logging import logger

Params = Mapping[str, Any] | None
Row = Mapping[Any, Any]

__all__ = ["Connection", "Database", "IntegrityError", "Prepared", "open_database", "prepare"]


class Prepared:
    """A statement built once at import and run many times, with `bindparam` parameters only.

    It is compiled once per dialect and executed on the driver's connection (sqlite3,
    asyncpg) directly: SQLAlchemy's per-execution bookkeeping costs several times a simple
    query (measured in bench/). Values go through the same SQLAlchemy type processors, so rows
    read back exactly as through SQLAlchemy. This is safe because SQLAlchemy only ever sees
    autocommit connections here: transactions are plain BEGIN/COMMIT on the driver."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return compiled


def prepare(statement: Executable) -> Prepared:
    return Prepared(statement)


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Any:
    return type_.dialect_impl(dialect).bind_processor(dialect)


class _Compiled:
    __slots__ = ("bind_names", "bind_processors", "defaults", "keys", "result_processors", "sql")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
        self.sql = compiled.string
        self.bind_names = tuple(compiled.positiontup or ())
        self.defaults: dict[str, Any] = dict(compiled.construct_params(_check=False))
        self.bind_processors = {
            name: processor
            for name in self.bind_names
            if (processor := _bind_processor(compiled.binds[name].type, dialect)) is not None
        }
        columns = list(getattr(statement, "exported_columns", ()))  # SELECT or RETURNING
        self.keys = tuple(column.key for column in columns)
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"prepared statements need distinct column names: {self.sql}")
        self.result_processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )

    def arguments(self, params: Params) -> list[Any]:
        values = {**self.defaults, **(params or {})}
        arguments = []
        for name in self.bind_names:
            value = values[name]
            processor = self.bind_processors.get(name)
            arguments.append(value if processor is None or value is None else processor(value))
        return arguments

    def row(self, raw: Sequence[Any]) -> Row:
        return {
            key: value if processor is None or value is None else processor(value)
            for key, processor, value in zip(self.keys, self.result_processors, raw, strict=True)
        }


Statement = Executable | Prepared


class Connection(ABC):
    """One database connection, held for the length of a request or a job."""

    @abstractmethod
    async def fetch_one(self, statement: Statement, params: Params = None) -> Row | None:
        """The first row, or None."""

    @abstractmethod
    async def fetch_all(self, statement: Statement, params: Params = None) -> list[Row]:
        """Every row."""

    async def write_returning(self, statement: Statement, params: Params = None) -> list[Row]:
        """One write that returns rows (`UPDATE … RETURNING`), atomic by itself: outside a
        transaction, PostgreSQL runs it as its own (no BEGIN and COMMIT round trips)."""
        return await self.fetch_all(statement, params)

    @abstractmethod
    async def execute(self, statement: Statement, params: Params = None) -> int:
        """Run a write; the number of rows it matched."""

    async def execute_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a prepared write once per row, in one call to the driver (bulk imports),
        inside a transaction."""
        assert self._depth > 0, "execute_many() runs in a transaction"
        if rows:
            compiled = statement.compiled(self._dialect)
            await self._execute_many(compiled.sql, [compiled.arguments(row) for row in rows])

    @abstractmethod
    async def _execute_many(self, sql: str, arguments: list[list[Any]]) -> None:
        """The driver's executemany."""

    _dialect: Dialect
    notifies_other_processes = False
    """Whether `notify` reaches the other processes on the database (PostgreSQL), so that
    they may keep what it invalidates; SQLite's other processes (the command line) hear
    nothing."""

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`: for the rare statement that must differ."""
        return self._dialect.name

    _depth = 0
    _doomed = False
    _savepoints = 0
    _after_commit: list[Callable[[], None]] | None = None
    _notified: frozenset[str] = frozenset()
    broken = False

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the current transaction has committed (never if it rolls
        back): e.g. wake a worker for a job that only exists from then on."""
        assert self._depth > 0, "after_commit() needs an open transaction"
        if self._after_commit is None:
            self._after_commit = []
        self._after_commit.append(callback)

    async def notify(self, channel: str) -> None:
        """Wake what other processes `Database.listen` on `channel` once this transaction
        commits (once per transaction, however often it is called)."""
        assert self._depth > 0, "notify() needs an open transaction"
        if channel not in self._notified:
            self._notified |= {channel}
            await self._send_notify(channel)

    @abstractmethod
    async def _send_notify(self, channel: str) -> None:
        """Queue the notification in the open transaction."""

    @abstractmethod
    async def _control(self, sql: str) -> None:
        """Run BEGIN, COMMIT, ROLLBACK or a savepoint statement."""

    def _writer(self) -> contextlib.AbstractAsyncContextManager[object]:
        """Held for the length of a transaction (SQLite's single writer)."""
        return contextlib.nullcontext()

    _begin = "BEGIN"

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All or nothing: commit on success, roll back on any exception. Inside another
        transaction, join it. An exception that leaves a joined block dooms the whole
        transaction, so a caller cannot swallow it and commit half of the work."""
        if self._depth > 0:
            self._depth += 1
            try:
                yield
            except BaseException:
                self._doomed = True
                raise
            finally:
                self._depth -= 1
            return
        async with self._writer():
            await self._run_control(self._begin)
            self._depth, self._doomed, self._after_commit = 1, False, None
            self._notified = frozenset()
            try:
                yield
            except BaseException:
                await self._run_control("ROLLBACK")
                raise
            else:
                if self._doomed:
                    await self._run_control("ROLLBACK")
                    raise RuntimeError(
                        "a failure inside this transaction was caught and ignored; "
                        "use savepoint() to recover from a failed step"
                    )
                await self._run_control("COMMIT")
                callbacks: list[Callable[[], None]] = self._after_commit or []
                for callback in callbacks:
                    callback()
            finally:
                self._depth, self._after_commit = 0, None

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Inside a transaction: if the block raises, undo only its writes, then re-raise."""
        if self._depth == 0:
            raise RuntimeError("savepoint() needs an open transaction")
        self._savepoints += 1
        name = f"sp_{self._savepoints}"
        await self._run_control(f"SAVEPOINT {name}")
        doomed = self._doomed
        try:
            yield
        except BaseException:
            await self._run_control(f"ROLLBACK TO {name}")
            await self._run_control(f"RELEASE {name}")
            self._doomed = doomed
            raise
        else:
            await self._run_control(f"RELEASE {name}")

    async def _run_control(self, sql: str) -> None:
        try:
            await self._control(sql)
        except BaseException:
            self.broken = True  # transaction state unknown: never reuse this connection
            raise

    async def analyze(self, *tables: Table) -> None:
        """Refresh PostgreSQL's planner statistics of tables that grew faster than autovacuum
        looks at them (about once a minute): until then its plans price an organization at the
        few rows it had, and hash all of its rows where an index probe per key would do.
        SQLite plans without statistics."""
        if self.dialect == "postgresql":
            await self.execute(text("ANALYZE " + ", ".join(table.name for table in tables)))

    async def fetch_value(self, statement: Statement, params: Params = None) -> Any:
        row = await self.fetch_one(statement, params)
        return None if row is None else next(iter(row.values()))


class Database(ABC):
    url: URL

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @abstractmethod
    def connect(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        """Check a connection out of the pool for the length of the block."""

    @abstractmethod
    async def close(self) -> None:
        """Close every pooled connection."""

    async def check_configuration(self) -> None:
        """Warn about a PostgreSQL server without autovacuum: it never refreshes the planner's
        statistics nor reclaims updated rows, so the job queue and the delivery tables bloat
        and keep the plans of their first, empty minutes (measured: webhook deliveries fell
        from 475 to 278 a second within a minute, p99 from 0.1 to 47 s)."""
        if self.dialect != "postgresql":
            return
        try:
            async with self.connect() as conn:
                setting = await conn.fetch_value(text("SELECT current_setting('autovacuum')"))
        except (DBAPIError, OSError):
            return  # not reachable yet: requests will say so
        if setting != "on":
            logger.warning(
                "postgresql_autovacuum_off",
                advice="turn autovacuum on (PostgreSQL's default) or VACUUM ANALYZE regularly",
            )

    @abstractmethod
    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` whenever a transaction of another process notifies `channel`,
        until cancelled."""

    @abstractmethod
    def pool_usage(self) -> tuple[int, int, int]:
        """(connections in use, idle connections kept, most connections the pool opens)."""

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.connect() as conn:
                return bool(await conn.fetch_value(text("SELECT 1")) == 1)
        except Exception:
            return False


# --- SQLite -----------------------------------------------------------------------------------


class _SQLiteConnection(Connection):
    _begin = "BEGIN IMMEDIATE"  # take SQLite's write lock now, not at the first write

    def __init__(self, conn: SyncConnection, write_lock: asyncio.Lock) -> None:
        self._conn = conn
        self._driver: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        self._dialect = conn.dialect
        self._write_lock = write_lock

    def close(self) -> None:
        self._conn.close()

    def _run(self, prepared: Prepared, params: Params) -> tuple[_Compiled, Any]:
        compiled = prepared.compiled(self._dialect)
        arguments = compiled.arguments(params)
        try:
            return compiled, self._driver.execute(compiled.sql, arguments)
        except sqlite3.Error as error:  # the exceptions SQLAlchemy would have raised
            raise DBAPIError.instance(compiled.sql, arguments, error, sqlite3.Error) from error

    async def fetch_one(self, statement: Statement, params: Params = None) -> Row | None:
        if isinstance(statement, Prepared):
            compiled, cursor = self._run(statement, params)
            raw = cursor.fetchone()
            return None if raw is None else compiled.row(raw)
        return self._conn.execute(statement, params).mappings().first()

    async def fetch_all(self, statement: Statement, params: Params = None) -> list[Row]:
        if isinstance(statement, Prepared):
            compiled, cursor = self._run(statement, params)
            return [compiled.row(raw) for raw in cursor.fetchall()]
        return list(self._conn.execute(statement, params).mappings())

    async def execute(self, statement: Statement, params: Params = None) -> int:
        if self._depth == 0:  # every write goes through the writer lock
            async with self.transaction():
                return self._execute(statement, params)
        return self._execute(statement, params)

    async def write_returning(self, statement: Statement, params: Params = None) -> list[Row]:
        if self._depth == 0:  # every write goes through the writer lock
            async with self.transaction():
                return await self.fetch_all(statement, params)
        return await self.fetch_all(statement, params)

    def _execute(self, statement: Statement, params: Params) -> int:
        if isinstance(statement, Prepared):
            return int(self._run(statement, params)[1].rowcount)
        return self._conn.execute(statement, params).rowcount

    async def _execute_many(self, sql: str, arguments: list[list[Any]]) -> None:
        try:
            self._driver.executemany(sql, arguments)
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, arguments, error, sqlite3.Error) from error

    async def _control(self, sql: str) -> None:
        self._driver.execute(sql)

    async def _send_notify(self, channel: str) -> None:
        """Nothing to send: SQLite serves one process, whose workers are woken in-process."""

    def _writer(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._write_lock


class _SQLiteDatabase(Database):
    def __init__(self, url: URL, pool_size: int, busy_timeout_ms: int) -> None:
        self.url = url
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # AUTOCOMMIT: SQLAlchemy never issues BEGIN/COMMIT itself; transaction() does, so reads
        # take no lock and writes take SQLite's lock up front (BEGIN IMMEDIATE).
        self._engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            isolation_level="AUTOCOMMIT",
            # transaction() always ends what it begins, so a returned connection needs no reset.
            pool_reset_on_return=None,
            pool_size=pool_size,
            max_overflow=pool_size * 4,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(self._engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            # Read through a shared memory map rather than a read() per page: a lookup in a
            # table of a million rows costs what it costs in one of a thousand (bench/contacts).
            cursor.execute("PRAGMA mmap_size=1073741824")
            cursor.close()

        self._write_lock = asyncio.Lock()
        self._pool_size = pool_size
        # Connections stay open between requests: handing one over is a list pop, where a
        # pool checkout and checkin cost more than the queries of a simple request.
        self._idle: list[_SQLiteConnection] = []

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        conn = (
            self._idle.pop()
            if self._idle
            else _SQLiteConnection(self._engine.connect(), self._write_lock)
        )
        try:
            yield conn
        finally:
            if conn.broken or conn.in_transaction or len(self._idle) >= self._pool_size:
                conn.close()
            else:
                self._idle.append(conn)

    def pool_usage(self) -> tuple[int, int, int]:
        pool: Any = self._engine.pool
        return pool.checkedout() - len(self._idle), len(self._idle), self._pool_size * 5

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Nothing to listen to (one process); returns at once."""

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
        self._engine.dispose()


# --- PostgreSQL -------------------------------------------------------------------------------


class _PostgresConnection(Connection):
    notifies_other_processes = True

    def __init__(self, conn: AsyncConnection, driver: asyncpg.Connection) -> None:
        self._conn = conn
        self._driver = driver
        self._dialect = conn.dialect

    async def _run(self, method: str, prepared: Prepared, params: Params) -> tuple[_Compiled, Any]:
        compiled = prepared.compiled(self._dialect)
        arguments = compiled.arguments(params)
        try:
            return compiled, await getattr(self._driver, method)(compiled.sql, *arguments)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(compiled.sql, arguments, error) from error
        except asyncpg.PostgresError as error:
            # 08: connection exceptions; 57P: the server shutting down or restarting.
            if (
                self._driver.is_closed()
                or error.sqlstate[:2] == "08"
                or error.sqlstate[:3] == "57P"
            ):
                self.broken = True
            raise DBAPIError(compiled.sql, arguments, error) from error
        except BaseException:  # lost connection, cancelled mid-query: never reuse it
            self.broken = True
            raise

    async def _through_sqlalchemy(self, statement: Executable, params: Params) -> Any:
        try:
            return await self._conn.execute(statement, params)
        except DBAPIError as error:
            self.broken = self.broken or error.connection_invalidated
            raise
        except BaseException:
            self.broken = True
            raise

    async def fetch_one(self, statement: Statement, params: Params = None) -> Row | None:
        if isinstance(statement, Prepared):
            compiled, raw = await self._run("fetchrow", statement, params)
            return None if raw is None else compiled.row(raw)
        result = await self._through_sqlalchemy(statement, params)
        return result.mappings().first()  # type: ignore[no-any-return]

    async def fetch_all(self, statement: Statement, params: Params = None) -> list[Row]:
        if isinstance(statement, Prepared):
            compiled, rows = await self._run("fetch", statement, params)
            return [compiled.row(raw) for raw in rows]
        result = await self._through_sqlalchemy(statement, params)
        return list(result.mappings())

    async def execute(self, statement: Statement, params: Params = None) -> int:
        if isinstance(statement, Prepared):
            _, status = await self._run("execute", statement, params)
            return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
        result = await self._through_sqlalchemy(statement, params)
        return int(result.rowcount)

    async def _execute_many(self, sql: str, arguments: list[list[Any]]) -> None:
        try:
            await self._driver.executemany(sql, arguments)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(sql, arguments, error) from error
        except asyncpg.PostgresError as error:
            raise DBAPIError(sql, arguments, error) from error
        except BaseException:
            self.broken = True
            raise

    async def _control(self, sql: str) -> None:
        await self._driver.execute(sql)

    async def _send_notify(self, channel: str) -> None:
        await self._driver.execute(f"NOTIFY {channel}")  # delivered when the transaction commits

    @property
    def closed(self) -> bool:
        return bool(self._driver.is_closed())

    async def close(self) -> None:
        """Back to SQLAlchemy's pool, or out of it if the server has closed it."""
        if self.closed:
            await self._conn.invalidate()
            return
        try:
            await self._conn.close()
        except Exception:  # already gone: nothing left to release
            await self._conn.invalidate()


class _PostgresDatabase(Database):
    def __init__(self, url: URL, pool_size: int) -> None:
        self.url = url
        self._engine = create_async_engine(
            url.set(drivername="postgresql+asyncpg"),
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
            pool_pre_ping=True,  # only checked out when the idle list is empty
            pool_size=pool_size,
            max_overflow=pool_size * 2,
        )
        self._pool_size = pool_size
        self._idle: list[_PostgresConnection] = []  # as for SQLite: a pop beats a checkout

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        conn = await self._checkout()
        try:
            yield conn
        finally:
            if conn.broken or conn.in_transaction or len(self._idle) >= self._pool_size:
                await conn.close()
            else:
                self._idle.append(conn)

    def pool_usage(self) -> tuple[int, int, int]:
        pool: Any = self._engine.pool
        return pool.checkedout() - len(self._idle), len(self._idle), self._pool_size * 3

    async def _checkout(self) -> _PostgresConnection:
        """An idle connection the server has not closed meanwhile (after a server restart the
        driver notices each closed socket while it idles), else a new one."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
            await conn.close()
        return await self._open()

    async def _open(self) -> _PostgresConnection:
        conn = await self._engine.connect()
        raw = await conn.get_raw_connection()
        return _PostgresConnection(conn, raw.driver_connection)

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """LISTEN on a connection of its own, reconnecting after a loss. Each (re)connection
        also calls `callback` once: a notification sent while not listening is not lost."""
        delay = 1.0
        while True:
            try:
                conn = await self._open()
            except Exception:
                logger.warning("listen_connect_failed", channel=channel, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 1.0
            try:
                lost = asyncio.Event()
                conn._driver.add_termination_listener(lambda *_, lost=lost: lost.set())
                await conn._driver.add_listener(channel, lambda *_: callback())
                callback()
                await lost.wait()
            except Exception:
                logger.warning("listen_lost", channel=channel)
            finally:
                conn.broken = True
                with contextlib.suppress(Exception):
                    await conn.close()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()
        await self._engine.dispose()


def normalize_url(url: str) -> URL:
    """Accept the URLs people write (`postgres://`, `postgresql://`, `sqlite:///file`)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed.set(drivername=backend)


def open_database(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 5_000) -> Database:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _SQLiteDatabase(parsed, pool_size, busy_timeout_ms)
    return _PostgresDatabase(parsed, pool_size)

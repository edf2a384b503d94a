"""`msgprofiles`: serve the API, migrate the database, manage organizations and API keys."""

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
import uvicorn
from pydantic import SecretStr

from msgprofiles import __version__
from msgprofiles.api_keys import service as api_keys
from msgprofiles.api_keys.schemas import ApiKeyCreate
from msgprofiles.config import Settings
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError
from msgprofiles.core.logging import configure_logging
from msgprofiles.core.pagination import PageParams
from msgprofiles.db import backup as backups
from msgprofiles.db.database import Connection, normalize_url, open_database
from msgprofiles.db.migrate import upgrade
from msgprofiles.organizations import service as organizations
from msgprofiles.organizations.schemas import OrganizationCreate
from msgprofiles.runtime import open_runtime, secret_box
from msgprofiles.server import http_protocol

# No rich markup: it would eat the `[env: MSGPROFILES_…]` hints as tags.
app = typer.Typer(
    help="msgprofiles: the profiles side of a messaging platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
keys_app = typer.Typer(
    help="Create, list and revoke API keys.", no_args_is_help=True, rich_markup_mode=None
)
orgs_app = typer.Typer(
    help="Create and list organizations.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(keys_app, name="keys")
app.add_typer(orgs_app, name="orgs")

T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option(
        help="Where the SQLite file lives. [env: MSGPROFILES_DATA_DIR]", show_default=False
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="sqlite:///… or postgresql://… [env: MSGPROFILES_DATABASE_URL]", show_default=False
    ),
]


def _settings(data_dir: Path | None, database_url: str | None, **extra: Any) -> Settings:
    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    return Settings(**overrides)


def _run(settings: Settings, work: Callable[[Connection], Awaitable[T]]) -> T:
    """Migrate, then run `work` on one connection; domain errors end the command cleanly."""
    upgrade(settings.resolved_database_url)

    async def go() -> T:
        database = open_database(settings.resolved_database_url, pool_size=1)
        try:
            async with database.connect() as conn:
                return await work(conn)
        finally:
            await database.close()

    try:
        return asyncio.run(go())
    except DomainError as error:
        typer.secho(f"error: {error.message} ({error.code})", err=True, fg="red")
        raise typer.Exit(1) from None


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Rows under a header, in tab-separated columns (easy to read, easy to `cut`)."""
    for row in (header, *rows):
        typer.echo("\t".join(row))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"msgprofiles {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """msgprofiles: the profiles side of a messaging platform."""


def _as_admin(organization_id: str) -> Caller:
    return Caller(organization_id=organization_id, role="admin")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="[env: MSGPROFILES_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="[env: MSGPROFILES_PORT]")] = None,
    workers: Annotated[
        int | None, typer.Option(help="API processes (PostgreSQL only). [env: MSGPROFILES_WORKERS]")
    ] = None,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run a job worker (webhook deliveries) in the API process. "
            "[env: MSGPROFILES_RUN_WORKER]",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Migrate the database and serve the API. On an empty database, first create the
    operator organization and print its admin API key (once)."""
    settings = _settings(
        data_dir, database_url, host=host, port=port, workers=workers, run_worker=worker
    )
    url = normalize_url(settings.resolved_database_url)
    if settings.workers > 1 and url.get_backend_name() == "sqlite":
        typer.secho(
            "error: SQLite serves from one process; use PostgreSQL for --workers > 1.",
            err=True,
            fg="red",
        )
        raise typer.Exit(2)
    box = secret_box(settings)
    created = _run(settings, lambda conn: organizations.bootstrap_operator(conn, box))
    docs = f"{settings.base_url}/docs"
    if created is not None:
        typer.echo(
            "\nCreated the operator organization "
            f"{created.id}.\nIts admin API key (shown once, store it now):\n\n"
            f"    {created.api_key.secret}\n"
        )
    typer.echo(f"msgprofiles {url.get_backend_name()} at {settings.base_url}  ·  API docs: {docs}")
    if settings.workers == 1:
        from msgprofiles.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            http=http_protocol(settings),
            timeout_keep_alive=settings.keep_alive_seconds,
            log_config=None,
            access_log=False,  # our middleware writes the access log, with the request id
        )
        return
    # Worker processes build the app from the environment: hand them these settings there.
    for name, value in settings.model_dump(exclude_none=True).items():
        os.environ[f"MSGPROFILES_{name.upper()}"] = str(
            value.get_secret_value() if isinstance(value, SecretStr) else value
        )
    # Each process writes its metrics there; /metrics, in any of them, adds them all up.
    metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="msgprofiles-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "msgprofiles.app:create_app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            http=http_protocol(settings),
            timeout_keep_alive=settings.keep_alive_seconds,
            log_config=None,
            access_log=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def worker(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Run background jobs (webhook deliveries, …) until SIGTERM or Ctrl-C. Start as many as
    you like on PostgreSQL; on SQLite, `serve` already runs one."""
    settings = _settings(data_dir, database_url)
    configure_logging(settings.log_level, settings.log_format)
    upgrade(settings.resolved_database_url)
    try:  # the loop `serve` runs: uvicorn takes uvloop wherever it is installed
        import uvloop
    except ImportError:
        asyncio.run(_work(settings))
    else:
        uvloop.run(_work(settings))


async def _work(settings: Settings) -> None:
    import gc
    import signal

    from msgprofiles import app  # noqa: F401  (imports every domain: registers their jobs)
    from msgprofiles.jobs.runner import Worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    metrics_server = None
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        metrics_server, _ = start_http_server(settings.worker_metrics_port, addr=settings.host)
    try:
        async with open_runtime(settings) as runtime:
            gc.freeze()  # as `serve` does: full collections skip what lives for ever
            await Worker(runtime).run(stop)
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()


@app.command()
def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date (also done by `serve` on start)."""
    settings = _settings(data_dir, database_url)
    upgrade(settings.resolved_database_url)
    typer.echo("database is up to date")


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="The file to write (it must not exist).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Copy the embedded (SQLite) database to PATH, consistently, even while the server runs.
    For PostgreSQL use pg_dump."""
    settings = _settings(data_dir, database_url)
    _backups(lambda: backups.backup(settings.resolved_database_url, path))
    typer.echo(f"backed up to {path}")
    if not settings.secret_key:
        typer.echo(
            f"Keep {settings.data_dir / 'secret.key'} with it: the stored signing secrets and "
            "tokens are encrypted with that key."
        )


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A file made by `msgprofiles backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Replace the embedded database's contents with a backup. Stop the server first."""
    settings = _settings(data_dir, database_url)
    if not yes:
        typer.confirm(
            f"Replace everything in {settings.resolved_database_url} with {path}?", abort=True
        )
    _backups(lambda: backups.restore(settings.resolved_database_url, path))
    upgrade(settings.resolved_database_url)  # a backup of an older version catches up
    typer.echo(f"restored from {path}")


def _backups(work: Callable[[], None]) -> None:
    try:
        work()
    except backups.BackupError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(1) from None


@orgs_app.command("create")
def orgs_create(
    name: str,
    email: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an organization and print its first admin API key (once)."""

    async def work(conn: Connection) -> None:
        try:
            data = OrganizationCreate(name=name, email=email)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        created = await organizations.create_organization(
            conn, await organizations.operator_caller(conn), data
        )
        typer.echo(f"{created.id}\t{created.name}")
        typer.echo(f"admin API key (shown once): {created.api_key.secret}")

    _run(_settings(data_dir, database_url), work)


@orgs_app.command("list")
def orgs_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List every organization, newest first."""

    async def work(conn: Connection) -> None:
        caller = await organizations.operator_caller(conn)
        cursor = None
        rows = []
        while True:
            page = await organizations.list_organizations(conn, caller, PageParams(100, cursor))
            rows += [
                (o.id, o.name, o.created_at.isoformat(), "operator" if o.is_operator else "")
                for o in page.items
            ]
            if not page.has_more:
                break
            cursor = page.next_cursor
        _table(("ID", "NAME", "CREATED", "OPERATOR"), rows)

    _run(_settings(data_dir, database_url), work)


@keys_app.command("create")
def keys_create(
    org: Annotated[str, typer.Option(help="Organization id (org_…).")],
    name: Annotated[str, typer.Option()] = "CLI key",
    role: Annotated[str, typer.Option(help="admin or member")] = "admin",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key for an organization and print its secret (once)."""
    if role not in ("admin", "member"):
        raise typer.BadParameter("role is admin or member")
    chosen: Literal["admin", "member"] = "admin" if role == "admin" else "member"

    async def work(conn: Connection) -> None:
        caller = _as_admin(org)
        await organizations.get_organization(conn, caller)
        key = await api_keys.create_api_key(conn, caller, ApiKeyCreate(name=name, role=chosen))
        typer.echo(f"{key.id}\t{key.role}\t{key.name}")
        typer.echo(f"secret (shown once): {key.secret}")

    _run(_settings(data_dir, database_url), work)


@keys_app.command("list")
def keys_list(
    org: Annotated[str, typer.Option(help="Organization id (org_…).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List an organization's API keys (never their secrets)."""

    async def work(conn: Connection) -> None:
        caller = _as_admin(org)
        await organizations.get_organization(conn, caller)
        cursor = None
        rows = []
        while True:
            page = await api_keys.list_api_keys(conn, caller, PageParams(100, cursor))
            rows += [
                (
                    key.id,
                    key.role,
                    key.status,
                    key.hint,
                    key.name,
                    key.last_used_at.isoformat() if key.last_used_at else "never",
                )
                for key in page.items
            ]
            if not page.has_more:
                break
            cursor = page.next_cursor
        _table(("ID", "ROLE", "STATUS", "HINT", "NAME", "LAST USED"), rows)

    _run(_settings(data_dir, database_url), work)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str,
    org: Annotated[str, typer.Option(help="Organization id (org_…).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an API key; it stops working at once."""

    async def work(conn: Connection) -> None:
        key = await api_keys.revoke_api_key(conn, _as_admin(org), key_id)
        typer.echo(f"{key.id}\trevoked")

    _run(_settings(data_dir, database_url), work)


def main() -> None:
    app()

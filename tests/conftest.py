"""Fixtures: the app on a real database, an HTTP client, organizations with keys.

The suite runs on SQLite by default. Set MSGPROFILES_TEST_DATABASE_URL to a PostgreSQL server
(e.g. postgresql://postgres@127.0.0.1:5432/postgres) to run it there: a database of its own
is created for the run and dropped afterwards.
"""

import asyncio
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from msgprofiles.app import create_app
from msgprofiles.config import Settings
from msgprofiles.db.database import Database
from msgprofiles.db.migrate import upgrade
from msgprofiles.jobs.runner import Worker
from msgprofiles.organizations.service import bootstrap_operator

if TYPE_CHECKING:
    from playwright.sync_api import Browser

POSTGRES_SERVER = os.environ.get("MSGPROFILES_TEST_DATABASE_URL", "")
SCREENSHOTS = Path(__file__).parent / "artifacts"  # what the browser tests saw

# Property tests draw the same examples on every run: a CI failure reproduces on a laptop.
hypothesis_settings.register_profile("msgprofiles", derandomize=True, database=None)
hypothesis_settings.load_profile("msgprofiles")


def make_database(
    tmp_dir: Path, name: str, revision: str = "head"
) -> tuple[str, Callable[[], None]]:
    """A fresh database migrated to `revision`: a SQLite file, or a new PostgreSQL database."""
    if not POSTGRES_SERVER:
        url = f"sqlite:///{tmp_dir / f'{name}.sqlite3'}"
        upgrade(url, revision)
        return url, lambda: None
    server = make_url(POSTGRES_SERVER.replace("postgresql://", "postgresql+asyncpg://", 1))
    database = f"msgprofiles_test_{name}_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{database}"'))
    url = server.set(drivername="postgresql", database=database).render_as_string(
        hide_password=False
    )
    upgrade(url, revision)
    return url, lambda: asyncio.run(_admin(server, f'DROP DATABASE "{database}" WITH (FORCE)'))


async def _admin(server: object, statement: str) -> None:
    import asyncpg

    url = make_url(str(server))
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = make_database(tmp_path_factory.mktemp("db"), "main")
    yield url
    drop()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        rate_limit="100000/second",
        auth_failure_rate_limit="100000/second",  # tests try wrong keys on purpose
        log_level="info",
        allow_private_webhooks=True,  # the receivers of the tests listen on loopback
        run_worker=False,  # tests drive the worker themselves
        webhook_retry_schedule=[0.2, 0.2, 0.2],
        job_poll_seconds=0.05,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        # The operator first, on the empty database (tests may add organizations directly).
        async with application.state.pipeline.runtime.database.connect() as conn:
            created = await bootstrap_operator(conn, application.state.pipeline.runtime.secrets)
        assert created is not None and created.api_key.secret
        application.state.test_operator_key = created.api_key.secret
        yield application


@pytest.fixture(scope="session")
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture(scope="session")
def database(app: object) -> Database:
    db: Database = app.state.pipeline.runtime.database  # type: ignore[attr-defined]
    return db


@pytest.fixture(scope="session")
async def operator_key(app: object) -> str:
    key: str = app.state.test_operator_key  # type: ignore[attr-defined]
    return key


@dataclass
class Org:
    """An organization made for one test, with one key of each role."""

    id: str
    admin_key: str
    member_key: str
    client: httpx.AsyncClient

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin_key}", **extra}

    async def get(self, path: str, key: str | None = None, **kw: object) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(key), **kw)  # type: ignore[arg-type]

    async def post(
        self, path: str, json: object = None, key: str | None = None, **headers: str
    ) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers(key, **headers))

    async def patch(
        self, path: str, json: object = None, key: str | None = None, **headers: str
    ) -> httpx.Response:
        return await self.client.patch(path, json=json, headers=self.headers(key, **headers))

    async def delete(self, path: str, key: str | None = None) -> httpx.Response:
        return await self.client.delete(path, headers=self.headers(key))


WHATSAPP = {"waba_id": "waba-test", "phone_number_id": "pn-test", "access_token": "EAAG-test"}


async def create_org(
    client: httpx.AsyncClient, operator_key: str, name: str = "Acme", *, whatsapp: bool = True
) -> Org:
    """A tenant with one key of each role and, unless asked otherwise, a WhatsApp account its
    profiles inherit."""
    response = await client.post(
        "/v1/organizations",
        json={"name": name},
        headers={"Authorization": f"Bearer {operator_key}"},
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    admin_key = data["api_key"]["secret"]
    member = await client.post(
        "/v1/api_keys",
        json={"name": "member", "role": "member"},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert member.status_code == 201, member.text
    if whatsapp:
        patched = await client.patch(
            "/v1/organization",
            json={"whatsapp_business_account": WHATSAPP},
            headers={"Authorization": f"Bearer {admin_key}"},
        )
        assert patched.status_code == 200, patched.text
    return Org(data["id"], admin_key, member.json()["data"]["secret"], client)


@pytest.fixture
async def org(client: httpx.AsyncClient, operator_key: str) -> Org:
    return await create_org(client, operator_key)


@pytest.fixture
async def other_org(client: httpx.AsyncClient, operator_key: str) -> Org:
    return await create_org(client, operator_key, name="Other tenant")


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, for tests that need an empty one."""
    url, drop = make_database(tmp_path, "fresh")
    yield url
    drop()


class Receiver:
    """A webhook receiver on loopback: records each request and answers with the next status
    of `statuses` (200 once they run out). While `open` is cleared, requests arrive (counted in
    `arrived`) but are held unanswered until it is set again; with `refuse_held` they are then
    answered 503 and not recorded (a dead sender's requests never count as delivered).
    `headers` go out with every answer."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        self.arrived = 0
        self.refuse_held = False
        self.open = threading.Event()
        self.open.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.arrived += 1
                held = not receiver.open.is_set()
                receiver.open.wait(60)
                if held and receiver.refuse_held:
                    self.send_response(503)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                time.sleep(receiver.delay)
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, object]]:
        return [json.loads(body) for _, body in self.requests]

    def close(self) -> None:
        self.open.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def worker(app: object) -> Worker:
    return Worker(app.state.pipeline.runtime)  # type: ignore[attr-defined]


async def drain(worker: Worker, until: Callable[[], bool]) -> None:
    """Run due jobs until `until()` holds (retries become due over time); fail after 15 s."""
    async with asyncio.timeout(15):
        while not until():
            await worker.run_until_idle()
            if not until():
                await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None and not os.environ.get("CI"):  # CI installs it: there it must run
        pytest.skip("the browser tests need Debian's chromium (apt-get install chromium)")
    assert executable, "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()

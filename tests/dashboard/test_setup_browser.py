"""The whole self-service signup in a real browser (Debian's Chromium), on a real server, as a
customer goes through it from the `setup_url` the platform sent: screenshots in
tests/artifacts/."""

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from msgprofiles.core.time import utcnow
from msgprofiles.customers.models import customer_setup_links
from msgprofiles.db.database import open_database
from tests.conftest import SCREENSHOTS, make_database
from tests.servers import operator_key, start_server

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


class Landing:
    """The platform's own page the customer returns to."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"<h1>Welcome back</h1>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/welcome"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """(its URL, an admin key, its database URL)."""
    directory = tmp_path_factory.mktemp("setup")
    database_url, drop = make_database(directory, "setup")
    where = ["--data-dir", str(directory), "--database-url", database_url]
    key = operator_key(where)
    process, url = start_server(where, {})
    try:
        yield url, key, database_url
    finally:
        process.kill()
        process.wait(10)
        drop()


def api(service: tuple[str, str, str], method: str, path: str, **body: object) -> dict:
    url, key, _ = service
    payload = body if method in ("POST", "PATCH") else None
    r = httpx.request(method, url + path, json=payload, headers={"x-api-key": key})
    assert r.is_success, r.text
    return r.json()["data"]


@pytest.fixture
def shot(capsys):  # type: ignore[no-untyped-def]
    """Save a screenshot and name its path in the test output (CI keeps the file)."""

    def take(page, name: str) -> None:  # type: ignore[no-untyped-def]
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"setup_{name}.png"
        page.screenshot(path=path, full_page=True)
        with capsys.disabled():
            print(f"\nscreenshot: {path}")

    return take


def test_a_customer_signs_up_from_its_link_in_a_browser(service, browser, shot):
    landing = Landing()
    customer = api(service, "POST", "/v1/customers", name="Corner Café")
    link = api(
        service,
        "POST",
        f"/v1/customers/{customer['id']}/setup_links",
        success_redirect_url=landing.url,
    )
    context = browser.new_context(**PHONE)
    page = context.new_page()
    opened = page.goto(link["setup_url"])
    assert opened is not None and opened.status == 200
    assert page.get_by_role("heading").inner_text() == "Connect WhatsApp for Corner Café"
    shot(page, "page")
    page.get_by_label("Phone number").first.fill("+14155550199")
    page.get_by_label("Display name").fill("Corner Café")
    page.get_by_role("button", name="Connect WhatsApp").click()
    page.wait_for_url(f"{landing.url}?**")
    assert page.get_by_role("heading").inner_text() == "Welcome back"
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["success"] and query["customer_id"] == [customer["id"]]
    account = api(service, "GET", f"/v1/whatsapp_accounts/{query['account_id'][0]}")
    assert account["customer_id"] == customer["id"] and account["phone_number"] == "+14155550199"
    assert api(service, "GET", f"/v1/customers/{customer['id']}")["status"] == "active"

    used = page.goto(link["setup_url"])  # the same link again: used
    assert used is not None and used.status == 410
    assert "already used" in page.content()
    shot(page, "consumed")
    context.close()
    landing.server.shutdown()


def test_expired_and_revoked_links_show_why_in_a_browser(service, browser, shot):
    customer = api(service, "POST", "/v1/customers", name="Late Bakery")
    base = f"/v1/customers/{customer['id']}/setup_links"
    expired = api(service, "POST", base)
    revoked = api(service, "POST", base)
    api(service, "DELETE", f"{base}/{revoked['id']}")

    async def expire() -> None:
        database = open_database(service[2])
        async with database.connect() as conn, conn.transaction():
            await conn.execute(
                update(customer_setup_links)
                .where(customer_setup_links.c.id == expired["id"])
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
        await database.close()

    # Playwright's loop runs in this thread: the database is changed from another.
    changer = threading.Thread(target=asyncio.run, args=(expire(),))
    changer.start()
    changer.join(30)
    page = browser.new_page()
    for link, status, words, name in (
        (expired, 410, "This link has expired", "expired"),
        (revoked, 410, "This link was cancelled", "revoked"),
    ):
        answer = page.goto(link["setup_url"])
        assert answer is not None and answer.status == status
        assert page.get_by_role("heading").inner_text() == words
        assert page.locator("form").count() == 0, "nothing to submit"
        shot(page, name)
    page.close()

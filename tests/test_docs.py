"""The API docs as a person opens them, in a real browser (Debian's Chromium) on a machine
without internet: every asset comes from the server itself, and the pages list the
operations."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import SCREENSHOTS
from tests.servers import database_args, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    from tests.conftest import make_database

    directory = tmp_path_factory.mktemp("docs")
    url, drop = make_database(directory, "docs")
    with serve("--data-dir", str(directory), *database_args(url)) as (base, _):
        yield base
    drop()


def offline_page(browser: Browser, base: str) -> tuple[Page, list[str]]:
    """A page that can reach only the server: any other request fails, and what the page
    needed from elsewhere (scripts, styles, fonts, data) is recorded. ReDoc's footer logo is
    an image from its CDN that hides itself when it cannot load: decoration, not a need."""
    page = browser.new_page()
    elsewhere: list[str] = []

    def route(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(base):
            route.continue_()
            return
        if route.request.resource_type != "image":
            elsewhere.append(f"{route.request.resource_type} {route.request.url}")
        route.abort()

    page.route("**/*", route)
    return page, elsewhere


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/docs", "/v1/profiles"),
        ("/dialects/sentdm/docs", "/v3/profiles"),
        ("/dialects/plivo/docs", "/v1/Account/{auth_id}/Profile/"),
    ],
)
def test_swagger_ui_lists_the_operations_offline(server, browser, path, operation):
    page, elsewhere = offline_page(browser, server)
    page.goto(server + path)
    page.wait_for_selector(".opblock", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(p.replace("\u200b", "") == operation for p in paths), paths[:5]
    assert len(paths) > 10
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"swagger{path.replace('/', '_')}.png")
    assert elsewhere == []
    page.close()


def test_redoc_renders_offline(server, browser):
    page, elsewhere = offline_page(browser, server)
    page.goto(server + "/redoc")
    page.locator("h2", has_text="Create Profile").first.wait_for(timeout=30_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "redoc.png")
    assert elsewhere == []
    page.close()


def test_the_root_sends_a_person_to_the_docs(server, browser):
    page, _ = offline_page(browser, server)
    page.goto(server + "/")
    assert page.url == server + "/docs"
    page.close()

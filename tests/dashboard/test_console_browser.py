"""The admin dashboard in a real browser (Debian's Chromium) on a real server, with data
present: log in, visit every page of the navigation (no console error, no request to another
host), act once, look from a phone, log out. Screenshots in tests/artifacts/."""

import contextlib
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import SCREENSHOTS, Receiver
from tests.factories import brand_body
from tests.servers import FAST_RETRIES, live_server, wait_for

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A live server with an organization's worth of data, and its operator key."""
    with (
        live_server(tmp_path_factory.mktemp("console"), FAST_RETRIES) as (url, key),
        contextlib.closing(Receiver()) as receiver,
    ):

        def api(method: str, path: str, **body: object) -> dict:
            r = httpx.request(method, url + path, json=body or None, headers={"x-api-key": key})
            assert r.is_success, r.text
            return r.json()["data"]  # type: ignore[no-any-return]

        api("POST", "/v1/webhook_subscriptions", url=receiver.url)
        brand = api("POST", "/v1/brands", **brand_body())
        api("POST", f"/v1/brands/{brand['id']}/submit")
        profile = api("POST", "/v1/profiles", name="Shop", brand_id=brand["id"])
        api(
            "POST", "/v1/numbers", number="+15125550123", type="long_code", profile_id=profile["id"]
        )
        api("POST", "/v1/customers", name="Corner Cafe")
        api("POST", "/v1/contacts", external_id="c-1", name="Dana", msisdn="+15125550111")
        wait_for(lambda: len(receiver.requests) >= 5)  # deliveries for the charts
        yield url, key


def watched(browser: Browser, base: str, **options: object) -> tuple[Page, list[str], list[str]]:
    """A page that records console errors and any request to another host (which fails)."""
    page = browser.new_page(**options)  # type: ignore[arg-type]
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return page, errors, elsewhere


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"dashboard_{name}.png", full_page=True)


def login(page: Page, base: str, key: str) -> None:
    page.goto(base + "/dashboard")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/dashboard")


def test_every_page_in_a_browser(service, browser: Browser):  # type: ignore[no-untyped-def]
    base, key = service
    page, errors, elsewhere = watched(browser, base)
    login(page, base, key)
    assert page.get_by_role("heading", level=1).inner_text() == "Operator"
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart rect").count() >= 1, "the deliveries are drawn"
    shot(page, "overview")
    links = page.get_by_role("navigation", name="Sections").get_by_role("link")
    labels = links.all_inner_texts()
    assert "Organizations" in labels, "the operator sees the organizations"
    for label in labels:
        sections = page.get_by_role("navigation", name="Sections")
        sections.get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).is_visible(), label
        current = page.get_by_role("navigation", name="Sections").locator('[aria-current="page"]')
        assert current.inner_text() == label
    sections = page.get_by_role("navigation", name="Sections")
    sections.get_by_role("link", name="Profiles", exact=True).click()
    page.get_by_role("link", name="Shop", exact=True).click()
    assert "+15125550123" in page.content()
    shot(page, "profile")

    sections.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Corner Cafe", exact=True).click()
    page.get_by_role("button", name="Suspend").click()
    assert page.get_by_role("status").inner_text() == "The customer is suspended."
    assert errors == [] and elsewhere == []

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/dashboard/login")
    page.goto(base + "/dashboard/profiles")
    assert page.url.startswith(base + "/dashboard/login"), "logged out"
    page.close()


def test_a_phone_reads_the_dashboard_and_keyboards_reach_it(service, browser: Browser):  # type: ignore[no-untyped-def]
    base, key = service
    page, errors, elsewhere = watched(browser, base, **PHONE)
    login(page, base, key)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "nothing wider than the phone"
    page.goto(base + "/dashboard/brands")
    shot(page, "brands_phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert errors == [] and elsewhere == []
    page.close()

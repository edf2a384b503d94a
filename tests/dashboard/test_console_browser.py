"""The admin dashboard in a real browser (Debian's Chromium) on a real server, with data
present: log in, visit every page of the navigation (no console error, no request to another
host), act once, look from a phone, log out. Screenshots in tests/artifacts/."""

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import SCREENSHOTS, Receiver
from tests.factories import brand_body, content
from tests.servers import FAST_RETRIES, live_server, tenant_keys, wait_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


@dataclass
class Service:
    url: str
    key: str  # the operator's admin key
    tenant_admin: str
    tenant_member: str
    ids: dict[str, str]

    def api(self, method: str, path: str, **body: object) -> dict:
        payload = body if method in ("POST", "PATCH") else None
        r = httpx.request(method, self.url + path, json=payload, headers={"x-api-key": self.key})
        assert r.is_success, r.text
        return r.json()["data"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[Service]:  # type: ignore[no-untyped-def]
    """A live server with an organization's worth of data, and a second tenant's keys."""
    with (
        live_server(tmp_path_factory.mktemp("console"), FAST_RETRIES) as (url, key),
        contextlib.closing(Receiver()) as receiver,
    ):
        admin, member = tenant_keys(url, key, "Tenant")
        found = Service(url, key, admin, member, {"receiver": receiver.url})
        api = found.api
        found.ids["subscription"] = api("POST", "/v1/webhook_subscriptions", url=receiver.url)["id"]
        brand = api("POST", "/v1/brands", **brand_body())
        api("POST", f"/v1/brands/{brand['id']}/submit")
        found.ids["draft_brand"] = api("POST", "/v1/brands", **brand_body(alias="Draft"))["id"]
        profile = api("POST", "/v1/profiles", name="Shop", brand_id=brand["id"])
        found.ids["campaign"] = api("POST", f"/v1/profiles/{profile['id']}/campaigns", **content())[
            "id"
        ]
        api(
            "POST", "/v1/numbers", number="+15125550123", type="long_code", profile_id=profile["id"]
        )
        found.ids["customer"] = api("POST", "/v1/customers", name="Corner Cafe")["id"]
        onboarded = api("POST", "/v1/customers", name="Bakery Bros")["id"]
        link = api("POST", f"/v1/customers/{onboarded}/setup_links")["setup_url"]
        with httpx.Client() as customer:  # connects its WhatsApp on the hosted page
            csrf = CSRF.search(customer.get(link).text).group(1)  # type: ignore[union-attr]
            assert customer.post(link, data={"csrf_token": csrf}).status_code == 200
        api("POST", "/v1/contacts", external_id="c-1", name="Dana", msisdn="+15125550111")
        wait_for(lambda: len(receiver.requests) >= 5)  # deliveries for the charts
        yield found


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


def click(page: Page, name: str) -> None:
    """Press a button and wait for the answer page."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_every_page_in_a_browser(service: Service, browser: Browser):
    base = service.url
    page, errors, elsewhere = watched(browser, base)
    login(page, base, service.key)
    assert page.get_by_role("heading", level=1).inner_text() == "Operator"
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart rect[height]").count() >= 1, "the deliveries are drawn"
    shot(page, "overview")
    sections = page.get_by_role("navigation", name="Sections")
    labels = sections.get_by_role("link").all_inner_texts()
    assert "Organizations" in labels, "the operator sees the organizations"
    for label in labels:
        sections.get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).is_visible(), label
        assert sections.locator('[aria-current="page"]').inner_text() == label
        assert "Nothing here yet" not in page.content(), f"{label} shows data"
    sections.get_by_role("link", name="Organizations", exact=True).click()
    page.get_by_role("link", name="Tenant", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Organization Tenant"
    sections.get_by_role("link", name="Profiles", exact=True).click()
    page.get_by_role("link", name="Shop", exact=True).click()
    assert "+15125550123" in page.content()
    shot(page, "profile")
    assert errors == [] and elsewhere == []
    page.close()


def test_each_write_in_a_browser(service: Service, browser: Browser):
    base, ids, api = service.url, service.ids, service.api
    page, errors, elsewhere = watched(browser, base)
    login(page, base, service.key)

    page.goto(f"{base}/dashboard/brands/{ids['draft_brand']}")
    click(page, "Submit to TCR")
    assert "Submitted to TCR" in page.get_by_role("status").inner_text()
    status = api("GET", f"/v1/brands/{ids['draft_brand']}")["registration_status"]
    assert status in ("pending", "registered")

    page.goto(f"{base}/dashboard/campaigns/{ids['campaign']}")
    click(page, "Submit for review")
    assert api("GET", "/v1/events?type=campaign.submitted")

    customer = f"{base}/dashboard/customers/{ids['customer']}"
    page.goto(customer)
    click(page, "Suspend")
    assert api("GET", f"/v1/customers/{ids['customer']}")["status"] == "suspended"
    click(page, "Unsuspend")
    assert api("GET", f"/v1/customers/{ids['customer']}")["status"] == "pending"
    click(page, "Create a setup link")
    shown = page.locator("#secret").inner_text()
    assert "/setup/" in shown, "the link, shown once"
    assert len(api("GET", f"/v1/customers/{ids['customer']}/setup_links")) == 1
    page.goto(customer)
    click(page, "Archive")
    assert api("GET", f"/v1/customers/{ids['customer']}")["status"] == "archived"

    page.goto(f"{base}/dashboard/webhooks")
    page.get_by_label("URL", exact=True).fill(ids["receiver"] + "/second")
    click(page, "Add a subscription")
    assert page.locator("#secret").inner_text().startswith("whsec_")
    hook = f"{base}/dashboard/webhooks/{ids['subscription']}"
    page.goto(hook)
    click(page, "Pause")
    assert api("GET", f"/v1/webhook_subscriptions/{ids['subscription']}")["status"] == "paused"
    click(page, "Resume")
    assert api("GET", f"/v1/webhook_subscriptions/{ids['subscription']}")["status"] == "active"
    click(page, "Send a test event")
    assert "test event" in page.get_by_role("status").inner_text()
    page.goto(hook)
    with page.expect_navigation():
        page.get_by_role("button", name="Redeliver").first.click()
    assert "again" in page.get_by_role("status").inner_text()
    click(page, "Rotate the secret")
    assert page.locator("#secret").inner_text().startswith("whsec_")
    shot(page, "secret")

    page.goto(f"{base}/dashboard/api_keys")
    page.get_by_label("Name", exact=True).fill("From the browser")
    click(page, "Create a key")
    assert page.locator("#secret").inner_text().startswith("mpk_")
    made = next(k for k in api("GET", "/v1/api_keys") if k["name"] == "From the browser")
    page.goto(f"{base}/dashboard/api_keys")
    row = page.get_by_role("row").filter(has_text="From the browser")
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke").click()
    assert api("GET", f"/v1/api_keys/{made['id']}")["status"] == "revoked"

    forged = page.request.post(f"{base}/dashboard/customers/{ids['customer']}/suspend")
    assert forged.status == 403, "a form without its CSRF token"
    assert errors == [] and elsewhere == []

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/dashboard/login")
    page.goto(base + "/dashboard/profiles")
    assert page.url.startswith(base + "/dashboard/login"), "logged out"
    page.close()


def test_members_read_and_tenants_stay_apart_in_a_browser(service: Service, browser: Browser):
    base = service.url
    member, errors, elsewhere = watched(browser, base)
    login(member, base, service.tenant_member)
    member.goto(f"{base}/dashboard/api_keys")
    assert "read only" in member.content()
    assert member.get_by_role("button", name="Revoke").count() == 0
    assert member.get_by_role("button", name="Create a key").count() == 0
    assert errors == [] and elsewhere == []
    member.close()

    tenant, _, elsewhere = watched(browser, base)
    login(tenant, base, service.tenant_admin)
    answer = tenant.goto(f"{base}/dashboard/customers/{service.ids['customer']}")
    assert answer is not None and answer.status == 404
    assert "customer_not_found" in tenant.content()
    tenant.goto(f"{base}/dashboard/customers")
    assert "Corner Cafe" not in tenant.content()
    assert tenant.get_by_role("link", name="Organizations").count() == 0
    assert elsewhere == []  # (the 404 answer itself is logged by the browser as an error)
    tenant.close()


def test_a_phone_reads_the_dashboard_and_keyboards_reach_it(service: Service, browser: Browser):
    base = service.url
    page, errors, elsewhere = watched(browser, base, **PHONE)
    login(page, base, service.key)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "nothing wider than the phone"
    page.goto(base + "/dashboard/brands")
    shot(page, "brands_phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert errors == [] and elsewhere == []
    page.close()

"""The admin dashboard over HTTP (the browser tests are in test_console_browser.py): login
with a key and a sealed session, CSRF on every form, read-only member keys, tenants, every
page with data, each write action seen through /v1, logout and the ends of a session."""

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from msgprofiles.dashboard import session as sessions
from tests.conftest import Org, create_org
from tests.factories import (
    content,
    make_brand,
    make_customer,
    make_number,
    make_profile,
    subscribe,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Visitor:
    """A browser's view of the dashboard: its own cookies, forms posted with their token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def login(self, key: str) -> httpx.Response:
        page = await self.http.get("/dashboard/login")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        return await self.http.post(
            "/dashboard/login", data={"csrf_token": token, "api_key": key, "next": ""}
        )

    async def get(self, path: str, **kw: object) -> httpx.Response:
        return await self.http.get(path, **kw)  # type: ignore[arg-type]

    async def post(
        self, path: str, form: dict[str, str] | None = None, *, page: str
    ) -> httpx.Response:
        """Post a form found on `page`, with that page's CSRF token."""
        shown = await self.http.get(page)
        token = CSRF.search(shown.text).group(1)  # type: ignore[union-attr]
        return await self.http.post(path, data={"csrf_token": token, **(form or {})})


@pytest.fixture(autouse=True)
async def _jobs_done(worker, receiver) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """What a test's writes queued (deliveries to its receiver, registrations) runs before
    the receiver goes: later tests share the database and its queue."""
    yield
    async with asyncio.timeout(15):
        await worker.run_until_idle()


@pytest.fixture
async def visitor(app) -> AsyncIterator[Visitor]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Visitor(http)


async def test_a_key_logs_in_and_a_sealed_cookie_stands_for_it(visitor: Visitor, org: Org):
    assert (await visitor.get("/dashboard")).status_code == 303, "to the login page"
    wrong = await visitor.login("mpk_not_a_key")
    assert wrong.status_code == 401 and "not valid" in wrong.text
    logged = await visitor.login(org.admin_key)
    assert logged.status_code == 303 and logged.headers["location"] == "/dashboard"
    cookie = logged.headers["set-cookie"]
    assert sessions.COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert org.admin_key not in cookie and org.admin_key.split("_", 2)[2] not in cookie
    overview = await visitor.get("/dashboard")
    assert overview.status_code == 200 and "<h1>Acme</h1>" in overview.text
    assert "<svg" in overview.text and "Webhook deliveries per hour" in overview.text


async def test_a_login_without_its_form_token_is_refused(visitor: Visitor, org: Org):
    refused = await visitor.http.post("/dashboard/login", data={"api_key": org.admin_key})
    assert refused.status_code == 403
    assert sessions.COOKIE not in refused.headers.get("set-cookie", "")


async def test_every_page_shows_the_organizations_data(visitor: Visitor, org: Org, receiver):
    brand = await make_brand(org)
    profile = await make_profile(org, name="Shop", brand_id=brand["id"])
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()["data"]
    number = await make_number(org, "+15125550123", profile_id=profile["id"])
    customer = await make_customer(org, name="Corner Cafe")
    subscription = await subscribe(org, receiver)
    contact = (await org.post("/v1/contacts", {"external_id": "c-1", "name": "Dana"})).json()[
        "data"
    ]
    await visitor.login(org.admin_key)
    for path, expected in (
        ("/dashboard/profiles", "Shop"),
        (f"/dashboard/profiles/{profile['id']}", "+15125550123"),
        ("/dashboard/brands", "Acme US"),
        (f"/dashboard/brands/{brand['id']}", "Submit to TCR"),
        ("/dashboard/campaigns", campaign["id"]),
        (f"/dashboard/campaigns/{campaign['id']}", "Submit for review"),
        ("/dashboard/numbers", "+15125550123"),
        (f"/dashboard/numbers/{number['id']}", "long_code"),
        ("/dashboard/customers?status=pending", "Corner Cafe"),
        (f"/dashboard/customers/{customer['id']}", "Create a setup link"),
        ("/dashboard/whatsapp_accounts", "WhatsApp accounts"),
        ("/dashboard/contacts?search=c-1", "Dana"),
        (f"/dashboard/contacts/{contact['id']}", "Dana"),
        ("/dashboard/webhooks", receiver.url),
        (f"/dashboard/webhooks/{subscription['id']}", "Rotate the secret"),
        ("/dashboard/events?type=profile.created", "profile.created"),
        ("/dashboard/api_keys", "Create a key"),
    ):
        page = await visitor.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert expected in page.text, path
    later = await visitor.get("/dashboard/events?type=profile.created&after=2999-01-01T00:00")
    assert "profile.created</a>" not in later.text, "nothing after that time"
    earlier = await visitor.get("/dashboard/events?type=profile.created&before=2999-01-01T00:00")
    assert "profile.created</a>" in earlier.text
    key_id = (await org.get("/v1/api_keys")).json()["data"][0]["id"]
    key_page = await visitor.get(f"/dashboard/api_keys/{key_id}")
    assert key_page.status_code == 200 and key_id in key_page.text
    assert org.admin_key not in key_page.text and "key_hash" not in key_page.text
    filtered = await visitor.get("/dashboard/customers?status=archived")
    assert "Corner Cafe" not in filtered.text, "filters narrow the list"
    assert (await visitor.get("/dashboard/organizations")).status_code == 403, "operators only"


async def test_each_write_acts_through_the_services(visitor: Visitor, org: Org, receiver):
    brand = await make_brand(org)
    customer = await make_customer(org, name="Corner Cafe")
    subscription = await subscribe(org, receiver)
    await visitor.login(org.admin_key)

    submitted = await visitor.post(
        f"/dashboard/brands/{brand['id']}/submit", page=f"/dashboard/brands/{brand['id']}"
    )
    assert submitted.status_code == 303
    assert (await org.get(f"/v1/brands/{brand['id']}")).json()["data"]["registration_status"] in (
        "pending",
        "registered",
    )
    customer_page = f"/dashboard/customers/{customer['id']}"
    await visitor.post(f"{customer_page}/suspend", page=customer_page)
    assert (await org.get(f"/v1/customers/{customer['id']}")).json()["data"][
        "status"
    ] == "suspended"
    await visitor.post(f"{customer_page}/unsuspend", page=customer_page)
    lifted = (await org.get(f"/v1/customers/{customer['id']}")).json()["data"]["status"]
    assert lifted == "pending", "not onboarded yet: back to pending, not active"
    link = await visitor.post(f"{customer_page}/setup_links", page=customer_page)
    assert link.status_code == 200 and "/setup/" in link.text, "the URL, shown once"
    links = (await org.get(f"/v1/customers/{customer['id']}/setup_links")).json()["data"]
    assert len(links) == 1
    await visitor.post(f"{customer_page}/archive", page=customer_page)
    assert (await org.get(f"/v1/customers/{customer['id']}")).json()["data"]["status"] == "archived"

    hooks = f"/dashboard/webhooks/{subscription['id']}"
    await visitor.post(f"{hooks}/pause", page=hooks)
    assert (await org.get(f"/v1/webhook_subscriptions/{subscription['id']}")).json()["data"][
        "status"
    ] == "paused"
    await visitor.post(f"{hooks}/resume", page=hooks)
    rotated = await visitor.post(f"{hooks}/rotate", page=hooks)
    assert "whsec_" in rotated.text
    tested = await visitor.post(f"{hooks}/test", page=hooks)
    assert tested.status_code == 303
    created = await visitor.post(
        "/dashboard/webhooks", {"url": receiver.url + "/2"}, page="/dashboard/webhooks"
    )
    assert "whsec_" in created.text
    key = await visitor.post(
        "/dashboard/api_keys",
        {"name": "From the dashboard", "role": "member"},
        page="/dashboard/api_keys",
    )
    secret = re.search(r"mpk_[A-Za-z0-9_\-]{70}", key.text)
    assert secret is not None, "the secret, shown once"
    listed = (await org.get("/v1/api_keys")).json()["data"]
    made = next(k for k in listed if k["name"] == "From the dashboard")
    await visitor.post(f"/dashboard/api_keys/{made['id']}/revoke", page="/dashboard/api_keys")
    assert (await org.get(f"/v1/api_keys/{made['id']}")).json()["data"]["status"] == "revoked"
    events = (await org.get("/v1/events", params={"type": "api_key.revoked"})).json()["data"]
    assert events and events[0]["data"]["id"] == made["id"], "the same event as through the API"
    invalid = await visitor.post(
        "/dashboard/webhooks", {"url": "not a url"}, page="/dashboard/webhooks"
    )
    assert invalid.status_code == 400 and "validation_error" in invalid.text


async def test_a_form_without_its_token_changes_nothing(visitor: Visitor, org: Org):
    customer = await make_customer(org, name="Kept")
    await visitor.login(org.admin_key)
    refused = await visitor.http.post(f"/dashboard/customers/{customer['id']}/archive")
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    forged = await visitor.http.post(
        f"/dashboard/customers/{customer['id']}/archive", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert (await org.get(f"/v1/customers/{customer['id']}")).json()["data"]["status"] == "pending"


async def test_a_member_key_sees_and_cannot_change(visitor: Visitor, org: Org):
    customer = await make_customer(org, name="Watched")
    await visitor.login(org.member_key)
    page = await visitor.get(f"/dashboard/customers/{customer['id']}")
    assert page.status_code == 200 and "read only" in page.text and "Archive" not in page.text
    refused = await visitor.post(
        f"/dashboard/customers/{customer['id']}/archive", page="/dashboard/customers"
    )
    assert refused.status_code == 403 and "insufficient_role" in refused.text
    assert (await org.get(f"/v1/customers/{customer['id']}")).json()["data"]["status"] == "pending"
    out = await visitor.post("/dashboard/logout", page="/dashboard")
    assert out.status_code == 303, "a member logs out too"
    assert (await visitor.get("/dashboard")).status_code == 303


async def test_another_tenants_object_is_not_found(
    visitor: Visitor, org: Org, client, operator_key
):
    stranger = await create_org(client, operator_key, "Stranger")
    theirs = await make_customer(stranger, name="Theirs")
    await visitor.login(org.admin_key)
    page = await visitor.get(f"/dashboard/customers/{theirs['id']}")
    assert page.status_code == 404 and "customer_not_found" in page.text
    assert "Theirs" not in (await visitor.get("/dashboard/customers")).text


async def test_a_session_ends_at_logout_when_old_and_when_its_key_is_revoked(
    visitor: Visitor, org: Org, app
):
    await visitor.login(org.admin_key)
    out = await visitor.post("/dashboard/logout", page="/dashboard")
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
    assert (await visitor.get("/dashboard")).status_code == 303

    key = (await org.post("/v1/api_keys", {"name": "short-lived", "role": "admin"})).json()["data"]
    await visitor.login(key["secret"])
    assert (await visitor.get("/dashboard")).status_code == 200
    await org.delete(f"/v1/api_keys/{key['id']}")
    assert (await visitor.get("/dashboard")).status_code == 303, "a revoked key's session ends"

    await visitor.login(org.admin_key)
    sealed = visitor.http.cookies.get(sessions.COOKIE)
    box = app.state.pipeline.runtime.secrets
    assert box.open_recent(sealed, sessions.SESSION_SECONDS) is not None
    assert box.open_recent(sealed, -1) is None, "an old session is not opened"
    visitor.http.cookies.set(sessions.COOKIE, sealed[:-4] + "AAAA", path="/dashboard")
    assert (await visitor.get("/dashboard")).status_code == 303, "a changed cookie is nobody's"

"""The hosted setup page over HTTP, as a customer's browser uses it: the page, its form, the
redirects, the pages for links that cannot be used, and one account per link."""

import asyncio
from urllib.parse import parse_qs, urlsplit

from msgprofiles.providers.whatsapp import SANDBOX_REFUSED_PHONE_NUMBER_ID
from tests.conftest import Org
from tests.factories import event_types, make_customer, make_link, open_page, path_of, visitor_of

SUCCESS = "https://app.example.com/onboarded?from=setup"
FAILURE = "https://app.example.com/failed"


async def test_a_customer_connects_whatsapp_through_its_link(org: Org, client):
    customer = await make_customer(org, name="Corner Café")
    link = await make_link(
        org, customer["id"], success_redirect_url=SUCCESS, failure_redirect_url=FAILURE
    )
    async with visitor_of(client) as visitor:
        page, csrf = await open_page(visitor, path_of(link))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Acme" in page.text and "Corner Café" in page.text and "<script" not in page.text
        assert page.headers["cache-control"] == "no-store"
        form = {"csrf_token": csrf, "phone_number": "+14155550188", "name": "Corner Cafe"}
        done = await visitor.post(path_of(link), data=form)
    assert done.status_code == 303
    target = urlsplit(done.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == SUCCESS.partition("?")[0]
    assert query["from"] == ["setup"] and query["status"] == ["success"]
    assert query["customer_id"] == [customer["id"]]
    [account_id] = query["account_id"]

    account = (await org.get(f"/v1/whatsapp_accounts/{account_id}")).json()["data"]
    assert account["customer_id"] == customer["id"] and account["status"] == "connected"
    assert (account["phone_number"], account["name"]) == ("+14155550188", "Corner Cafe")
    owned = await org.get("/v1/whatsapp_accounts", params={"customer_id": customer["id"]})
    assert [a["id"] for a in owned.json()["data"]] == [account_id]
    routed = await org.get(
        "/v1/whatsapp_accounts/lookup", params={"phone_number_id": account["phone_number_id"]}
    )
    assert routed.json()["data"]["customer_id"] == customer["id"]
    assert routed.json()["data"]["organization_id"] == org.id

    onboarded = (await org.get(f"/v1/customers/{customer['id']}")).json()["data"]
    assert onboarded["status"] == "active"
    assert [a["id"] for a in onboarded["whatsapp_accounts"]] == [account_id]
    links = (await org.get(f"/v1/customers/{customer['id']}/setup_links")).json()["data"]
    assert links[0]["status"] == "consumed" and links[0]["consumed_at"] is not None
    types = await event_types(org)
    for expected in (
        "customer.setup_link.consumed",
        "customer.onboarded",
        "whatsapp_account.connected",
    ):
        assert types.count(expected) == 1, expected

    async with visitor_of(client) as again:  # the link is used: the failure URL says why
        reopened = await again.get(path_of(link))
    assert reopened.status_code == 302
    assert parse_qs(urlsplit(reopened.headers["location"]).query) == {
        "customer_id": [customer["id"]],
        "status": ["failed"],
        "reason": ["link_consumed"],
    }


async def test_without_a_success_url_the_page_confirms(org: Org, client):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    async with visitor_of(client) as visitor:
        _, csrf = await open_page(visitor, path_of(link))
        done = await visitor.post(path_of(link), data={"csrf_token": csrf})
        assert done.status_code == 200 and "WhatsApp is connected" in done.text
        twice = await visitor.post(path_of(link), data={"csrf_token": csrf})
    assert twice.status_code == 410 and "already used" in twice.text
    owned = await org.get("/v1/whatsapp_accounts", params={"customer_id": customer["id"]})
    assert len(owned.json()["data"]) == 1, "one link, one account"


async def test_two_submissions_at_once_make_one_account(org: Org, client):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    async with visitor_of(client) as visitor:
        _, csrf = await open_page(visitor, path_of(link))
        answers = await asyncio.gather(
            *(visitor.post(path_of(link), data={"csrf_token": csrf}) for _ in range(4))
        )
    assert sorted(a.status_code for a in answers) == [200, 410, 410, 410]
    owned = await org.get("/v1/whatsapp_accounts", params={"customer_id": customer["id"]})
    assert len(owned.json()["data"]) == 1
    assert (await event_types(org)).count("customer.onboarded") == 1


async def test_the_form_needs_its_csrf_token(org: Org, client):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    async with visitor_of(client) as visitor:
        _, csrf = await open_page(visitor, path_of(link))
        for form in ({}, {"csrf_token": "forged"}):
            refused = await visitor.post(path_of(link), data=form)
            assert refused.status_code == 403 and "nothing was changed" in refused.text
    async with visitor_of(client) as elsewhere:  # the right value without its cookie
        refused = await elsewhere.post(path_of(link), data={"csrf_token": csrf})
        assert refused.status_code == 403
    assert (await org.get(f"/v1/customers/{customer['id']}")).json()["data"]["status"] == "pending"


async def test_a_refused_signup_leaves_the_link_to_try_again(org: Org, client):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"], failure_redirect_url=FAILURE)
    async with visitor_of(client) as visitor:
        _, csrf = await open_page(visitor, path_of(link))
        form = {"csrf_token": csrf, "phone_number_id": SANDBOX_REFUSED_PHONE_NUMBER_ID}
        refused = await visitor.post(path_of(link), data=form)
        assert refused.status_code == 302
        assert parse_qs(urlsplit(refused.headers["location"]).query)["reason"] == ["signup_refused"]
        retried = await visitor.post(path_of(link), data={"csrf_token": csrf})
    assert retried.status_code == 200, "the link was still active"


async def test_links_that_cannot_be_used_say_so_in_plain_words(org: Org, client):
    customer = await make_customer(org)
    revoked = await make_link(org, customer["id"])
    await org.delete(f"/v1/customers/{customer['id']}/setup_links/{revoked['id']}")
    unknown = path_of(revoked)[:-6] + "abcdef"
    async with visitor_of(client) as visitor:
        gone = await visitor.get(path_of(revoked))
        assert gone.status_code == 410 and "cancelled" in gone.text
        missing = await visitor.get(unknown)
        assert missing.status_code == 404 and "does not work" in missing.text
        assert (await visitor.get("/setup/short")).status_code == 404
        posted = await visitor.post(path_of(revoked), data={"csrf_token": "x"})
        assert posted.status_code == 403


async def test_tokens_never_reach_the_logs(org: Org, client, capsys):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    token = path_of(link).rpartition("/")[2]
    async with visitor_of(client) as visitor:
        _, csrf = await open_page(visitor, path_of(link))
        await visitor.post(path_of(link), data={"csrf_token": csrf})
    logged = capsys.readouterr()
    assert "/setup/{token}" in logged.out, "the page's requests are logged"
    assert token not in logged.out + logged.err

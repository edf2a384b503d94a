"""WhatsApp accounts through /v1: listed, read, routed by phone number id, given a profile."""

from tests.conftest import Org
from tests.factories import make_customer, make_profile, onboarded_account


async def test_accounts_are_listed_read_and_routed(org: Org, client):
    customer, account = await onboarded_account(org, client)
    assert account["status"] == "connected" and account["customer_id"] == customer["id"]
    assert account["id"].startswith("wa_") and account["onboarded_at"] is not None
    listed = await org.get("/v1/whatsapp_accounts", params={"status": "connected"})
    assert account["id"] in [a["id"] for a in listed.json()["data"]]
    none = await org.get("/v1/whatsapp_accounts", params={"status": "degraded"})
    assert none.json()["data"] == []
    routed = await org.get(
        "/v1/whatsapp_accounts/lookup", params={"phone_number_id": account["phone_number_id"]}
    )
    assert routed.json()["data"] == {
        "account": account,
        "organization_id": org.id,
        "customer_id": customer["id"],
        "profile_id": None,
    }
    unknown = await org.get("/v1/whatsapp_accounts/lookup", params={"phone_number_id": "1"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "whatsapp_account_not_found"


async def test_an_account_serves_its_customers_profiles(org: Org, client):
    customer, account = await onboarded_account(org, client)
    theirs = await make_profile(org, name="Their sender", customer_id=customer["id"])
    ours = await make_profile(org, name="Our sender")
    path = f"/v1/whatsapp_accounts/{account['id']}"
    refused = await org.patch(path, {"profile_id": ours["id"]})
    assert refused.status_code == 400, "not the customer's profile"
    r = await org.patch(path, {"profile_id": theirs["id"], "status": "degraded"})
    assert r.status_code == 200
    assert (r.json()["data"]["profile_id"], r.json()["data"]["status"]) == (
        theirs["id"],
        "degraded",
    )
    routed = await org.get(
        "/v1/whatsapp_accounts/lookup", params={"phone_number_id": account["phone_number_id"]}
    )
    assert routed.json()["data"]["profile_id"] == theirs["id"]
    assert (await org.patch(path, {"status": "unplugged"})).status_code == 400
    r = await org.patch(path, {"profile_id": None}, key=org.member_key)
    assert r.status_code == 403
    events = (await org.get("/v1/events", params={"type": "whatsapp_account.updated"})).json()
    assert events["data"][0]["data"]["id"] == account["id"]


async def test_another_tenants_accounts_are_not_found(org: Org, other_org: Org, client):
    _, account = await onboarded_account(org, client)
    for request in (
        other_org.get(f"/v1/whatsapp_accounts/{account['id']}"),
        other_org.patch(f"/v1/whatsapp_accounts/{account['id']}", {"status": "degraded"}),
        other_org.get(
            "/v1/whatsapp_accounts/lookup", params={"phone_number_id": account["phone_number_id"]}
        ),
    ):
        assert (await request).status_code == 404
    assert (await other_org.get("/v1/whatsapp_accounts")).json()["data"] == []
    other_customer = await make_customer(other_org)
    filtered = await org.get("/v1/whatsapp_accounts", params={"customer_id": other_customer["id"]})
    assert filtered.json()["data"] == []

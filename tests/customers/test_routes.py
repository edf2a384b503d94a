"""End-customers and their setup links through /v1, as a platform's backend uses them."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from msgprofiles.core.time import utcnow
from msgprofiles.customers.models import customer_setup_links, customers
from msgprofiles.jobs.models import jobs
from tests.conftest import Org
from tests.factories import event_types, make_customer, make_link


async def test_a_customers_life_from_pending_to_archived(org: Org):
    created = await make_customer(
        org, email="owner@bakery.example", metadata={"plan": "gold", "seats": 3, "tags": ["a"]}
    )
    assert created["id"].startswith("cus_") and created["status"] == "pending"
    assert created["metadata"] == {"plan": "gold", "seats": 3, "tags": ["a"]}
    got = (await org.get(f"/v1/customers/{created['id']}")).json()["data"]
    assert got["whatsapp_accounts"] == [] and got["name"] == "Bakery Bros"

    r = await org.patch(f"/v1/customers/{created['id']}", {"status": "suspended", "email": None})
    assert r.status_code == 200 and r.json()["data"]["status"] == "suspended"
    assert r.json()["data"]["email"] is None
    r = await org.patch(f"/v1/customers/{created['id']}", {"status": "archived"})
    assert r.status_code == 400, "archived only by DELETE"

    r = await org.delete(f"/v1/customers/{created['id']}")
    assert r.status_code == 200 and r.json()["data"] == {
        "id": created["id"],
        "object": "customer",
        "archived": True,
    }
    archived = (await org.get(f"/v1/customers/{created['id']}")).json()["data"]
    assert archived["status"] == "archived" and archived["archived_at"] is not None
    for attempt in (
        org.patch(f"/v1/customers/{created['id']}", {"name": "Back"}),
        org.post(f"/v1/customers/{created['id']}/setup_links", {}),
    ):
        r = await attempt
        assert r.status_code == 409 and r.json()["error"]["code"] == "customer_archived"
    types = await event_types(org)
    assert {"customer.created", "customer.updated", "customer.archived"} <= set(types)


async def test_lists_filter_search_and_page(org: Org):
    for n in range(3):
        await make_customer(org, name=f"Florist {n}", email=f"f{n}@flowers.example")
    suspended = await make_customer(org, name="Sleepy Shop")
    await org.patch(f"/v1/customers/{suspended['id']}", {"status": "suspended"})
    found = (await org.get("/v1/customers", params={"search": "FLOWERS.example"})).json()
    assert len(found["data"]) == 3
    page = (await org.get("/v1/customers", params={"search": "florist", "limit": 2})).json()
    assert len(page["data"]) == 2 and page["has_more"]
    rest = await org.get(
        "/v1/customers", params={"search": "florist", "limit": 2, "cursor": page["next_cursor"]}
    )
    assert len(rest.json()["data"]) == 1
    only = (await org.get("/v1/customers", params={"status": "suspended"})).json()["data"]
    assert [c["id"] for c in only] == [suspended["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x", "email": "not-an-email"}, "email"),
        ({"name": "x", "metadata": {f"k{i}": i for i in range(51)}}, "metadata"),
        ({"name": "x", "metadata": {"big": "x" * 17_000}}, "metadata"),
        ({"name": "x", "metadata": ["not", "an", "object"]}, "metadata"),
        ({"name": "x", "status": "active"}, "status"),
    ],
)
async def test_invalid_customers_are_refused(org: Org, body: dict, field: str):
    r = await org.post("/v1/customers", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == field


async def test_setup_links_show_their_token_once_and_store_only_its_hash(org: Org, database):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"], success_redirect_url="https://app.example.com/done")
    token = link["setup_url"].rpartition("/setup/")[2]
    assert len(token) >= 32 and link["token_last4"] == token[-4:]
    assert link["status"] == "active" and link["id"].startswith("csl_")
    assert link["expires_at"] > link["created_at"]
    listed = (await org.get(f"/v1/customers/{customer['id']}/setup_links")).json()
    assert listed["has_more"] is False and listed["next_cursor"] is None
    [shown] = listed["data"]
    assert "setup_url" not in shown and token not in str(shown)
    async with database.connect() as conn:
        row = await conn.fetch_one(
            select(customer_setup_links).where(customer_setup_links.c.id == link["id"])
        )
    assert token not in str(dict(row)), "never stored in plain text"
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert "customer.setup_link.created" in await event_types(org)


async def test_setup_links_change_only_while_active(org: Org):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    path = f"/v1/customers/{customer['id']}/setup_links/{link['id']}"
    r = await org.patch(path, {"failure_redirect_url": "http://localhost:3000/oops"})
    assert r.status_code == 200 and r.json()["data"]["failure_redirect_url"].startswith("http://l")
    r = await org.patch(path, {"failure_redirect_url": None})
    assert r.json()["data"]["failure_redirect_url"] is None
    r = await org.delete(path)
    assert r.status_code == 200 and r.json()["data"]["status"] == "revoked"
    for again in (org.delete(path), org.patch(path, {"success_redirect_url": None})):
        r = await again
        assert r.status_code == 409 and r.json()["error"]["code"] == "setup_link_inactive"
    revoked = await org.get(
        f"/v1/customers/{customer['id']}/setup_links", params={"status": "revoked"}
    )
    assert [x["id"] for x in revoked.json()["data"]] == [link["id"]]
    assert "customer.setup_link.revoked" in await event_types(org)


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in_hours": 0},
        {"expires_in_hours": 721},
        {"success_redirect_url": "http://app.example.com/done"},
        {"failure_redirect_url": "ftp://app.example.com/"},
        {"success_redirect_url": "https://" + "a" * 2048 + ".example.com"},
    ],
)
async def test_invalid_setup_links_are_refused(org: Org, body: dict):
    customer = await make_customer(org)
    r = await org.post(f"/v1/customers/{customer['id']}/setup_links", body)
    assert r.status_code == 400, r.text


async def test_links_expire_on_read_and_by_their_job(org: Org, database, worker):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"], expires_in_hours=1)
    past = utcnow() - timedelta(seconds=1)
    async with database.connect() as conn, conn.transaction():
        await conn.execute(
            update(customer_setup_links)
            .where(customer_setup_links.c.id == link["id"])
            .values(expires_at=past)
        )
    listed = (await org.get(f"/v1/customers/{customer['id']}/setup_links")).json()["data"]
    assert listed[0]["status"] == "expired", "judged on read, before the job ran"
    path = f"/v1/customers/{customer['id']}/setup_links/{link['id']}"
    assert (await org.delete(path)).status_code == 409
    assert "customer.setup_link.expired" not in await event_types(org)

    async with database.connect() as conn, conn.transaction():  # the job's hour has come
        await conn.execute(
            update(jobs)
            .where(jobs.c.kind == "customer.setup_link.expire", jobs.c.status == "queued")
            .values(run_at=past)
        )

    async def stored_status() -> str:
        async with database.connect() as conn:
            return await conn.fetch_value(
                select(customer_setup_links.c.status).where(customer_setup_links.c.id == link["id"])
            )

    await worker.run_until_idle()
    assert await stored_status() == "expired"
    assert (await event_types(org)).count("customer.setup_link.expired") == 1


async def test_another_tenants_customers_and_links_are_not_found(org: Org, other_org: Org):
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    base = f"/v1/customers/{customer['id']}"
    for request in (
        other_org.get(base),
        other_org.patch(base, {"name": "Mine now"}),
        other_org.delete(base),
        other_org.get(f"{base}/setup_links"),
        other_org.post(f"{base}/setup_links", {}),
        other_org.patch(f"{base}/setup_links/{link['id']}", {"success_redirect_url": None}),
        other_org.delete(f"{base}/setup_links/{link['id']}"),
    ):
        r = await request
        assert r.status_code == 404, r.text
    assert (await other_org.get("/v1/customers")).json()["data"] == []
    assert (await org.get(base)).json()["data"]["name"] == "Bakery Bros", "unchanged"


async def test_members_read_customers_but_do_not_change_them(org: Org, database):
    customer = await make_customer(org)
    assert (await org.get(f"/v1/customers/{customer['id']}", key=org.member_key)).status_code == 200
    r = await org.post("/v1/customers", {"name": "By a member"}, key=org.member_key)
    assert r.status_code == 403
    async with database.connect() as conn:
        names = await conn.fetch_all(
            select(customers.c.name).where(customers.c.organization_id == org.id)
        )
    assert [n["name"] for n in names] == ["Bakery Bros"]


async def test_a_profile_sends_for_one_of_the_customers(org: Org, other_org: Org):
    customer = await make_customer(org)
    r = await org.post("/v1/profiles", {"name": "Café sender", "customer_id": customer["id"]})
    assert r.status_code == 201 and r.json()["data"]["customer_id"] == customer["id"]
    profile = r.json()["data"]
    listed = await org.get("/v1/profiles", params={"customer_id": customer["id"]})
    assert [p["id"] for p in listed.json()["data"]] == [profile["id"]]
    check = {"profile_id": profile["id"], "to": "+14155550123", "channel": "whatsapp"}
    await org.patch(f"/v1/customers/{customer['id']}", {"status": "suspended"})
    reasons = (await org.post("/v1/send_checks", check)).json()["data"]["reasons"]
    assert "customer_suspended" in [reason["code"] for reason in reasons]

    stranger = await make_customer(other_org)
    r = await org.patch(f"/v1/profiles/{profile['id']}", {"customer_id": stranger["id"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "customer_not_found"
    await org.delete(f"/v1/customers/{customer['id']}")
    r = await org.post("/v1/profiles", {"name": "Too late", "customer_id": customer["id"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "customer_archived"
    r = await org.patch(f"/v1/profiles/{profile['id']}", {"customer_id": None})
    assert r.status_code == 200 and r.json()["data"]["customer_id"] is None

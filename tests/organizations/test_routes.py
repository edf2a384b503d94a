from datetime import datetime

import pytest
from sqlalchemy import select

from msgprofiles.organizations.models import organizations
from tests.conftest import Org


async def test_operator_creates_a_tenant_with_a_working_admin_key(client, operator_key):
    response = await client.post(
        "/v1/organizations",
        json={"name": "Globex", "email": "ops@globex.example", "metadata": {"plan": "pro"}},
        headers={"x-api-key": operator_key},
    )
    assert response.status_code == 201
    body = response.json()
    data = body["data"]
    assert body["request_id"].startswith("req_")
    assert data["id"].startswith("org_") and data["object"] == "organization"
    assert (data["name"], data["email"], data["metadata"]) == (
        "Globex",
        "ops@globex.example",
        {"plan": "pro"},
    )
    assert data["is_operator"] is False
    secret = data["api_key"]["secret"]
    assert data["api_key"]["role"] == "admin"

    own = await client.get("/v1/organization", headers={"Authorization": f"Bearer {secret}"})
    assert own.status_code == 200
    assert own.json()["data"]["id"] == data["id"]


async def test_operator_lists_every_organization_with_keyset_pages(client, operator_key):
    created = []
    for n in range(3):
        r = await client.post(
            "/v1/organizations", json={"name": f"paged {n}"}, headers={"x-api-key": operator_key}
        )
        created.append(r.json()["data"]["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await client.get(
            "/v1/organizations", params=params, headers={"x-api-key": operator_key}
        )
        assert r.status_code == 200
        body = r.json()
        assert len(body["data"]) <= 2
        seen += [o["id"] for o in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)), "no organization appears twice"
    assert seen == sorted(seen, reverse=True), "newest first"
    assert set(created) <= set(seen)


@pytest.mark.parametrize("who", ["admin", "member"])
async def test_tenant_keys_cannot_manage_organizations(org: Org, who):
    key = org.admin_key if who == "admin" else org.member_key
    create = await org.post("/v1/organizations", {"name": "sneaky"}, key=key)
    listing = await org.get("/v1/organizations", key=key)
    for response in (create, listing):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "operator_only"


async def test_operator_member_key_cannot_create_organizations(client, operator_key):
    member = await client.post(
        "/v1/api_keys",
        json={"name": "op member", "role": "member"},
        headers={"x-api-key": operator_key},
    )
    r = await client.post(
        "/v1/organizations",
        json={"name": "x"},
        headers={"x-api-key": member.json()["data"]["secret"]},
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "insufficient_role"


async def test_member_reads_but_cannot_change_the_organization(org: Org, database):
    r = await org.get("/v1/organization", key=org.member_key)
    assert r.status_code == 200 and r.json()["data"]["id"] == org.id
    r = await org.patch("/v1/organization", {"name": "Renamed"}, key=org.member_key)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "insufficient_role"
    async with database.connect() as conn:
        name = await conn.fetch_value(
            select(organizations.c.name).where(organizations.c.id == org.id)
        )
    assert name == "Acme"


async def test_patch_changes_only_the_fields_sent(org: Org):
    r = await org.patch("/v1/organization", {"email": "billing@acme.example"})
    assert r.status_code == 200
    before = r.json()["data"]
    r = await org.patch("/v1/organization", {"metadata": {"tier": "gold"}})
    after = r.json()["data"]
    assert after["email"] == "billing@acme.example"
    assert after["metadata"] == {"tier": "gold"}
    assert after["name"] == "Acme"
    # As times, not strings: a time on a whole second is written without its fraction.
    assert datetime.fromisoformat(after["updated_at"]) >= datetime.fromisoformat(
        before["updated_at"]
    )
    fetched = (await org.get("/v1/organization")).json()["data"]
    assert fetched == after
    r = await org.patch("/v1/organization", {"email": None})
    assert r.json()["data"]["email"] is None


@pytest.mark.parametrize(
    ("body", "field", "error_type"),
    [
        ({"name": ""}, "name", "string_too_short"),
        ({"name": "x" * 201}, "name", "string_too_long"),
        ({"name": 42}, "name", "string_type"),
        ({"name": None}, "name", "null"),
        ({"email": "not-an-email"}, "email", "value_error"),
        ({"metadata": {"k": 1}}, "metadata.k", "string_type"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata", "value_error"),
        ({"metadata": {"": "v"}}, "metadata", "value_error"),
        ({"colour": "blue"}, "colour", "extra_forbidden"),
    ],
)
async def test_invalid_updates_are_refused_and_change_nothing(org: Org, body, field, error_type):
    before = (await org.get("/v1/organization")).json()["data"]
    r = await org.patch("/v1/organization", body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"] == field and d["type"] == error_type for d in error["details"]), error
    assert (await org.get("/v1/organization")).json()["data"] == before


async def test_each_key_sees_only_its_own_organization(org: Org, other_org: Org):
    mine = (await org.get("/v1/organization")).json()["data"]
    theirs = (await other_org.get("/v1/organization")).json()["data"]
    assert mine["id"] == org.id and theirs["id"] == other_org.id
    await other_org.patch("/v1/organization", {"name": "Changed by other"})
    assert (await org.get("/v1/organization")).json()["data"]["name"] == "Acme"

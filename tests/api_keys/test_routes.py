import hashlib

import pytest
from sqlalchemy import select

from msgprofiles.api_keys.models import api_keys
from tests.conftest import Org


async def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(org: Org, database):
    r = await org.post("/v1/api_keys", {"name": "deploy bot", "role": "member"})
    assert r.status_code == 201
    key = r.json()["data"]
    secret = key["secret"]
    assert secret.startswith("mpk_") and key["hint"].endswith(secret[-4:])
    assert key["status"] == "active" and key["last_used_at"] is None

    fetched = (await org.get(f"/v1/api_keys/{key['id']}")).json()["data"]
    listed = (await org.get("/v1/api_keys")).json()["data"]
    assert "secret" not in fetched
    assert all("secret" not in k for k in listed)

    async with database.connect() as conn:
        row = await conn.fetch_one(
            select(api_keys).where(api_keys.c.organization_id == org.id, api_keys.c.id == key["id"])
        )
    assert row is not None
    assert secret not in [str(v) for v in row.values()]
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()


async def test_key_works_with_bearer_and_x_api_key_and_tracks_last_use(org: Org, client):
    created = (await org.post("/v1/api_keys", {"name": "k"})).json()["data"]
    for headers in (
        {"Authorization": f"Bearer {created['secret']}"},
        {"x-api-key": created["secret"]},
    ):
        r = await client.get("/v1/organization", headers=headers)
        assert r.status_code == 200
    fetched = (await org.get(f"/v1/api_keys/{created['id']}")).json()["data"]
    assert fetched["last_used_at"] is not None


async def test_revoked_key_stops_working_at_once(org: Org, client):
    created = (await org.post("/v1/api_keys", {"name": "short lived", "role": "admin"})).json()
    secret = created["data"]["secret"]
    assert (await client.get("/v1/organization", headers={"x-api-key": secret})).status_code == 200
    r = await org.delete(f"/v1/api_keys/{created['data']['id']}")
    assert r.status_code == 200
    assert r.json()["data"]["status"] == "revoked" and r.json()["data"]["revoked_at"]
    r = await client.get("/v1/organization", headers={"x-api-key": secret})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"
    again = await org.delete(f"/v1/api_keys/{created['data']['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "api_key_revoked"


async def test_the_last_admin_key_cannot_be_revoked(client, operator_key):
    from tests.conftest import create_org

    org = await create_org(client, operator_key, "Lonely admin")
    keys = (await org.get("/v1/api_keys", params={"status": "active"})).json()["data"]
    admin = next(k for k in keys if k["role"] == "admin")
    r = await org.delete(f"/v1/api_keys/{admin['id']}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin_key"
    assert (await org.get("/v1/organization")).status_code == 200


async def test_member_cannot_create_or_revoke_keys(org: Org):
    r = await org.post("/v1/api_keys", {"name": "x"}, key=org.member_key)
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_role"
    keys = (await org.get("/v1/api_keys", key=org.member_key)).json()["data"]
    assert len(keys) == 2
    r = await org.delete(f"/v1/api_keys/{keys[0]['id']}", key=org.member_key)
    assert r.status_code == 403
    assert len((await org.get("/v1/api_keys", params={"status": "active"})).json()["data"]) == 2


async def test_another_tenants_key_is_not_found(org: Org, other_org: Org):
    theirs = (await other_org.get("/v1/api_keys")).json()["data"][0]["id"]
    for response in (
        await org.get(f"/v1/api_keys/{theirs}"),
        await org.delete(f"/v1/api_keys/{theirs}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "api_key_not_found"
    assert (await other_org.get(f"/v1/api_keys/{theirs}")).json()["data"]["status"] == "active"
    mine = {k["id"] for k in (await org.get("/v1/api_keys")).json()["data"]}
    assert theirs not in mine


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer mpk_nonsense"},
        {"x-api-key": "mpk_01ARZ3NDEKTSV4RRFFQ69G5FAV_" + "A" * 43},
        {"x-api-key": ""},
    ],
)
async def test_missing_or_wrong_keys_are_401(client, headers):
    r = await client.get("/v1/organization", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] in {"unauthenticated", "invalid_api_key"}


async def test_a_key_with_a_tampered_secret_is_refused(org: Org, client):
    tampered = org.admin_key[:-1] + ("A" if org.admin_key[-1] != "A" else "B")
    r = await client.get("/v1/organization", headers={"x-api-key": tampered})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "x", "role": "owner"}, "validation_error"),
        ({"role": "admin"}, "validation_error"),
        ({"name": "x", "profile_id": "nope"}, "profile_not_found"),
        ({"name": "x", "profile_id": "prof_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "profile_not_found"),
    ],
)
async def test_invalid_key_requests_create_nothing(org: Org, body, code):
    before = len((await org.get("/v1/api_keys")).json()["data"])
    r = await org.post("/v1/api_keys", body)
    assert r.status_code in (400, 404)
    assert r.json()["error"]["code"] == code
    assert len((await org.get("/v1/api_keys")).json()["data"]) == before


async def test_keys_list_pages_and_filters(org: Org):
    for n in range(5):
        await org.post("/v1/api_keys", {"name": f"k{n}"})
    pages, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await org.get("/v1/api_keys", params=params)).json()
        pages.append(page["data"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert [len(p) for p in pages] == [3, 3, 1]  # the initial admin, the member and five more
    ids = [k["id"] for p in pages for k in p]
    assert len(ids) == len(set(ids)) == 7
    assert ids == sorted(ids, reverse=True)
    revoked = (await org.delete(f"/v1/api_keys/{ids[0]}")).json()["data"]["id"]
    only_revoked = (await org.get("/v1/api_keys", params={"status": "revoked"})).json()["data"]
    assert [k["id"] for k in only_revoked] == [revoked]

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from msgprofiles.profiles.models import profiles
from tests.conftest import Org
from tests.factories import count_profiles, make_profile


async def test_an_organization_comes_with_its_own_undeletable_profile(org: Org):
    listed = (await org.get("/v1/profiles")).json()["data"]
    [parent] = [p for p in listed if p["is_parent"]]
    assert parent["name"] == "Acme" and parent["billing_model"] == "organization"
    r = await org.delete(f"/v1/profiles/{parent['id']}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "parent_profile_undeletable"


async def test_a_profile_keeps_every_field_it_was_given(org: Org):
    created = await make_profile(
        org,
        short_name="Mkt 2",
        description="Marketing",
        icon_url="https://cdn.example.com/icon.png",
        billing_model="profile",
        billing_contact={"name": "Ann", "email": "ann@example.com", "phone": "+14155550123"},
        inherit_tcr_brand=True,
        allow_contact_sharing=True,
        sending_phone_number="+1 415 555 0124",
        messaging={
            "webhook_url": "https://hooks.example.com/sms",
            "failover_url": "https://backup.example.com/sms",
            "number_pool": {
                "enabled": True,
                "long_code_weight": 3,
                "toll_free_weight": 1,
                "sticky_sender": True,
                "geomatch": True,
            },
            "whitelisted_destinations": ["us", "CA"],
        },
    )
    assert created["id"].startswith("prof_") and created["is_parent"] is False
    assert created["sending_phone_number"] == "+14155550124", "normalized to E.164"
    assert created["messaging"]["whitelisted_destinations"] == ["US", "CA"]
    assert created["messaging"]["number_pool"]["skip_unhealthy"] is True, "defaults kept"
    assert created["status"] == "incomplete"
    assert (await org.get(f"/v1/profiles/{created['id']}")).json()["data"] == created
    events = (await org.get("/v1/events", params={"type": "profile.created"})).json()["data"]
    assert events[0]["data"]["id"] == created["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "short_name": "ab"}, "short_name"),
        ({"name": "x", "short_name": "twelve chars"}, "short_name"),
        ({"name": "x", "short_name": "123"}, "short_name"),
        ({"name": "x", "short_name": "SALES!"}, "short_name"),
        ({"name": "x", "billing_model": "profile"}, "billing_contact"),
        ({"name": "x", "billing_model": "both"}, "billing_model"),
        ({"name": "x", "billing_contact": {"name": "A", "email": "nope"}}, "billing_contact.email"),
        ({"name": "x", "sending_phone_number": "4155550123"}, "sending_phone_number"),
        ({"name": "x", "sending_phone_number": "+1234"}, "sending_phone_number"),
        ({"name": "x", "icon_url": "not a url"}, "icon_url"),
        (
            {"name": "x", "messaging": {"whitelisted_destinations": ["XX"]}},
            "messaging.whitelisted_destinations.0",
        ),
        (
            {"name": "x", "messaging": {"number_pool": {"long_code_weight": 10}}},
            "messaging.number_pool.long_code_weight",
        ),
        (
            {"name": "x", "messaging": {"number_pool": {"sticky_sender": "yes"}}},
            "messaging.number_pool.sticky_sender",
        ),
        ({"name": "x", "inherit_tcr_brand": None}, "inherit_tcr_brand"),
        ({"name": "x", "colour": "blue"}, "colour"),
    ],
)
async def test_invalid_profiles_are_refused_and_nothing_is_created(org: Org, database, body, field):
    before = await count_profiles(database, org)
    r = await org.post("/v1/profiles", body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"] == field for d in error["details"]), error
    assert await count_profiles(database, org) == before


async def test_short_names_are_unique_among_live_profiles(org: Org):
    first = await make_profile(org, short_name="SALES")
    r = await org.post("/v1/profiles", {"name": "Other", "short_name": "SALES"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "short_name_taken"
    second = await make_profile(org, name="Other", short_name="SUPPORT")
    r = await org.patch(f"/v1/profiles/{second['id']}", {"short_name": "SALES"})
    assert r.status_code == 409
    await org.delete(f"/v1/profiles/{first['id']}")
    assert (
        await org.patch(f"/v1/profiles/{second['id']}", {"short_name": "SALES"})
    ).status_code == 200


@pytest.mark.parametrize("taken", ["sales", "Sales", "SALES"])
async def test_short_names_differing_only_in_case_are_one_sender(org: Org, taken: str):
    await make_profile(org, short_name="SaLeS")
    r = await org.post("/v1/profiles", {"name": "Other", "short_name": taken})
    assert r.status_code == 409 and r.json()["error"]["code"] == "short_name_taken"
    other = await make_profile(org, name="Other", short_name="OTHER")
    r = await org.patch(f"/v1/profiles/{other['id']}", {"short_name": taken})
    assert r.status_code == 409
    own = await org.patch(f"/v1/profiles/{other['id']}", {"short_name": "other"})
    assert own.status_code == 200 and own.json()["data"]["short_name"] == "other", "own name"


async def test_the_index_refuses_a_case_duplicate_the_check_did_not_see(org: Org, database):
    """Two concurrent creates both pass the service's check: the unique index decides."""
    await make_profile(org, short_name="RACE")
    row = (await org.get("/v1/profiles", params={"search": "RACE"})).json()["data"][0]
    async with database.connect() as conn:
        stored = await conn.fetch_one(
            select(profiles).where(profiles.c.organization_id == org.id, profiles.c.id == row["id"])
        )
    duplicate = {**dict(stored), "id": "prof_01JDUPLICATE0000000000000", "short_name": "race"}
    with pytest.raises(IntegrityError):
        async with database.connect() as conn, conn.transaction():
            await conn.execute(profiles.insert(), duplicate)


async def test_patch_changes_only_what_it_names_and_merges_messaging(org: Org):
    created = await make_profile(
        org,
        description="Keep me",
        messaging={"number_pool": {"enabled": True, "long_code_weight": 4}},
    )
    r = await org.patch(
        f"/v1/profiles/{created['id']}", {"messaging": {"number_pool": {"sticky_sender": True}}}
    )
    assert r.status_code == 200, r.text
    pool = r.json()["data"]["messaging"]["number_pool"]
    assert (pool["enabled"], pool["long_code_weight"], pool["sticky_sender"]) == (True, 4, True)
    assert r.json()["data"]["description"] == "Keep me"
    cleared = await org.patch(f"/v1/profiles/{created['id']}", {"description": None})
    assert cleared.json()["data"]["description"] is None
    bad = await org.patch(f"/v1/profiles/{created['id']}", {"billing_model": "profile"})
    assert bad.status_code == 400
    assert (await org.get(f"/v1/profiles/{created['id']}")).json()["data"][
        "billing_model"
    ] == "organization"


async def test_deleted_profiles_disappear_but_their_data_stays(org: Org, database):
    created = await make_profile(org, short_name="GONE")
    r = await org.delete(f"/v1/profiles/{created['id']}")
    assert r.status_code == 200
    assert (await org.get(f"/v1/profiles/{created['id']}")).status_code == 404
    ids = [p["id"] for p in (await org.get("/v1/profiles")).json()["data"]]
    assert created["id"] not in ids
    async with database.connect() as conn:
        row = await conn.fetch_one(select(profiles).where(profiles.c.id == created["id"]))
    assert row["deleted_at"] is not None and row["short_name"] == "GONE"
    deleted = (await org.get("/v1/events", params={"type": "profile.deleted"})).json()["data"]
    assert deleted[0]["data"]["id"] == created["id"]


async def test_lists_filter_by_status_and_search_and_page(org: Org):
    for name, short in (("Alpha Sales", "ALPHA"), ("Beta Support", "BETA"), ("Gamma", "GSALES")):
        await make_profile(org, name=name, short_name=short)
    found = (await org.get("/v1/profiles", params={"search": "sales"})).json()["data"]
    assert sorted(p["name"] for p in found) == ["Alpha Sales", "Gamma"]
    assert (await org.get("/v1/profiles", params={"search": "100%_"})).json()["data"] == []
    incomplete = (await org.get("/v1/profiles", params={"status": "incomplete"})).json()["data"]
    assert len(incomplete) == 4
    assert (await org.get("/v1/profiles", params={"status": "completed"})).json()["data"] == []
    assert all(p["customer_id"] is None for p in incomplete)
    assert (await org.get("/v1/profiles", params={"customer_id": "cus_none"})).json()["data"] == []
    page = (await org.get("/v1/profiles", params={"limit": 3})).json()
    rest = (
        await org.get("/v1/profiles", params={"limit": 3, "cursor": page["next_cursor"]})
    ).json()
    assert len(page["data"]) == 3 and len(rest["data"]) == 1 and not rest["has_more"]


async def test_members_read_but_do_not_write(org: Org):
    created = await make_profile(org)
    assert (await org.get(f"/v1/profiles/{created['id']}", key=org.member_key)).status_code == 200
    for response in (
        await org.post("/v1/profiles", {"name": "x"}, key=org.member_key),
        await org.patch(f"/v1/profiles/{created['id']}", {"name": "y"}, key=org.member_key),
        await org.delete(f"/v1/profiles/{created['id']}", key=org.member_key),
    ):
        assert response.status_code == 403


async def test_another_tenants_profile_is_not_found(org: Org, other_org: Org):
    theirs = await make_profile(other_org)
    for response in (
        await org.get(f"/v1/profiles/{theirs['id']}"),
        await org.patch(f"/v1/profiles/{theirs['id']}", {"name": "x"}),
        await org.delete(f"/v1/profiles/{theirs['id']}"),
        await org.post(f"/v1/profiles/{theirs['id']}/select_sender", {"to": "+14155550123"}),
        await org.post("/v1/api_keys", {"name": "x", "profile_id": theirs["id"]}),
    ):
        assert response.status_code == 404, response.text
    r = await org.get("/v1/profiles")
    assert theirs["id"] not in [p["id"] for p in r.json()["data"]]


async def test_a_profile_scoped_caller_sees_and_changes_only_its_profile(org: Org, client):
    mine = await make_profile(org, name="Mine")
    other = await make_profile(org, name="Other")
    key = (
        await org.post(
            "/v1/api_keys", {"name": "scoped", "role": "admin", "profile_id": mine["id"]}
        )
    ).json()["data"]
    assert key["profile_id"] == mine["id"]
    scoped = {"x-api-key": key["secret"]}
    listed = (await client.get("/v1/profiles", headers=scoped)).json()["data"]
    assert [p["id"] for p in listed] == [mine["id"]]
    assert (
        await client.patch(f"/v1/profiles/{mine['id']}", json={"description": "ok"}, headers=scoped)
    ).status_code == 200
    for response in (
        await client.get(f"/v1/profiles/{other['id']}", headers=scoped),
        await client.patch(f"/v1/profiles/{other['id']}", json={"name": "x"}, headers=scoped),
        await client.post("/v1/profiles", json={"name": "x"}, headers=scoped),
        await client.get("/v1/api_keys", headers=scoped),
        await client.get("/v1/profiles", headers={**scoped, "x-profile-id": other["id"]}),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "profile_scope_forbidden"

    acting = org.headers(**{"X-Profile-Id": other["id"]})
    listed = (await client.get("/v1/profiles", headers=acting)).json()["data"]
    assert [p["id"] for p in listed] == [other["id"]]
    missing = await client.get("/v1/profiles", headers=org.headers(**{"X-Profile-Id": "prof_nope"}))
    assert missing.status_code == 404

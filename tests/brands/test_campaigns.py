import pytest

from tests.brands.test_routes import make_brand
from tests.conftest import Org
from tests.profiles.test_routes import make_profile

SAMPLE = "Acme: your order 1234 has shipped. Reply STOP to opt out."


def content(**fields: object) -> dict:
    return {
        "name": "Order updates",
        "description": "Shipping and delivery notifications for orders placed at acme.example.",
        "use_cases": [{"use_case": "DELIVERY_NOTIFICATION", "sample_messages": [SAMPLE]}],
        "message_flow": "Customers tick an opt-in box at checkout on acme.example/checkout.",
        "optout_message": "Acme: you are unsubscribed. Reply STOP again to confirm.",
        **fields,
    }


async def branded_profile(org: Org, **fields: object) -> dict:
    brand = await make_brand(org)
    return await make_profile(org, brand_id=brand["id"], **fields)


async def test_a_campaign_registers_under_the_profiles_brand(org: Org):
    profile = await branded_profile(org)
    r = await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())
    assert r.status_code == 201, r.text
    campaign = r.json()["data"]
    assert campaign["brand_id"] == profile["brand_id"] and campaign["status"] == "draft"
    assert campaign["content"]["optout_keywords"] == "STOP" and not campaign["inherited"]
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['id']}"
    assert (await org.get(base)).json()["data"] == campaign
    replaced = await org.client.put(base, json=content(name="Renamed"), headers=org.headers())
    assert replaced.json()["data"]["content"]["name"] == "Renamed"
    types = [e["type"] for e in (await org.get("/v1/events", params={"limit": 100})).json()["data"]]
    assert "campaign.created" in types and "campaign.updated" in types
    assert (await org.delete(base)).status_code == 200
    assert (await org.get(base)).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"use_cases": []}, "use_cases"),
        (
            {"use_cases": [{"use_case": "MARKETING", "sample_messages": []}]},
            "use_cases.0.sample_messages",
        ),
        (
            {"use_cases": [{"use_case": "MARKETING", "sample_messages": [SAMPLE] * 6}]},
            "use_cases.0.sample_messages",
        ),
        (
            {"use_cases": [{"use_case": "MARKETING", "sample_messages": ["too short"]}]},
            "use_cases.0.sample_messages.0",
        ),
        (
            {"use_cases": [{"use_case": "SPAM", "sample_messages": [SAMPLE]}]},
            "use_cases.0.use_case",
        ),
        ({"description": "Too short."}, "description"),
        ({"message_flow": "Opt in."}, "message_flow"),
        ({"optout_message": "You will hear from us no more, goodbye."}, "optout_message"),
        ({"optout_keywords": "QUIT"}, "optout_keywords"),
        ({"help_keywords": "HELP ME"}, "help_keywords"),
        ({"privacy_policy_link": "nope"}, "privacy_policy_link"),
        ({"volume": -1}, "volume"),
    ],
)
async def test_campaigns_are_validated_as_tcr_would(org: Org, fields, field):
    profile = await branded_profile(org)
    r = await org.post(f"/v1/profiles/{profile['id']}/campaigns", content(**fields))
    assert r.status_code == 400, r.text
    assert any(d["field"] == field for d in r.json()["error"]["details"]), r.json()
    assert (await org.get(f"/v1/profiles/{profile['id']}/campaigns")).json()["data"] == []


async def test_without_a_brand_there_is_no_campaign(org: Org):
    profile = await make_profile(org)
    r = await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())
    assert r.status_code == 422 and r.json()["error"]["code"] == "brand_required"


async def test_inheriting_profiles_use_the_parents_brand_and_see_its_campaigns(org: Org):
    brand = await make_brand(org)
    parent = next(p for p in (await org.get("/v1/profiles")).json()["data"] if p["is_parent"])
    await org.patch(f"/v1/profiles/{parent['id']}", {"brand_id": brand["id"]})
    shared = (await org.post(f"/v1/profiles/{parent['id']}/campaigns", content())).json()["data"]
    child = await make_profile(org, name="Child", inherit_tcr_brand=True, inherit_tcr_campaign=True)
    own = (
        await org.post(f"/v1/profiles/{child['id']}/campaigns", content(name="Child only"))
    ).json()["data"]
    assert own["brand_id"] == brand["id"], "the parent's brand"
    listed = (await org.get(f"/v1/profiles/{child['id']}/campaigns")).json()["data"]
    assert {(c["id"], c["inherited"]) for c in listed} == {(shared["id"], True), (own["id"], False)}
    inherited = f"/v1/profiles/{child['id']}/campaigns/{shared['id']}"
    assert (await org.get(inherited)).json()["data"]["inherited"] is True
    assert (await org.delete(inherited)).status_code == 404, "inherited campaigns are read-only"
    loner = await branded_profile(org)
    assert (await org.get(f"/v1/profiles/{loner['id']}/campaigns")).json()["data"] == []


async def test_another_tenants_campaigns_are_not_found(org: Org, other_org: Org):
    theirs = await branded_profile(other_org)
    campaign = (await other_org.post(f"/v1/profiles/{theirs['id']}/campaigns", content())).json()[
        "data"
    ]
    for response in (
        await org.get(f"/v1/profiles/{theirs['id']}/campaigns"),
        await org.get(f"/v1/profiles/{theirs['id']}/campaigns/{campaign['id']}"),
        await org.post(f"/v1/profiles/{theirs['id']}/campaigns", content()),
    ):
        assert response.status_code == 404
    mine = await branded_profile(org)
    crossed = await org.get(f"/v1/profiles/{mine['id']}/campaigns/{campaign['id']}")
    assert crossed.status_code == 404


async def test_a_campaign_under_review_cannot_be_replaced(org: Org, database):
    from sqlalchemy import update

    from msgprofiles.campaigns.models import campaigns

    profile = await branded_profile(org)
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()["data"]
    async with database.connect() as conn:
        await conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign["id"])
            .values(status="pending_review")
        )
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['id']}"
    r = await org.client.put(base, json=content(name="Too late"), headers=org.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_locked"
    assert (await org.get(base)).json()["data"]["content"]["name"] == "Order updates"

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from msgprofiles.core.time import utcnow
from msgprofiles.jobs.models import jobs
from tests.conftest import Org
from tests.factories import SAMPLE, branded_profile, content, make_brand, make_profile


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


async def submitted_brand_profile(org: Org, worker, **brand_fields: object) -> dict:
    brand = await make_brand(org, **brand_fields)
    assert (await org.post(f"/v1/brands/{brand['id']}/submit")).status_code == 202
    await worker.run_until_idle()
    return await make_profile(org, brand_id=brand["id"])


async def waiting_job(database, org: Org, kind: str) -> dict:
    async with database.connect() as conn:
        row = await conn.fetch_one(
            select(jobs).where(jobs.c.organization_id == org.id, jobs.c.kind == kind)
        )
    assert row is not None
    return dict(row)


async def make_due(database, job_id: str, *, later: bool = False) -> None:
    """Run a job now (skip the wait before a retry), or an hour `later`."""
    run_at = utcnow() + timedelta(hours=1 if later else 0)
    async with database.connect() as conn:
        await conn.execute(update(jobs).where(jobs.c.id == job_id).values(run_at=run_at))


async def test_a_campaign_is_reviewed_by_tcr_once_its_brand_is_registered(
    org: Org, worker, database
):
    profile = await branded_profile(org)
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['data']['id']}"
    early = await org.post(base + "/submit")
    assert early.status_code == 409 and early.json()["error"]["code"] == "brand_not_registered"

    assert (await org.post(f"/v1/brands/{profile['brand_id']}/submit")).status_code == 202
    r = await org.post(base + "/submit")  # the brand is pending: the review waits for it
    assert r.status_code == 202 and r.json()["data"]["status"] == "pending_review"
    assert r.json()["data"]["submitted_at"]
    locked = await org.client.put(base, json=content(), headers=org.headers())
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "campaign_locked"
    assert (await org.post(base + "/submit")).status_code == 409

    registration = await waiting_job(database, org, "brand.register")
    await make_due(database, registration["id"], later=True)  # TCR is slow with the brand
    await worker.run_until_idle()
    job = await waiting_job(database, org, "campaign.register")
    assert job["status"] == "queued" and "waiting for the brand" in job["last_error"]
    await make_due(database, registration["id"])
    await worker.run_until_idle()
    await make_due(database, job["id"])
    await worker.run_until_idle()
    done = (await org.get(base)).json()["data"]
    assert done["status"] == "approved" and done["tcr_campaign_id"].startswith("C")
    types = [e["type"] for e in (await org.get("/v1/events", params={"limit": 100})).json()["data"]]
    assert "campaign.submitted" in types and "campaign.approved" in types


async def test_a_campaign_whose_brand_was_deleted_is_not_approved(org: Org, worker):
    """Deleting a (secondary) brand while one of its campaigns waits for review: the review
    finds no brand, and TCR is not asked to approve a campaign of a brand we no longer have."""
    await make_brand(org)  # the primary one, which cannot be deleted
    profile = await submitted_brand_profile(org, worker)
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['data']['id']}"
    assert (await org.post(base + "/submit")).status_code == 202
    assert (await org.delete(f"/v1/brands/{profile['brand_id']}")).status_code == 200
    await worker.run_until_idle()
    reviewed = (await org.get(base)).json()["data"]
    assert reviewed["status"] == "rejected" and reviewed["tcr_campaign_id"] is None
    assert "deleted" in reviewed["rejection_reason"]


async def test_tcr_rejects_a_campaign_which_can_be_fixed_and_resubmitted(org: Org, worker):
    profile = await submitted_brand_profile(org, worker)
    body = content(description="SANDBOX-REJECT: " + content()["description"])
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", body)).json()["data"]
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['id']}"
    assert (await org.post(base + "/submit")).status_code == 202
    await worker.run_until_idle()
    rejected = (await org.get(base)).json()["data"]
    assert rejected["status"] == "rejected" and rejected["rejection_reason"]
    assert rejected["tcr_campaign_id"] is None
    events = (await org.get("/v1/events", params={"type": "campaign.rejected"})).json()["data"]
    assert events[0]["data"]["id"] == campaign["id"]

    fixed = await org.client.put(base, json=content(), headers=org.headers())
    assert fixed.status_code == 200 and fixed.json()["data"]["status"] == "draft"
    assert fixed.json()["data"]["rejection_reason"] is None
    assert (await org.post(base + "/submit")).status_code == 202
    await worker.run_until_idle()
    assert (await org.get(base)).json()["data"]["status"] == "approved"


async def test_campaigns_of_a_rejected_brand_are_rejected(org: Org, worker):
    profile = await submitted_brand_profile(org, worker, tax_id="999999999")
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['data']['id']}"
    r = await org.post(base + "/submit")
    assert r.status_code == 409 and r.json()["error"]["code"] == "brand_not_registered"


async def test_only_admins_of_the_owner_submit_campaigns(org: Org, other_org: Org, worker):
    profile = await submitted_brand_profile(org, worker)
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()
    base = f"/v1/profiles/{profile['id']}/campaigns/{campaign['data']['id']}/submit"
    assert (await org.post(base, key=org.member_key)).status_code == 403
    assert (await other_org.post(base)).status_code == 404

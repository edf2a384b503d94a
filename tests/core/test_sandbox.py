"""`"sandbox": true` on a write: validated, answered as if done, nothing persisted or sent."""

import pytest
from sqlalchemy import func, select

from msgprofiles.webhooks.models import events
from tests.conftest import Org
from tests.factories import count_profiles, make_profile


async def count_events(database, org: Org) -> int:
    async with database.connect() as conn:
        return await conn.fetch_value(
            select(func.count()).select_from(events).where(events.c.organization_id == org.id)
        )


async def test_a_sandboxed_create_answers_but_keeps_nothing(org: Org, database):
    profiles_before, events_before = (
        await count_profiles(database, org),
        await count_events(database, org),
    )
    r = await org.post("/v1/profiles", {"name": "Trial", "short_name": "TRIAL", "sandbox": True})
    assert r.status_code == 201 and r.headers["Sandbox"] == "true"
    assert r.json()["data"]["name"] == "Trial" and r.json()["data"]["id"].startswith("prof_")
    assert (await org.get(f"/v1/profiles/{r.json()['data']['id']}")).status_code == 404
    assert await count_profiles(database, org) == profiles_before
    assert await count_events(database, org) == events_before
    real = await org.post("/v1/profiles", {"name": "Real", "short_name": "TRIAL"})
    assert real.status_code == 201, "the sandboxed short name was never taken"


async def test_sandboxed_updates_and_deletes_change_nothing(org: Org):
    profile = await make_profile(org, description="Before")
    changed = await org.patch(
        f"/v1/profiles/{profile['id']}", {"description": "After", "sandbox": True}
    )
    assert changed.json()["data"]["description"] == "After"
    assert (await org.get(f"/v1/profiles/{profile['id']}")).json()["data"][
        "description"
    ] == "Before"
    deleted = await org.client.request(
        "DELETE", f"/v1/profiles/{profile['id']}", json={"sandbox": True}, headers=org.headers()
    )
    assert deleted.status_code == 200 and deleted.headers["Sandbox"] == "true"
    assert (await org.get(f"/v1/profiles/{profile['id']}")).status_code == 200


async def test_sandboxed_requests_are_still_validated(org: Org):
    r = await org.post("/v1/profiles", {"name": "", "sandbox": True})
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"
    r = await org.post("/v1/profiles", {"name": "x", "sandbox": "yes"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "sandbox"


@pytest.mark.parametrize("key", ["k" * 256, ""])
async def test_a_sandboxed_request_checks_its_idempotency_key_too(org: Org, key):
    r = await org.post(
        "/v1/profiles", {"name": "Dry run", "sandbox": True}, **{"Idempotency-Key": key}
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_idempotency_key"


async def test_a_sandboxed_key_is_shown_but_never_works(org: Org, client):
    r = await org.post("/v1/api_keys", {"name": "pretend", "sandbox": True})
    assert r.status_code == 201
    secret = r.json()["data"]["secret"]
    assert (await client.get("/v1/organization", headers={"x-api-key": secret})).status_code == 401


async def test_openapi_documents_sandbox_on_writes(client):
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in ("ProfileCreate", "ProfileUpdate", "ApiKeyCreate", "WebhookSubscriptionCreate"):
        assert schemas[name]["properties"]["sandbox"]["type"] == "boolean"

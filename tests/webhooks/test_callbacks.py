"""Status callbacks: a URL given with a brand or campaign submission, or with a number's
change, is told of each later status change of that object — signed with the organization's
callback secret, retried like webhook deliveries, and checked like webhook URLs."""

import json

from standardwebhooks import Webhook

from tests.conftest import Org, Receiver, create_org, drain
from tests.factories import content, make_brand, make_number, make_profile
from tests.webhooks.test_ssrf import guarded as guarded


async def callback_secret(org: Org) -> str:
    r = await org.post("/v1/organization/callback_secret", {})
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["secret"])


def received(receiver: Receiver, secret: str) -> list[dict]:
    """What arrived, each request's signature checked."""
    bodies = []
    for headers, body in receiver.requests:
        Webhook(secret).verify(body, headers)
        bodies.append(json.loads(body))
    return bodies


async def test_a_brand_submission_is_told_of_its_registration(org: Org, receiver, worker):
    secret = await callback_secret(org)
    brand = await make_brand(org)
    r = await org.post(f"/v1/brands/{brand['id']}/submit", {"callback_url": receiver.url})
    assert r.status_code == 202, r.text
    await drain(worker, lambda: len(receiver.requests) >= 2)
    bodies = received(receiver, secret)
    assert [b["type"] for b in bodies] == ["brand.submitted", "brand.verified"]
    assert {b["data"]["id"] for b in bodies} == {brand["id"]}
    assert bodies[1]["data"]["registration_status"] == "registered"

    named = await make_brand(org)
    r = await org.post(f"/v1/brands/{named['id']}/submit", {"registration_alias": "Acme Reg"})
    assert r.json()["data"]["registration_alias"] == "Acme Reg"
    await drain(worker, lambda: True)
    assert len(receiver.requests) == 2, "a submission without a callback_url calls none"


async def test_a_campaign_submission_and_a_number_are_told_too(org: Org, receiver, worker):
    secret = await callback_secret(org)
    brand = await make_brand(org)
    assert (await org.post(f"/v1/brands/{brand['id']}/submit")).status_code == 202
    profile = await make_profile(org, brand_id=brand["id"])
    campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()
    submitted = await org.post(
        f"/v1/profiles/{profile['id']}/campaigns/{campaign['data']['id']}/submit",
        {"callback_url": receiver.url},
    )
    assert submitted.status_code == 202, submitted.text
    await drain(worker, lambda: len(receiver.requests) >= 2)
    assert [b["type"] for b in received(receiver, secret)] == [
        "campaign.submitted",
        "campaign.approved",
    ]

    number = await make_number(org, "+15125550177")
    hooked = await org.patch(f"/v1/numbers/{number['id']}", {"callback_url": receiver.url})
    assert hooked.status_code == 200 and hooked.json()["data"]["profile_id"] is None
    await org.patch(f"/v1/numbers/{number['id']}", {"profile_id": profile["id"]})
    await drain(worker, lambda: len(receiver.requests) >= 3)
    last = received(receiver, secret)[-1]
    assert last["type"] == "number.updated" and last["data"]["profile_id"] == profile["id"]


async def test_a_failing_callback_is_retried(org: Org, receiver, worker):
    receiver.statuses = [500, 503]
    brand = await make_brand(org)
    await org.post(f"/v1/brands/{brand['id']}/submit", {"callback_url": receiver.url})
    await drain(worker, lambda: len(receiver.requests) >= 4)
    types = [json.loads(body)["type"] for _, body in receiver.requests]
    assert types.count("brand.submitted") + types.count("brand.verified") == 4
    assert {"brand.submitted", "brand.verified"} == set(types), "each delivered in the end"


async def test_a_private_callback_url_is_refused_and_changes_nothing(
    guarded,
    operator_key,
):
    _, client = guarded
    org = await create_org(client, operator_key, "Guarded callbacks")
    brand = await make_brand(org)
    r = await org.post(
        f"/v1/brands/{brand['id']}/submit", {"callback_url": "http://127.0.0.1:9/hook"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "webhook_url_not_allowed"
    after = (await org.get(f"/v1/brands/{brand['id']}")).json()["data"]
    assert after["registration_status"] == "not_submitted"


async def test_callbacks_go_in_order_and_one_given_up_does_not_block_the_next(
    org: Org, receiver, worker, settings
):
    attempts = len(settings.webhook_retry_schedule) + 1
    receiver.statuses = [500] * attempts  # the first message fails every time
    brand = await make_brand(org)
    await org.post(f"/v1/brands/{brand['id']}/submit", {"callback_url": receiver.url})
    await drain(worker, lambda: len(receiver.requests) >= attempts + 1)
    types = [json.loads(body)["type"] for _, body in receiver.requests]
    assert types == ["brand.submitted"] * attempts + ["brand.verified"], "in order, then on"

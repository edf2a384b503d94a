"""A profile's own webhook subscriptions: made with a profile-scoped key (or X-Profile-Id, or
`profile_id`), they receive that profile's events only, and only that profile sees them."""

from tests.conftest import Org, Receiver, drain
from tests.factories import branded_profile, content, make_profile


async def profile_key(org: Org, profile_id: str) -> str:
    body = {"name": "scoped", "role": "admin", "profile_id": profile_id}
    return str((await org.post("/v1/api_keys", body)).json()["data"]["secret"])


async def test_a_profiles_subscription_receives_that_profiles_events_only(
    org: Org, receiver: Receiver, worker
):
    mine = await branded_profile(org, name="Mine")
    other = await make_profile(org, name="Other")
    key = await profile_key(org, mine["id"])
    created = await org.post("/v1/webhook_subscriptions", {"url": receiver.url}, key=key)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["profile_id"] == mine["id"]

    await org.patch(f"/v1/profiles/{other['id']}", {"description": "not mine"})
    await org.patch("/v1/organization", {"name": "Not a profile's"})
    await org.patch(f"/v1/profiles/{mine['id']}", {"description": "mine"})
    await org.post(f"/v1/profiles/{mine['id']}/campaigns", content())
    await drain(worker, lambda: len(receiver.requests) >= 2)
    await worker.run_until_idle()
    received = {e["type"]: e["data"] for e in receiver.events()}  # in any order
    assert sorted(received) == ["campaign.created", "profile.updated"]
    assert received["profile.updated"]["id"] == mine["id"]


async def test_only_the_profile_and_its_organization_see_its_subscriptions(
    org: Org, other_org: Org, receiver: Receiver
):
    mine = await make_profile(org, name="Mine")
    other = await make_profile(org, name="Other")
    key = await profile_key(org, mine["id"])
    org_wide = (await org.post("/v1/webhook_subscriptions", {"url": receiver.url})).json()
    by_org = await org.post(
        "/v1/webhook_subscriptions", {"url": receiver.url, "profile_id": other["id"]}
    )
    assert by_org.status_code == 201 and by_org.json()["data"]["profile_id"] == other["id"]
    own = (await org.post("/v1/webhook_subscriptions", {"url": receiver.url}, key=key)).json()

    listed = (await org.get("/v1/webhook_subscriptions", key=key)).json()["data"]
    assert [s["id"] for s in listed] == [own["data"]["id"]]
    everything = (await org.get("/v1/webhook_subscriptions")).json()["data"]
    assert len(everything) == 3
    for subscription in (org_wide, by_org.json()):
        path = f"/v1/webhook_subscriptions/{subscription['data']['id']}"
        assert (await org.get(path, key=key)).status_code == 404
        assert (await org.post(path + "/pause", key=key)).status_code == 404
    acting = await org.post(
        "/v1/webhook_subscriptions", {"url": receiver.url}, **{"X-Profile-Id": mine["id"]}
    )
    assert acting.json()["data"]["profile_id"] == mine["id"]

    stranger = await org.post(
        "/v1/webhook_subscriptions", {"url": receiver.url, "profile_id": other["id"]}, key=key
    )
    assert stranger.status_code == 403
    theirs = await make_profile(other_org)
    foreign = await org.post(
        "/v1/webhook_subscriptions", {"url": receiver.url, "profile_id": theirs["id"]}
    )
    assert foreign.status_code == 404
    assert len((await org.get("/v1/webhook_subscriptions")).json()["data"]) == 4


async def test_a_profile_key_reads_its_profiles_events_only(org: Org):
    mine = await make_profile(org, name="Mine")
    other = await make_profile(org, name="Other")
    key = await profile_key(org, mine["id"])
    await org.patch(f"/v1/profiles/{mine['id']}", {"description": "mine"})
    await org.patch(f"/v1/profiles/{other['id']}", {"description": "theirs"})
    seen = (await org.get("/v1/events", key=key)).json()["data"]
    assert [(e["type"], e["data"]["id"]) for e in seen] == [
        ("profile.updated", mine["id"]),
        ("profile.created", mine["id"]),
    ]
    everything = (await org.get("/v1/events", params={"type": "profile.updated"})).json()
    theirs = next(e for e in everything["data"] if e["data"]["id"] == other["id"])
    assert (await org.get(f"/v1/events/{theirs['id']}", key=key)).status_code == 404
    assert (await org.get(f"/v1/events/{seen[0]['id']}", key=key)).status_code == 200
    redeliver = await org.post(f"/v1/events/{seen[0]['id']}/redeliver", key=key)
    assert redeliver.status_code == 403, "redelivery stays with the organization"


async def test_redelivery_never_sends_a_profile_another_profiles_event(
    org: Org, receiver: Receiver
):
    mine = await make_profile(org, name="Mine")
    other = await make_profile(org, name="Other")
    key = await profile_key(org, mine["id"])
    own = (await org.post("/v1/webhook_subscriptions", {"url": receiver.url}, key=key)).json()
    page = (await org.get("/v1/events", params={"type": "profile.created"})).json()["data"]
    event_of = {e["data"]["id"]: e["id"] for e in page}
    target = {"subscription_id": own["data"]["id"]}
    refused = await org.post(f"/v1/events/{event_of[other['id']]}/redeliver", target)
    assert refused.status_code == 404
    sent = await org.post(f"/v1/events/{event_of[mine['id']]}/redeliver", target)
    assert sent.status_code == 202 and len(sent.json()["data"]) == 1
    to_all = await org.post(f"/v1/events/{event_of[other['id']]}/redeliver")
    assert to_all.json()["data"] == [], "the only subscription is another profile's"

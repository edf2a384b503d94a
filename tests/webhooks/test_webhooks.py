import dataclasses
from datetime import datetime

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook, WebhookVerificationError

from msgprofiles.core.time import utcnow
from msgprofiles.jobs.models import jobs
from msgprofiles.webhooks.events import emit
from msgprofiles.webhooks.models import events, webhook_subscriptions
from tests.conftest import Org, drain
from tests.factories import subscribe


async def deliveries(org: Org, subscription_id: str) -> list[dict]:
    r = await org.get(f"/v1/webhook_subscriptions/{subscription_id}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict:
    return Webhook(secret).verify(body, headers)


async def test_subscriptions_show_their_secret_once_and_store_it_encrypted(
    org: Org, database, receiver
):
    created = await subscribe(org, receiver, description="ops", event_types=["api_key.created"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["status"] == "active"
    fetched = (await org.get(f"/v1/webhook_subscriptions/{created['id']}")).json()["data"]
    assert "secret" not in fetched and fetched["event_types"] == ["api_key.created"]
    listed = (await org.get("/v1/webhook_subscriptions")).json()["data"]
    assert [s["id"] for s in listed] == [created["id"]]
    async with database.connect() as conn:
        stored = await conn.fetch_value(
            select(webhook_subscriptions.c.secret).where(
                webhook_subscriptions.c.organization_id == org.id,
                webhook_subscriptions.c.id == created["id"],
            )
        )
    assert secret not in stored and secret.removeprefix("whsec_") not in stored

    patched = await org.patch(
        f"/v1/webhook_subscriptions/{created['id']}",
        {"description": "renamed", "event_types": None},
    )
    assert patched.json()["data"]["description"] == "renamed"
    assert patched.json()["data"]["event_types"] is None
    assert (await org.delete(f"/v1/webhook_subscriptions/{created['id']}")).status_code == 200
    gone = await org.get(f"/v1/webhook_subscriptions/{created['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "webhook_subscription_not_found"


async def test_a_change_is_delivered_signed_once_and_verifiable(org: Org, receiver, worker):
    subscription = await subscribe(org, receiver)
    key = (await org.post("/v1/api_keys", {"name": "hooked"})).json()["data"]
    await drain(worker, lambda: len(receiver.requests) >= 1)
    headers, body = receiver.requests[0]
    payload = verify(subscription["secret"], headers, body)
    assert payload["type"] == "api_key.created"
    assert payload["data"]["id"] == key["id"] and "secret" not in payload["data"]
    assert key["secret"] not in body.decode()
    assert headers["webhook-id"] == payload["id"] and payload["id"].startswith("evt_")

    listed = (await org.get("/v1/events", params={"type": "api_key.created"})).json()["data"]
    assert listed[0]["id"] == payload["id"]
    event = (await org.get(f"/v1/events/{payload['id']}")).json()["data"]
    assert event["data"] == payload["data"]
    [delivery] = await deliveries(org, subscription["id"])
    assert delivery["status"] == "succeeded" and delivery["event_type"] == "api_key.created"
    assert [a["status_code"] for a in delivery["attempts"]] == [200]
    await worker.run_until_idle()
    assert len(receiver.requests) == 1, "delivered once"


async def test_subscriptions_receive_only_the_types_they_asked_for(org: Org, receiver, worker):
    await subscribe(org, receiver, event_types=["api_key.revoked"])
    key = (await org.post("/v1/api_keys", {"name": "filtered"})).json()["data"]
    await org.patch("/v1/organization", {"name": "Filtered Inc"})
    await org.delete(f"/v1/api_keys/{key['id']}")
    await drain(worker, lambda: len(receiver.requests) >= 1)
    await worker.run_until_idle()
    assert [e["type"] for e in receiver.events()] == ["api_key.revoked"]


async def test_failed_deliveries_are_retried_until_the_receiver_recovers(
    org: Org, receiver, worker
):
    receiver.statuses = [500, 503]
    subscription = await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Retried"})
    await drain(worker, lambda: len(receiver.requests) >= 3)
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1, "every retry carries the same webhook-id"
    [delivery] = await deliveries(org, subscription["id"])
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["next_retry_at"] is not None
    assert delivery["attempts"][0]["error"] == "HTTP 500"


async def test_a_delivery_fails_after_the_last_retry(org: Org, receiver, worker):
    receiver.statuses = [500] * 10
    subscription = await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Doomed"})
    await drain(worker, lambda: len(receiver.requests) >= 4)
    [delivery] = await deliveries(org, subscription["id"])
    await drain(worker, lambda: True)
    [delivery] = await deliveries(org, subscription["id"])
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 4
    assert delivery["attempts"][-1]["next_retry_at"] is None


async def test_rotation_signs_with_both_secrets_during_the_grace_period(org: Org, receiver, worker):
    subscription = await subscribe(org, receiver)
    old = subscription["secret"]
    rotated = await org.post(f"/v1/webhook_subscriptions/{subscription['id']}/rotate_secret")
    new = rotated.json()["data"]["secret"]
    assert new != old and new.startswith("whsec_")
    await org.patch("/v1/organization", {"name": "Rotating"})
    await drain(worker, lambda: len(receiver.requests) >= 1)
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(old, headers, body)["type"] == verify(new, headers, body)["type"]

    await org.post(
        f"/v1/webhook_subscriptions/{subscription['id']}/rotate_secret", {"grace_period_hours": 0}
    )
    await org.patch("/v1/organization", {"name": "Rotated"})
    await drain(worker, lambda: len(receiver.requests) >= 2)
    headers, body = receiver.requests[-1]
    with pytest.raises(WebhookVerificationError):
        verify(new, headers, body)  # the previous secret stopped signing at once


async def test_paused_subscriptions_hold_deliveries_and_resume_sends_them(
    org: Org, receiver, worker
):
    subscription = await subscribe(org, receiver)
    paused = await org.post(f"/v1/webhook_subscriptions/{subscription['id']}/pause")
    assert paused.json()["data"]["status"] == "paused"
    await org.patch("/v1/organization", {"name": "Held 1"})
    await org.patch("/v1/organization", {"name": "Held 2"})
    await worker.run_until_idle()
    assert receiver.requests == []
    assert {d["status"] for d in await deliveries(org, subscription["id"])} == {"held"}
    await org.post(f"/v1/webhook_subscriptions/{subscription['id']}/resume")
    await drain(worker, lambda: len(receiver.requests) >= 2)
    names = sorted(e["data"]["name"] for e in receiver.events())
    assert names == ["Held 1", "Held 2"]


async def test_ping_and_redeliver(org: Org, receiver, worker):
    subscription = await subscribe(org, receiver)
    ping = (await org.post(f"/v1/webhook_subscriptions/{subscription['id']}/test")).json()
    await drain(worker, lambda: len(receiver.requests) >= 1)
    assert receiver.events()[0]["type"] == "ping"
    assert receiver.events()[0]["id"] == ping["data"]["event_id"]
    again = await org.post(
        f"/v1/events/{ping['data']['event_id']}/redeliver", {"subscription_id": subscription["id"]}
    )
    assert again.status_code == 202 and len(again.json()["data"]) == 1
    await drain(worker, lambda: len(receiver.requests) >= 2)
    assert receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]


async def test_a_rolled_back_change_sends_nothing(org: Org, receiver, worker, database):
    await subscribe(org, receiver)
    await worker.run_until_idle()

    async def counts() -> tuple[int, int]:
        async with database.connect() as conn:
            recorded = await conn.fetch_value(
                select(func.count()).select_from(events).where(events.c.organization_id == org.id)
            )
            queued = await conn.fetch_value(
                select(func.count()).select_from(jobs).where(jobs.c.organization_id == org.id)
            )
        return recorded, queued

    before = await counts()
    async with database.connect() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await emit(conn, org.id, "organization.updated", {"name": "never"})
                raise RuntimeError("the change failed")
    assert await counts() == before
    await worker.run_until_idle()
    assert receiver.requests == []


async def test_a_subscription_failing_for_days_is_disabled_and_says_so(
    org: Org, receiver, worker, database
):
    receiver.statuses = [500] * 10
    failing = await subscribe(org, receiver, event_types=["organization.updated"])
    async with database.connect() as conn:
        await conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.organization_id == org.id)
            .values(failing_since=utcnow().replace(year=utcnow().year - 1))
        )
    await org.patch("/v1/organization", {"name": "Unreachable"})
    await drain(worker, lambda: len(receiver.requests) >= 1)
    fetched = (await org.get(f"/v1/webhook_subscriptions/{failing['id']}")).json()["data"]
    assert fetched["status"] == "disabled"
    disabled = (
        await org.get("/v1/events", params={"type": "webhook_subscription.disabled"})
    ).json()["data"]
    assert [e["data"]["id"] for e in disabled] == [failing["id"]]
    await drain(worker, lambda: True)
    [delivery] = await deliveries(org, failing["id"])
    assert delivery["status"] in ("cancelled", "pending", "failed")
    resumed = await org.post(f"/v1/webhook_subscriptions/{failing['id']}/resume")
    assert resumed.json()["data"]["status"] == "active"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "not a url"}, 400, "validation_error"),
        ({"url": "ftp://example.com/x"}, 400, "validation_error"),
        (
            {"url": "https://example.com", "event_types": ["nope.happened"]},
            400,
            "unknown_event_type",
        ),
        ({"url": "https://example.com", "secret": "mine"}, 400, "validation_error"),
    ],
)
async def test_invalid_subscriptions_are_refused(org: Org, body, status, code):
    r = await org.post("/v1/webhook_subscriptions", body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert (await org.get("/v1/webhook_subscriptions")).json()["data"] == []


async def test_another_tenant_sees_none_of_it(org: Org, other_org: Org, receiver, worker):
    subscription = await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Private"})
    event_id = (await org.get("/v1/events")).json()["data"][0]["id"]
    base = f"/v1/webhook_subscriptions/{subscription['id']}"
    for response in (
        await other_org.get(base),
        await other_org.patch(base, {"description": "x"}),
        await other_org.delete(base),
        await other_org.post(base + "/rotate_secret"),
        await other_org.get(base + "/deliveries"),
        await other_org.get(f"/v1/events/{event_id}"),
        await other_org.post(f"/v1/events/{event_id}/redeliver"),
    ):
        assert response.status_code == 404, response.text
    assert event_id not in [e["id"] for e in (await other_org.get("/v1/events")).json()["data"]]
    member = await org.post("/v1/webhook_subscriptions", {"url": receiver.url}, key=org.member_key)
    assert member.status_code == 403


async def test_the_catalogue_lists_every_event_type(org: Org):
    types = {t["type"]: t["description"] for t in (await org.get("/v1/event_types")).json()["data"]}
    for name in (
        "organization.created",
        "organization.updated",
        "api_key.created",
        "api_key.revoked",
        "webhook_subscription.disabled",
        "ping",
    ):
        assert types[name]


async def test_a_receiver_slower_than_the_timeout_counts_as_a_failure(org: Org, receiver, app):
    from msgprofiles.jobs.runner import Worker

    context = app.state.pipeline.runtime
    impatient = Worker(
        dataclasses.replace(
            context, settings=context.settings.model_copy(update={"webhook_timeout_seconds": 0.2})
        )
    )
    receiver.delay = 1.0
    subscription = await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Slow receiver"})
    await impatient.run_until_idle()
    [delivery] = await deliveries(org, subscription["id"])
    assert delivery["status"] == "pending" and delivery["next_attempt_at"]
    assert "Timeout" in delivery["attempts"][0]["error"]


async def test_deleting_a_subscription_cancels_what_it_had_queued(
    org: Org, receiver, worker, database
):
    from msgprofiles.webhooks.models import webhook_deliveries

    subscription = await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Never sent"})
    await org.delete(f"/v1/webhook_subscriptions/{subscription['id']}")
    await worker.run_until_idle()
    assert receiver.requests == []
    async with database.connect() as conn:
        statuses = await conn.fetch_all(
            select(webhook_deliveries.c.status).where(
                webhook_deliveries.c.organization_id == org.id
            )
        )
    assert [r["status"] for r in statuses] == ["cancelled"]


async def test_old_succeeded_jobs_are_purged_and_others_kept(org: Org, receiver, worker, database):
    from datetime import timedelta

    from msgprofiles.jobs.runner import purge_succeeded

    await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Purged later"})
    await drain(worker, lambda: len(receiver.requests) >= 1)
    mine = jobs.c.organization_id == org.id
    async with database.connect() as conn:
        assert await purge_succeeded(conn, timedelta(days=7)) >= 0
        assert await conn.fetch_value(select(func.count()).where(mine)) == 1
        await conn.execute(update(jobs).where(mine).values(updated_at=utcnow() - timedelta(days=8)))
        assert await purge_succeeded(conn, timedelta(days=7)) >= 1
        assert await conn.fetch_value(select(func.count()).where(mine)) == 0


async def test_events_filter_by_time_range_and_page(org: Org):
    for n in range(3):
        await org.patch("/v1/organization", {"name": f"Timed {n}"})
    everything = (await org.get("/v1/events", params={"limit": 100})).json()["data"]
    updates = [e for e in everything if e["type"] == "organization.updated"]
    timed = sorted(
        (e for e in updates if e["data"]["name"].startswith("Timed")), key=lambda e: e["id"]
    )
    assert len(timed) == 3
    middle = timed[1]["created_at"]

    async def listed(**params: str) -> set[str]:
        query = {"type": "organization.updated", "limit": "100", **params}
        return {e["id"] for e in (await org.get("/v1/events", params=query)).json()["data"]}

    after, before = await listed(created_after=middle), await listed(created_before=middle)
    assert after | before == {e["id"] for e in updates} and not after & before
    assert {timed[1]["id"], timed[2]["id"]} <= after
    at, middle_at = datetime.fromisoformat, datetime.fromisoformat(middle)  # times, not text
    assert all(at(e["created_at"]) >= middle_at for e in updates if e["id"] in after)
    assert all(at(e["created_at"]) < middle_at for e in updates if e["id"] in before)
    first = (await org.get("/v1/events", params={"limit": 1})).json()
    second = (
        await org.get("/v1/events", params={"limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert first["has_more"] and first["data"][0]["id"] > second["data"][0]["id"]
    for not_a_date_time in ("yesterday", "0.5", "1764547200", "-1", "1e9"):
        bad = await org.get("/v1/events", params={"created_before": not_a_date_time})
        assert bad.status_code == 400, not_a_date_time
        assert bad.json()["error"]["details"][0]["field"].endswith("created_before")
    spelled = await org.get("/v1/events", params={"created_before": "2030-01-01T00:00:00+02:00"})
    assert spelled.status_code == 200


async def test_a_stopping_worker_hands_back_the_jobs_it_could_not_finish(
    org: Org, receiver, app, database
):
    import asyncio

    from msgprofiles.jobs.runner import Worker

    receiver.delay = 2.0
    await subscribe(org, receiver)
    await org.patch("/v1/organization", {"name": "Interrupted"})
    stop = asyncio.Event()
    worker = Worker(app.state.pipeline.runtime)
    running = asyncio.create_task(worker.run(stop, grace=0.1))
    async with asyncio.timeout(10):
        while not worker._running:  # noqa: ASYNC110 (poll the worker, with a deadline)
            await asyncio.sleep(0.02)
    stop.set()
    await running
    async with database.connect() as conn:
        rows = await conn.fetch_all(
            select(jobs.c.status, jobs.c.locked_by).where(jobs.c.organization_id == org.id)
        )
    assert [(r["status"], r["locked_by"]) for r in rows] == [("queued", None)]


async def test_a_subscription_sets_its_own_retries_and_timeout(org: Org, receiver, worker):
    receiver.statuses = [500] * 10
    subscription = await subscribe(org, receiver, retry_count=1, timeout_seconds=5)
    assert (subscription["retry_count"], subscription["timeout_seconds"]) == (1, 5)
    await org.patch("/v1/organization", {"name": "Twice only"})
    await drain(worker, lambda: len(receiver.requests) >= 2)
    await drain(worker, lambda: True)
    [delivery] = await deliveries(org, subscription["id"])
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 2
    for body in ({"retry_count": 21}, {"timeout_seconds": 0}, {"timeout_seconds": 121}):
        r = await org.patch(f"/v1/webhook_subscriptions/{subscription['id']}", body)
        assert r.status_code == 400, r.text


async def test_a_slow_receiver_is_cut_off_at_the_subscriptions_timeout(org: Org, receiver, worker):
    receiver.delay = 1.5
    subscription = await subscribe(org, receiver, timeout_seconds=1)
    await org.patch("/v1/organization", {"name": "Impatient"})
    await worker.run_until_idle()
    [delivery] = await deliveries(org, subscription["id"])
    assert "Timeout" in delivery["attempts"][0]["error"]


async def test_a_subscription_keeps_its_delivery_health(org: Org, receiver, worker):
    receiver.statuses = [500, 500]
    subscription = await subscribe(org, receiver)
    path = f"/v1/webhook_subscriptions/{subscription['id']}"
    assert subscription["consecutive_failures"] == 0 and subscription["last_attempt_at"] is None
    await org.patch("/v1/organization", {"name": "Flaky"})
    await drain(worker, lambda: len(receiver.requests) >= 2)
    failing = (await org.get(path)).json()["data"]
    assert failing["consecutive_failures"] == 2 and failing["last_success_at"] is None
    assert failing["last_attempt_at"] is not None
    await drain(worker, lambda: len(receiver.requests) >= 3)
    healthy = (await org.get(path)).json()["data"]
    assert healthy["consecutive_failures"] == 0 and healthy["last_success_at"] is not None


async def test_the_sentdm_body_is_a_choice_of_the_subscription(org: Org, receiver, worker):
    subscription = await subscribe(org, receiver, payload_format="sentdm")
    await org.patch("/v1/organization", {"name": "Shaped"})
    await drain(worker, lambda: bool(receiver.requests))
    headers, body = receiver.requests[0]
    envelope = verify(subscription["secret"], headers, body)
    assert (envelope["field"], envelope["event"]) == ("organization", "organization.updated")
    assert (
        envelope["payload"]["name"] == "Shaped" and envelope["request_id"] == headers["webhook-id"]
    )
    assert headers["x-webhook-event-id"] == headers["webhook-id"]
    # Sent.dm's recipe: the same HMAC, over the subscription's id (x-webhook-id).
    assert headers["x-webhook-id"] == subscription["id"]
    sent_headers = {
        "webhook-id": headers["x-webhook-id"],
        "webhook-timestamp": headers["x-webhook-timestamp"],
        "webhook-signature": headers["x-webhook-signature"],
    }
    assert verify(subscription["secret"], sent_headers, body) == envelope
    assert headers["x-webhook-event-type"] == "organization"


async def test_subscriptions_are_searched_by_url_or_description(org: Org, receiver):
    await subscribe(org, receiver, description="Billing team")
    await subscribe(org, receiver, description="Support 100%")
    found = await org.get("/v1/webhook_subscriptions", params={"search": "billing"})
    assert [s["description"] for s in found.json()["data"]] == ["Billing team"]
    literal = await org.get("/v1/webhook_subscriptions", params={"search": "100%"})
    assert [s["description"] for s in literal.json()["data"]] == ["Support 100%"]

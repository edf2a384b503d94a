"""The Sent.dm dialect as Sent's public documentation describes it (spec, "Corrections"):
event names and filters, Sent's signature recipe, its error numbers, idempotency and sandbox
headers, statuses before TCR — through the official SDK where it reaches, else raw HTTP."""

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
import sent_dm
from standardwebhooks import Webhook

from msgprofiles.dialects.sentdm.wire import _CODES
from tests.dialects.sentdm import BRAND, CAMPAIGN, Server
from tests.servers import wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # profiles are deprecated

LISTING = "/dialects/sentdm/v3/webhooks/event-types"


def sent_verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None):
    """A receiver's check, written from Sent's webhook-security page: HMAC-SHA256 over
    `{x-webhook-id}.{x-webhook-timestamp}.{raw body}` with the base64-decoded secret after
    `whsec_`, sent as `v1,<base64>`; timestamps older than 5 minutes are refused."""
    timestamp = int(headers["x-webhook-timestamp"])
    if abs((now or time.time()) - timestamp) > 300:
        raise ValueError("timestamp outside the 5 minute tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['x-webhook-id']}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    if not any(hmac.compare_digest(expected, s) for s in headers["x-webhook-signature"].split()):
        raise ValueError("signature mismatch")
    return json.loads(body)


def sent_error(response: httpx.Response) -> dict:
    body = response.json()
    assert body["success"] is False and body["data"] is None and body["meta"]["version"] == "v3"
    return body["error"]


def test_a_receiver_written_from_sents_docs_verifies_every_delivery(server, receiver):
    client = server.client(max_retries=0)
    hook = client.webhooks.create(
        display_name="Docs",
        endpoint_url=receiver.url,
        event_types=["messages", "profile"],
        event_filters={"profile": ["created"]},
    ).data
    assert hook is not None and hook.signing_secret
    assert hook.event_types == ["messages", "profile"], "echoed as sent"
    assert hook.event_filters == {"profile": ["created"]}

    profile = client.profiles.create(name="Verified").data
    assert profile is not None
    client.profiles.update(profile.id, description="filtered out: profile.updated")
    client.webhooks.test(hook.id, event_type="message.sent")
    wait_for(lambda: len(receiver.requests) >= 2, 30)
    time.sleep(0.5)  # a filtered event would have arrived by now
    assert len(receiver.requests) == 2, "the filter narrowed `profile` to created"

    by_event = {json.loads(body).get("event"): (h, body) for h, body in receiver.requests}
    headers, body = by_event["profile.created"]
    envelope = sent_verify(hook.signing_secret, headers, body)
    assert headers["x-webhook-id"] == hook.id, "the webhook's id, not the event's"
    assert headers["x-webhook-event-type"] == "profile"
    assert envelope["field"] == "profile" and envelope["sub_type"] == "profile.created"
    assert envelope["payload"]["name"] == "Verified"
    assert time.strptime(envelope["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert Webhook(hook.signing_secret).verify(body, headers) == envelope, "and Standard too"

    headers, body = by_event["message.sent"]
    test = sent_verify(hook.signing_secret, headers, body)
    assert headers["x-webhook-event-type"] == "messages", "the family as subscribed"
    assert (test["field"], test["sub_type"], test["test"]) == ("message", "message.sent", True)
    assert test["payload"]["message_status"] == "SENT"

    with pytest.raises(ValueError, match="signature"):
        sent_verify(hook.signing_secret, headers, body.replace(b"SENT", b"READ"))
    stale = int(time.time()) - 400  # correctly signed, but older than 5 minutes
    key = base64.b64decode(hook.signing_secret.removeprefix("whsec_"))
    signature = base64.b64encode(
        hmac.new(key, f"{hook.id}.{stale}.".encode() + body, hashlib.sha256).digest()
    )
    old = {
        **headers,
        "x-webhook-timestamp": str(stale),
        "x-webhook-signature": "v1," + signature.decode(),
    }
    assert sent_verify(hook.signing_secret, old, body, now=stale + 1)["sub_type"] == "message.sent"
    with pytest.raises(ValueError, match="tolerance"):
        sent_verify(hook.signing_secret, old, body)

    logged = {e.event_type: e for e in client.webhooks.list_events(hook.id)}
    assert logged["profile.created"].delivery_status == "delivered"
    assert logged["message.sent"].event_data is not None
    client.webhooks.delete(hook.id)


def test_event_names_and_filters_as_sents_docs_write_them(server, receiver):
    client = server.client(max_retries=0)
    hook = client.webhooks.create(
        display_name="Messages", endpoint_url=receiver.url, event_types=["messages", "templates"]
    ).data
    assert hook is not None and hook.event_types == ["messages", "templates"]
    narrowed = client.webhooks.update(
        hook.id, event_filters={"message": ["delivered", "message.failed"]}
    ).data
    assert narrowed is not None and narrowed.event_types == ["messages", "templates"], "kept"
    assert narrowed.event_filters == {"message": ["delivered", "message.failed"]}
    assert client.webhooks.retrieve(hook.id).data == narrowed

    # Sent's families bring none of msgprofiles' own events.
    client.profiles.create(name="Not for a messages webhook")
    client.webhooks.test(hook.id, event_type="templates")
    wait_for(lambda: bool(receiver.requests), 30)
    time.sleep(0.5)
    assert [json.loads(b)["field"] for _, b in receiver.requests] == ["templates"]
    assert receiver.requests[0][0]["x-webhook-event-type"] == "templates"

    listed = client.webhooks.list_event_types().data
    names = [t.name for t in listed.event_types or []]  # type: ignore[union-attr]
    assert names[:2] == ["messages", "templates"] and "profile" in names
    messages = listed.event_types[0]  # type: ignore[union-attr,index]
    assert "message.delivered" in {s.name for s in messages.sub_types or []}

    for event_types, event_filters, bad in (
        (["messages", "bogus"], None, "bogus"),
        (["messages"], {"message": ["teleported"]}, "teleported"),
        (["message.teleported"], None, "message.teleported"),
    ):
        with pytest.raises(sent_dm.BadRequestError) as unknown:
            client.webhooks.create(
                endpoint_url=receiver.url, event_types=event_types, event_filters=event_filters
            )
        error = unknown.value.body["error"]  # type: ignore[index]
        assert error["code"] == "VALIDATION_006"
        assert bad in error["message"] and LISTING in error["message"]
        assert error["details"] == {"event_types": [f"unknown event type: {bad}"]}
    with pytest.raises(sent_dm.BadRequestError) as unsubscribed:
        client.webhooks.create(
            endpoint_url=receiver.url,
            event_types=["templates"],
            event_filters={"message": ["delivered"]},
        )
    assert unsubscribed.value.body["error"]["code"] == "VALIDATION_001"  # type: ignore[index]
    before = client.webhooks.retrieve(hook.id).data
    with pytest.raises(sent_dm.BadRequestError):
        client.webhooks.update(hook.id, event_types=["templates"])  # its filter names message
    assert client.webhooks.retrieve(hook.id).data == before, "a refused update changes nothing"


def test_retries_and_timeouts_in_sents_ranges(server, receiver):
    client = server.client(max_retries=0)
    hook = client.webhooks.create(endpoint_url=receiver.url, event_types=["messages"]).data
    assert hook is not None and (hook.retry_count, hook.timeout_seconds) == (3, 30)
    longest = client.webhooks.update(hook.id, retry_count=5, timeout_seconds=120).data
    assert longest is not None and (longest.retry_count, longest.timeout_seconds) == (5, 120)
    for field, value in (("retry_count", 0), ("retry_count", 6), ("timeout_seconds", 4)):
        with pytest.raises(sent_dm.BadRequestError) as out:
            client.webhooks.update(hook.id, **{field: value})
        error = out.value.body["error"]  # type: ignore[index]
        assert error["code"] == "VALIDATION_005" and field in error["details"]
    with pytest.raises(sent_dm.BadRequestError) as untyped:
        client.webhooks.test(hook.id)
    error = untyped.value.body["error"]  # type: ignore[index]
    assert error["code"] == "VALIDATION_004" and error["message"] == "Event type is required."


def test_errors_carry_sents_numbers(server: Server):
    base, client = server.base_url, server.client(max_retries=0)
    assert sent_error(httpx.get(f"{base}/v3/profiles"))["code"] == "AUTH_001"
    wrong = httpx.get(f"{base}/v3/profiles", headers={"x-api-key": "mpk_wrong"})
    assert sent_error(wrong)["code"] == "AUTH_002"
    member = server.native("POST", "/v1/api_keys", json={"name": "reader", "role": "member"})
    with pytest.raises(sent_dm.PermissionDeniedError) as role:
        server.client(key=member["data"]["secret"], max_retries=0).profiles.create(name="No")
    assert role.value.body["error"]["code"] == "AUTH_004"  # type: ignore[index]
    with pytest.raises(sent_dm.BadRequestError) as key:
        client.profiles.create(name="Bad key", idempotency_key="not a valid key!")
    assert key.value.body["error"]["code"] == "VALIDATION_007"  # type: ignore[index]

    with pytest.raises(sent_dm.NotFoundError) as profile:
        client.profiles.retrieve("prof_01JNOSUCHPROFILE0000000000")
    assert profile.value.body["error"]["code"] == "RESOURCE_014"  # type: ignore[index]
    with pytest.raises(sent_dm.NotFoundError) as hook:
        client.webhooks.retrieve("whsub_01JNOSUCHWEBHOOK0000000000")
    assert hook.value.body["error"]["code"] == "RESOURCE_008"  # type: ignore[index]
    bare = client.profiles.create(name="Brandless").data
    assert bare is not None
    with pytest.raises(sent_dm.NotFoundError) as brand:
        client.profiles.campaigns.create(bare.id, campaign=CAMPAIGN)  # type: ignore[arg-type]
    assert brand.value.body["error"]["code"] == "RESOURCE_009"  # type: ignore[index]

    headers = {"x-api-key": server.key}
    missing = httpx.post(f"{base}/v3/profiles", json={}, headers=headers)
    assert missing.status_code == 400 and sent_error(missing)["code"] == "VALIDATION_004"
    phone = httpx.patch(
        f"{base}/v3/profiles/{bare.id}", json={"sending_phone_number": "12"}, headers=headers
    )
    assert sent_error(phone)["code"] == "VALIDATION_002"
    enum = httpx.post(
        f"{base}/v3/profiles", json={"name": "x", "billing_model": "nope"}, headers=headers
    )
    assert sent_error(enum)["code"] == "VALIDATION_006"


def test_our_own_conditions_use_numbers_sents_catalogue_leaves_free():
    sents = {
        "VALIDATION_001", "VALIDATION_002", "VALIDATION_006", "VALIDATION_007", "AUTH_001",
        "AUTH_002", "AUTH_004", "RESOURCE_008", "RESOURCE_009", "RESOURCE_014", "CONFLICT_001",
        "BUSINESS_002", "INTERNAL_001",
    }  # fmt: skip
    for ours, theirs in _CODES.items():
        number = int(theirs.rpartition("_")[2])
        assert theirs in sents or number >= 101, f"{ours} took {theirs}, a number of Sent's"


def test_idempotency_and_sandbox_as_sent_documents_them(server: Server):
    url, headers = f"{server.base_url}/v3/profiles", {"x-api-key": server.key}
    first = httpx.post(url, json={"name": "Keyed"}, headers={**headers, "Idempotency-Key": "k-1_A"})
    assert first.status_code == 201
    again = httpx.post(url, json={"name": "Other"}, headers={**headers, "Idempotency-Key": "k-1_A"})
    assert again.status_code == 201 and again.json()["data"] == first.json()["data"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-original-request-id"] == first.json()["meta"]["request_id"]
    names = [p.name for p in server.client().profiles.list().data.profiles or []]  # type: ignore[union-attr]
    assert names.count("Keyed") == 1 and "Other" not in names

    sandboxed = httpx.post(url, json={"name": "Sandboxed", "sandbox": True}, headers=headers)
    assert sandboxed.status_code == 201 and sandboxed.headers["x-sandbox"] == "true"
    names = [p.name for p in server.client().profiles.list().data.profiles or []]  # type: ignore[union-attr]
    assert "Sandboxed" not in names


def test_brands_and_campaigns_read_null_until_submitted(server: Server):
    client = server.client(max_retries=0)
    profile = client.profiles.create(name="Unsubmitted", brand=BRAND).data  # type: ignore[arg-type]
    assert profile is not None and profile.brand is not None
    assert (profile.brand.status, profile.brand.identity_status) == (None, None)
    assert profile.brand.submitted_to_tcr is False
    campaign = client.profiles.campaigns.create(profile.id, campaign=CAMPAIGN).data  # type: ignore[arg-type]
    assert campaign is not None and campaign.status is None
    server.native("POST", f"/v1/brands/{profile.brand.id}/submit")
    submitted = client.profiles.retrieve(profile.id).data
    assert submitted is not None and submitted.brand is not None
    assert submitted.brand.status == "ACTIVE" and submitted.brand.submitted_to_tcr is True


def test_paths_answer_for_themselves_in_sents_shape(server: Server):
    base, headers = server.base_url, {"x-api-key": server.key}
    listing = httpx.options(f"{base}/v3/webhooks/event-types", headers=headers)
    assert listing.status_code == 405 and listing.headers["allow"] == "GET"
    one = httpx.options(f"{base}/v3/webhooks/whsub_x", headers=headers)
    assert one.headers["allow"] == "DELETE, GET, PUT"
    for path in ("", "/", "/v3", "/v3/no/such/path"):
        stray = httpx.get(f"{base}{path}", headers=headers)
        assert stray.status_code == 404 and sent_error(stray)["code"] == "RESOURCE_101", path

    document = httpx.get(f"{base}/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "404"):
                answer = operation["responses"].get(status)
                assert answer, f"{method} {path} documents no {status}"
                schema = answer["content"]["application/json"]["schema"]["$ref"]
                assert schema.endswith("/SentError")

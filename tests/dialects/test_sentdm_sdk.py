"""The official `sentdm` SDK (0.46.0), unchanged, against a real `msgprofiles serve`: only the
base URL and the API key differ from pointing it at Sent.dm."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sent_dm
from sent_dm import AsyncSent, Sent
from sent_dm.types import ProfileDetail, WebhookResponse
from sent_dm.types.profiles import BrandCampaign
from standardwebhooks import Webhook, WebhookVerificationError

from tests.conftest import Receiver
from tests.dialects.sentdm import BRAND, CAMPAIGN, SAMPLE, Server
from tests.factories import brand_body
from tests.servers import wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # profiles are deprecated


def test_the_sdk_is_the_pinned_version():
    assert sent_dm.__version__ == "0.46.0"


def test_a_profile_with_its_brand_campaigns_and_completion(server: Server, receiver: Receiver):
    client = server.client(max_retries=0)
    created = client.profiles.create(
        name="Sales",
        short_name="SALES",
        description="Order updates for Acme's shoppers.",
        brand=BRAND,  # type: ignore[arg-type]
        idempotency_key="create-sales",
    ).data
    assert isinstance(created, ProfileDetail)
    assert created.id and created.status == "incomplete" and created.waba_id == "sandbox-waba"
    brand = created.brand
    assert brand is not None and brand.contact is not None and brand.business is not None
    assert (brand.contact.name, brand.contact.business_name) == ("Ann Lee", "Acme")
    assert brand.contact.phone_country_code == "1" and brand.contact.role == "CEO"
    assert (brand.business.legal_name, brand.business.entity_type) == (
        "Acme Inc.",
        "PRIVATE_PROFIT",
    )
    assert brand.business.tax_id == "123456789" and brand.business.state == "TX"
    assert brand.compliance is not None and brand.compliance.vertical == "TECHNOLOGY"
    assert brand.compliance.destination_countries[0].id == "US"  # type: ignore[index]
    assert brand.compliance.destination_countries[0].is_main is True  # type: ignore[index]
    assert brand.compliance.is_tcr_application is True and brand.submitted_to_tcr is False
    assert brand.created_at is not None and brand.is_inherited is False

    native = server.native("GET", f"/v1/profiles/{created.id}")["data"]
    assert native["brand_id"] == brand.id, "the same profile in the native API"

    updated = client.profiles.update(created.id, sending_phone_number="+15125550142").data
    assert updated is not None and updated.sending_phone_number == "+15125550142"
    assert updated.name == "Sales", "only the fields sent change"
    assert client.profiles.retrieve(created.id).data == updated

    campaign = client.profiles.campaigns.create(created.id, campaign=CAMPAIGN).data  # type: ignore[arg-type]
    assert isinstance(campaign, BrandCampaign)
    assert campaign.brand_id == brand.id
    assert campaign.status is None and campaign.submitted_to_tcr is False, "null until submitted"
    assert campaign.use_cases and campaign.use_cases[0].sample_messages == [SAMPLE]
    assert campaign.optout_keywords == "STOP,QUIT" and campaign.volume == "1999"
    assert campaign.submitted_to_tcr is False and campaign.created_at is not None
    renamed = client.profiles.campaigns.update(
        campaign.id,  # type: ignore[arg-type]
        profile_id=created.id,
        campaign={**CAMPAIGN, "name": "Shipping"},  # type: ignore[arg-type]
    ).data
    assert renamed is not None and renamed.name == "Shipping"
    listed = client.profiles.campaigns.list(created.id).data
    assert [c.id for c in listed or []] == [campaign.id]

    started = client.profiles.complete(created.id, web_hook_url=receiver.url)
    assert started.data is not None and started.data.status == "in_progress"
    secret = started.data.callback_secret  # type: ignore[attr-defined]
    wait_for(lambda: bool(receiver.requests), 30)
    headers, body = receiver.requests[0]
    result = Webhook(secret).verify(body, headers)["data"]
    assert (result["profile_id"], result["success"], result["status"]) == (
        created.id,
        True,
        "submitted",
    )

    done = client.profiles.retrieve(created.id).data
    assert done is not None and done.status == "pending_review"
    assert done.brand is not None and done.brand.submitted_to_tcr is True
    assert done.brand.tcr_brand_id and done.brand.identity_status == "VERIFIED"
    [active] = client.profiles.campaigns.list(created.id).data or []
    assert active.status == "ACTIVE" and active.tcr_campaign_id and active.submitted_to_tcr

    client.profiles.delete(created.id)
    with pytest.raises(sent_dm.NotFoundError) as missing:
        client.profiles.retrieve(created.id)
    assert missing.value.body["error"]["code"] == "RESOURCE_014"  # type: ignore[index]


def test_profiles_list_and_sandbox(server: Server):
    client = server.client(max_retries=0)
    kept = client.profiles.create(name="Kept").data
    dry = client.profiles.create(name="Dry run", sandbox=True).data
    assert dry is not None and dry.id
    listed = client.profiles.list().data
    assert listed is not None and listed.pagination is not None
    ids = [p.id for p in listed.profiles or []]
    assert kept is not None and kept.id in ids and dry.id not in ids
    assert listed.pagination.total_count == len(ids) and listed.pagination.has_more is False


def test_a_list_shows_each_profiles_brand_own_or_inherited(server: Server):
    client = server.client(max_retries=0)
    natives = server.native("GET", "/v1/profiles", params={"limit": 100})["data"]
    parent = next(p for p in natives if p["is_parent"])
    brand = server.native("POST", "/v1/brands", json=brand_body(alias="Parent's"))["data"]
    server.native("PATCH", f"/v1/profiles/{parent['id']}", json={"brand_id": brand["id"]})
    heir = client.profiles.create(name="Heir", inherit_tcr_brand=True).data
    own = client.profiles.create(name="Own brand", brand=BRAND).data  # type: ignore[arg-type]
    bare = client.profiles.create(name="No brand").data
    assert heir is not None and own is not None and own.brand is not None and bare is not None
    listed = {p.id: p for p in client.profiles.list().data.profiles or []}  # type: ignore[union-attr]
    inherited = listed[heir.id].brand
    assert inherited is not None and inherited.id == brand["id"] and inherited.is_inherited
    mine = listed[own.id].brand
    assert mine is not None and mine.id == own.brand.id and mine.is_inherited is False
    assert listed[bare.id].brand is None
    assert listed[heir.id] == client.profiles.retrieve(heir.id).data, "list and read agree"


def test_errors_arrive_as_the_sdks_exceptions(server: Server):
    client = server.client(max_retries=2)
    with pytest.raises(sent_dm.BadRequestError) as bad:
        client.profiles.create(name="Bad", short_name="x!")
    assert bad.value.status_code == 400
    assert "short_name" in bad.value.body["error"]["details"]  # type: ignore[index]

    with pytest.raises(sent_dm.AuthenticationError):
        server.client(key="mpk_wrong").profiles.list()

    profile = client.profiles.create(name="Owner", short_name="OWNER", brand=BRAND).data  # type: ignore[arg-type]
    assert profile is not None and profile.brand is not None
    server.native("POST", f"/v1/brands/{profile.brand.id}/submit")
    with pytest.raises(sent_dm.ConflictError) as locked:
        client.profiles.update(profile.id, brand={**BRAND, "contact": {"name": "Bo Kim"}})  # type: ignore[arg-type]
    response = locked.value.response
    assert response.headers["x-should-retry"] == "false"
    assert response.request.headers["x-stainless-retry-count"] == "0", "not retried"
    assert locked.value.body["error"]["code"] == "CONFLICT_108"  # type: ignore[index]

    with pytest.raises(sent_dm.BadRequestError) as conflict:
        client.profiles.create(name="Both", inherit_tcr_brand=True, brand=BRAND)  # type: ignore[arg-type]
    assert conflict.value.body["error"]["code"] == "VALIDATION_103"  # type: ignore[index]

    bare = client.profiles.create(name="Bare").data
    assert bare is not None
    with pytest.raises(sent_dm.BadRequestError) as unmet:
        client.profiles.complete(bare.id, web_hook_url="https://example.com/hook")
    details = unmet.value.body["error"]["details"]  # type: ignore[index]
    assert {"short_name", "description", "brand_id"} <= set(details)

    once = client.profiles.create(name="Once", idempotency_key="reused-key").data
    again = client.profiles.create(name="Twice", idempotency_key="reused-key").data
    assert again == once, "Sent.dm replays the first answer whatever the body"

    other = server.native("POST", "/v1/organizations", json={"name": "Other tenant"})["data"]
    stranger = server.client(key=other["api_key"]["secret"], max_retries=0)
    with pytest.raises(sent_dm.NotFoundError):
        stranger.profiles.retrieve(profile.id)
    with pytest.raises(sent_dm.PermissionDeniedError):
        client.profiles.retrieve(profile.id, x_profile_id=bare.id)  # scoped to another profile


class LosingProxy:
    """Forwards requests to the server; the first `lose` responses are lost on the way back
    (the connection closes after the server has answered), as on a flaky network."""

    def __init__(self, target: str, lose: int) -> None:
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.request(
                    self.command, target + self.path, headers=headers, content=body
                )
                proxy.forwarded += 1
                if proxy.forwarded <= lose:
                    self.close_connection = True
                    return  # no response at all: the client sees the connection drop
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = relay

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_sdks_own_retries_create_one_profile(server: Server):
    proxy = LosingProxy(server.url, lose=2)
    try:
        client = Sent(api_key=server.key, base_url=f"{proxy.url}/dialects/sentdm", max_retries=2)
        created = client.profiles.create(name="Retried", idempotency_key="retry-1").data
    finally:
        proxy.close()
    assert proxy.forwarded == 3, "two answers lost, the SDK retried twice"
    assert created is not None and created.name == "Retried"
    names = [p.name for p in server.client().profiles.list().data.profiles or []]  # type: ignore[union-attr]
    assert names.count("Retried") == 1, "three requests reached the server, one profile exists"


def test_webhooks_are_managed_and_their_deliveries_verify(server: Server, receiver: Receiver):
    client = server.client(max_retries=0)
    created = client.webhooks.create(
        display_name="Profiles",
        endpoint_url=receiver.url,
        event_types=["profile.created"],
        retry_count=2,
        timeout_seconds=5,
    ).data
    assert isinstance(created, WebhookResponse) and created.id
    secret = created.signing_secret
    assert secret and secret.startswith("whsec_") and created.is_active is True
    assert created.event_types == ["profile.created"] and created.event_filters == {}
    assert (created.retry_count, created.timeout_seconds) == (2, 5)
    fetched = client.webhooks.retrieve(created.id).data
    assert fetched is not None and fetched.signing_secret is None, "shown once"
    assert fetched.display_name == "Profiles"

    client.profiles.create(name="Watched")
    wait_for(lambda: bool(receiver.requests), 30)
    headers, body = receiver.requests[0]
    envelope = Webhook(secret).verify(body, headers)
    assert (envelope["field"], envelope["event"]) == ("profile", "profile.created")
    assert envelope["payload"]["name"] == "Watched"
    assert headers["x-webhook-event-id"] == headers["webhook-id"]
    assert headers["x-webhook-id"] == created.id

    events = list(client.webhooks.list_events(created.id, page_size=1))
    assert events and events[0].event_type == "profile.created"
    assert events[0].delivery_status == "delivered" and events[0].http_status_code == 200
    assert events[0].event_data is not None and events[0].event_data.field == "profile"

    renamed = client.webhooks.update(created.id, display_name="Renamed").data
    assert renamed is not None and renamed.display_name == "Renamed"
    assert renamed.endpoint_url == receiver.url, "only the keys sent change"

    rotated = client.webhooks.rotate_secret(created.id).data
    assert rotated is not None and rotated.signing_secret != secret
    tested = client.webhooks.test(created.id, event_type="message.delivered").data
    assert tested is not None and tested.success is True
    wait_for(lambda: len(receiver.requests) >= 2, 30)
    headers, body = receiver.requests[1]
    assert json.loads(body)["event"] == "message.delivered" and json.loads(body)["test"] is True
    pings = client.webhooks.list_events(created.id, search="ping")
    assert [e.event_type for e in pings] == ["message.delivered"]
    Webhook(rotated.signing_secret).verify(body, headers)  # type: ignore[arg-type]
    with pytest.raises(WebhookVerificationError):  # the old secret is retired at once
        Webhook(secret).verify(body, headers)

    off = client.webhooks.toggle_status(created.id, is_active=False).data
    assert off is not None and off.is_active is False
    flipped = client.webhooks.toggle_status(created.id).data
    assert flipped is not None and flipped.is_active is True

    types = client.webhooks.list_event_types().data
    families = {t.name: t for t in types.event_types or []}  # type: ignore[union-attr]
    assert "profile.created" in {s.name for s in families["profile"].sub_types or []}

    for n in range(3):
        client.webhooks.create(display_name=f"extra {n}", endpoint_url=receiver.url)
    listed = list(client.webhooks.list(page_size=2))
    assert len({w.id for w in listed}) == len(listed) >= 4, "auto-pagination reads every page"
    assert [w.id for w in client.webhooks.list(search="Renamed")] == [created.id]

    client.webhooks.delete(created.id)
    with pytest.raises(sent_dm.NotFoundError):
        client.webhooks.retrieve(created.id)
    native = server.native("GET", "/v1/webhook_subscriptions")["data"]
    assert created.id not in {s["id"] for s in native}


def test_a_profiles_own_webhooks_through_x_profile_id(server: Server, receiver: Receiver):
    client = server.client(max_retries=0)
    mine = client.profiles.create(name="Hooked").data
    other = client.profiles.create(name="Unhooked").data
    assert mine is not None and other is not None
    hook = client.webhooks.create(
        display_name="Mine",
        endpoint_url=receiver.url,
        event_types=["profile.updated"],
        x_profile_id=mine.id,
    ).data
    assert hook is not None and hook.customer_id == mine.id, "the profile owns it"
    assert [w.id for w in client.webhooks.list(x_profile_id=mine.id)] == [hook.id]

    client.profiles.update(other.id, description="not theirs")
    client.profiles.update(mine.id, description="theirs")
    wait_for(lambda: bool(receiver.requests), 30)
    headers, body = receiver.requests[0]
    envelope = Webhook(hook.signing_secret).verify(body, headers)  # type: ignore[arg-type]
    assert envelope["payload"]["id"] == mine.id, "the other profile's change is not sent"
    with pytest.raises(sent_dm.NotFoundError):  # another profile does not see it
        client.webhooks.retrieve(hook.id, x_profile_id=other.id)
    client.webhooks.delete(hook.id)


async def test_the_async_client_makes_the_same_calls(server: Server):
    async with AsyncSent(api_key=server.key, base_url=server.base_url, max_retries=0) as client:
        created = (await client.profiles.create(name="Async", brand=BRAND)).data  # type: ignore[arg-type]
        assert created is not None and created.brand is not None
        fetched = (await client.profiles.retrieve(created.id)).data
        assert fetched == created
        campaign = (
            await client.profiles.campaigns.create(created.id, campaign=CAMPAIGN)  # type: ignore[arg-type]
        ).data
        assert campaign is not None and campaign.brand_id == created.brand.id
        hooks = [w async for w in client.webhooks.list(page_size=1)]
        assert all(isinstance(w, WebhookResponse) for w in hooks)
        await client.profiles.campaigns.delete(campaign.id, profile_id=created.id)  # type: ignore[arg-type]
        assert (await client.profiles.campaigns.list(created.id)).data == []
        await client.profiles.delete(created.id)
        with pytest.raises(sent_dm.NotFoundError):
            await client.profiles.retrieve(created.id)


def test_deliveries_of_native_subscriptions_keep_the_standard_body(server: Server, receiver):
    subscription = server.native(
        "POST",
        "/v1/webhook_subscriptions",
        json={"url": receiver.url, "event_types": ["profile.created"]},
    )["data"]
    server.client().profiles.create(name="Native watch")
    wait_for(lambda: bool(receiver.requests), 30)
    headers, body = receiver.requests[0]
    event = Webhook(subscription["secret"]).verify(body, headers)
    assert event["type"] == "profile.created" and event["data"]["name"] == "Native watch"
    server.native("DELETE", f"/v1/webhook_subscriptions/{subscription['id']}")


def test_the_sdks_environment_variables_are_enough(server: Server, monkeypatch):
    monkeypatch.setenv("SENT_BASE_URL", server.base_url)
    monkeypatch.setenv("SENT_DM_API_KEY", server.key)
    listed = Sent(max_retries=0).profiles.list().data
    assert listed is not None and listed.profiles

"""The official `plivo` SDK (4.63.0), unchanged, against a real `msgprofiles serve`: only the
base URL (the SDK's module global) and the credentials differ from pointing it at Plivo.
The tenant has no WhatsApp account: its campaigns' profiles are SMS only."""

import importlib.metadata
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import plivo
import plivo.rest.client
import pytest
from plivo import exceptions
from standardwebhooks import Webhook

from tests.conftest import Receiver
from tests.servers import FAST_RETRIES, live_server, tenant_keys, wait_for

AUTH_ID = "MAXXXXXXXXXXXXXXXXXX"

# The seed's own example (../shared/seeds/002…): a phone without `+`, a website without a
# scheme, a seniority Plivo's enum does not have.
SEED_PROFILE = {
    "profile_alias": "John Doe Inc",
    "customer_type": "DIRECT",
    "entity_type": "PRIVATE",
    "company_name": "ABC Inc.",
    "ein": "123456789",
    "ein_issuing_country": "US",
    "stock_symbol": "ABC",
    "stock_exchange": "NASDAQ",
    "website": "www.example.com",
    "vertical": "ENERGY",
    "alt_business_id": "",
    "alt_business_id_type": "NONE",
    "address": {
        "street": "123",
        "city": "New York",
        "state": "NY",
        "postal_code": "10001",
        "country": "US",
    },
    "authorized_contact": {
        "first_name": "John",
        "last_name": "Doe",
        "email": "john@example.com",
        "title": "Doe",
        "seniority": "admin",
        "phone": "14155552671",
    },
}
SAMPLES = {
    "sample1": "ABC: your order 1234 has shipped. Reply STOP to opt out.",
    "sample2": "ABC: your order 1234 was delivered. Reply HELP for help.",
}
CAMPAIGN = {
    "vertical": "ENERGY",
    "usecase": "MIXED",
    "sub_usecases": ["2FA", "DELIVERY_NOTIFICATION"],
    "description": "Order shipping notices and login codes for ABC's online shop customers.",
    "message_flow": "Customers tick an opt-in box at checkout on example.com/checkout.",
    "help_message": "ABC: reply STOP to opt out; help at example.com/help.",
    "optout_message": "ABC: you are unsubscribed. Reply STOP again to confirm.",
    "optout_keywords": "STOP,QUIT",
    "subscriber_optin": True,
    "subscriber_optout": True,
    "subscriber_help": True,
    **SAMPLES,
}


@dataclass
class Tenant:
    url: str
    key: str
    member_key: str
    other_key: str

    def client(self, key: str | None = None, auth_id: str = AUTH_ID) -> plivo.RestClient:
        return plivo.RestClient(auth_id, key or self.key)

    def native(self, method: str, path: str, key: str | None = None, **kw: object) -> dict:
        headers = {"x-api-key": key or self.key}
        response = httpx.request(method, f"{self.url}{path}", headers=headers, **kw)  # type: ignore[arg-type]
        assert response.is_success, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    with live_server(tmp_path_factory.mktemp("plivo"), FAST_RETRIES) as (url, operator_key):
        admin, member = tenant_keys(url, operator_key, "ABC")
        other, _ = tenant_keys(url, operator_key, "Other")
        original = plivo.rest.client.PLIVO_API_BASE_URI
        plivo.rest.client.PLIVO_API_BASE_URI = f"{url}/dialects/plivo/v1/Account"
        try:
            yield Tenant(url, admin, member, other)
        finally:
            plivo.rest.client.PLIVO_API_BASE_URI = original


def _profile(client: plivo.RestClient, **fields: object) -> str:
    created = client.profile.create(**{**SEED_PROFILE, **fields})
    assert created.message == "Profile created successfully."
    return str(created.profile_uuid)


def _brand(client: plivo.RestClient, tenant: Tenant, **fields: object) -> str:
    """A profile registered as a brand, once TCR has answered."""
    profile_uuid = _profile(client, **fields)
    created = client.brand.create(
        brand_alias="ABC", brand_type="STANDARD", profile_uuid=profile_uuid
    )
    wait_for(lambda: client.brand.get(created.brand_id).brand.registration_status != "PROCESSING")
    return str(created.brand_id)


def test_the_sdk_is_the_pinned_version():
    assert importlib.metadata.version("plivo") == "4.63.0"


def test_profiles_as_the_seed_writes_them(tenant: Tenant):
    client = tenant.client()
    first = _profile(client)
    found = client.profile.get(first).profile
    assert found.profile_uuid == first and found.profile_type == "PRIMARY"
    assert found.primary_profile == first
    assert (found.company_name, found.ein, found.vertical) == ("ABC Inc.", "123456789", "ENERGY")
    assert found.website == "https://www.example.com/"
    assert found.authorized_contact.phone == "14155552671"
    assert found.authorized_contact.seniority == "OTHER"
    assert found.address.state == "NY" and found.alt_business_id_type == "NONE"
    assert found.alt_business_id == "" and found.plivo_subaccount == ""

    native = tenant.native("GET", "/v1/brands")["data"]
    [record] = [b for b in native if b["legal_name"] == "ABC Inc."]
    assert record["type"] == "PRIMARY" and record["authorized_contact"]["phone"] == "+14155552671"
    assert record["tax_id_type"] == "us_ein", "the same record as /v1/brands"

    second = _profile(client, profile_alias="Second", plivo_subaccount="SAXXXXXXXXXXXXXXXXXX")
    updated = client.profile.update(second, {"company_name": "ABC Two", "website": "abc.example"})
    assert updated.profile.company_name == "ABC Two" and updated.profile.profile_alias == "Second"
    assert updated.profile.website == "https://abc.example/"
    assert updated.profile.profile_type == "SECONDARY" and updated.profile.primary_profile == first
    assert updated.profile.plivo_subaccount == "SAXXXXXXXXXXXXXXXXXX", "kept and echoed"
    client.brand.create(
        brand_alias="Two", brand_type="STANDARD", profile_uuid=second, secondary_vetting=True
    )
    assert client.brand.get(second).brand.secondary_vetting is True
    client.profile.update(second, {"plivo_subaccount": "SAYYYYYYYYYYYYYYYYYY"})
    assert client.brand.get(second).brand.secondary_vetting is True, "kept key by key"
    assert client.profile.get(second).profile.plivo_subaccount == "SAYYYYYYYYYYYYYYYYYY"
    assert client.profile.get(second).profile.ein == "123456789", "only what was sent changes"

    assert client.profile.delete(second).message == "Profile deleted successfully."
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.profile.get(second)
    with pytest.raises(exceptions.ValidationError, match="primary"):
        client.profile.delete(first)
    assert client.profile.get(first).profile.profile_uuid == first, "the primary one stays"


def test_profile_pages_count_and_link(tenant: Tenant):
    client = tenant.client(tenant.other_key)
    made = [_profile(client, profile_alias=f"P{i}") for i in range(3)]
    first = client.profile.list(limit=2)
    assert [p.profile_uuid for p in first.profiles] == made[::-1][:2], "newest first"
    assert first.meta.total_count == 3 and first.meta.previous is None
    assert first.meta.next == f"/dialects/plivo/v1/Account/{AUTH_ID}/Profile/?limit=2&offset=2"
    last = client.profile.list(limit=2, offset=2)
    assert [p.profile_uuid for p in last.profiles] == [made[0]]
    assert last.meta.next is None
    assert last.meta.previous == f"/dialects/plivo/v1/Account/{AUTH_ID}/Profile/?limit=2&offset=0"
    following = httpx.get(tenant.url + first.meta.next, auth=(AUTH_ID, tenant.other_key)).json()
    assert [p["profile_uuid"] for p in following["profiles"]] == [made[0]], "the link works"
    with pytest.raises(exceptions.ValidationError, match="limit"):
        client.profile.list(limit=21)


def test_refusals_raise_the_sdk_exceptions(tenant: Tenant):
    client = tenant.client()
    with pytest.raises(exceptions.ValidationError, match="address"):
        client.profile.create(**{**SEED_PROFILE, "address": {}})
    with pytest.raises(exceptions.ValidationError, match="entity_type"):
        client.profile.create(**{**SEED_PROFILE, "entity_type": "PRIVATE_PROFIT"})
    with pytest.raises(exceptions.ValidationError, match="customer_type"):
        client.profile.update(_profile(client), {"customer_type": "RESELLER"})
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.profile.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.profile.get("not-a-uuid")
    with pytest.raises(exceptions.AuthenticationError):
        tenant.client("mpk_wrong").profile.list()
    with pytest.raises(exceptions.ForbiddenError):
        tenant.client(tenant.member_key).profile.list()
    mismatch = httpx.get(
        f"{tenant.url}/dialects/plivo/v1/Account/SAYYYYYYYYYYYYYYYYYY/Profile/",
        auth=(AUTH_ID, tenant.key),
    )
    assert mismatch.status_code == 401, "the path's auth id is the username's"
    body = mismatch.json()
    assert set(body) == {"api_id", "error"} and isinstance(body["error"], str)
    assert mismatch.headers["x-should-retry"] == "false"
    with pytest.raises(exceptions.InvalidRequestError):  # a 409: not the SDK's ValidationError
        client.brand.delete(_brand(client, tenant))
    with pytest.raises(exceptions.ValidationError, match="STANDARD"):
        client.brand.create(
            brand_alias="Solo",
            brand_type="STANDARD",
            profile_uuid=_profile(client, entity_type="INDIVIDUAL", ein=""),
        )


def test_brands_register_with_callbacks(tenant: Tenant, receiver: Receiver):
    client = tenant.client()
    secret = tenant.native("POST", "/v1/organization/callback_secret")["data"]["secret"]
    profile_uuid = _profile(client)
    created = client.brand.create(
        brand_alias="ABC Brand", brand_type="STANDARD", profile_uuid=profile_uuid, url=receiver.url
    )
    assert created.brand_id == profile_uuid and "being processed" in created.message
    wait_for(lambda: client.brand.get(profile_uuid).brand.registration_status == "COMPLETED")
    brand = client.brand.get(profile_uuid).brand
    assert (brand.brand_alias, brand.brand_type, brand.profile_uuid) == (
        "ABC Brand",
        "STANDARD",
        profile_uuid,
    )
    assert brand.identity_status == "VERIFIED" and brand.failure_reason == ""
    with pytest.raises(exceptions.InvalidRequestError):
        client.brand.create(brand_alias="Again", brand_type="STANDARD", profile_uuid=profile_uuid)

    wait_for(lambda: len(receiver.requests) == 2)
    statuses = []
    for headers, body in receiver.requests:
        Webhook(secret).verify(body, headers)  # signed with the organization's secret
        sent = json.loads(body)
        assert sent["brand_id"] == profile_uuid
        statuses.append(sent["registration_status"])
    assert statuses == ["PROCESSING", "COMPLETED"]

    failed_uuid = _profile(client, ein="999999999")
    client.brand.create(brand_alias="Rejected", brand_type="STANDARD", profile_uuid=failed_uuid)
    wait_for(lambda: client.brand.get(failed_uuid).brand.registration_status == "FAILED")
    assert "tax id" in client.brand.get(failed_uuid).brand.failure_reason

    failed = client.brand.list(status="FAILED")
    assert [b.brand_id for b in failed.brands] == [failed_uuid]
    documented = client.brand.list(type="STANDARD", limit=1, offset=0)
    assert documented.meta.total_count >= 2 and len(documented.brands) == 1
    by_docs_name = httpx.get(
        f"{tenant.url}/dialects/plivo/v1/Account/{AUTH_ID}/10dlc/Brand/",
        params={"registration_status": "FAILED"},
        auth=(AUTH_ID, tenant.key),
    ).json()
    assert [b["brand_id"] for b in by_docs_name["brands"]] == [failed_uuid]
    never = _profile(client)
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.brand.get(never)

    use_cases = client.brand.get_usecases(profile_uuid)
    codes = [u.code for u in use_cases.use_cases]
    assert "MIXED" in codes and "2FA" in codes and "STARTER" not in codes


def test_campaigns_and_number_links(tenant: Tenant, receiver: Receiver):
    client = tenant.client()
    brand_id = _brand(client, tenant)
    numbers = ["+12125557778", "+12125557779"]
    for number in numbers:
        tenant.native("POST", "/v1/numbers", json={"number": number, "type": "long_code"})

    with pytest.raises(exceptions.ValidationError, match="sample"):
        client.campaign.create(brand_id=brand_id, **{**CAMPAIGN, "sample2": ""})
    with pytest.raises(exceptions.ValidationError, match="subscriber_optin"):
        client.campaign.create(brand_id=brand_id, **{**CAMPAIGN, "subscriber_optin": False})

    created = client.campaign.create(
        brand_id=brand_id, campaign_alias="Orders", url=receiver.url, **CAMPAIGN
    )
    campaign_id = created.campaign_id
    wait_for(lambda: client.campaign.get(campaign_id).campaign.registration_status == "ACTIVE")
    campaign = client.campaign.get(campaign_id).campaign
    assert (campaign.brand_id, campaign.campaign_alias, campaign.usecase) == (
        brand_id,
        "Orders",
        "MIXED",
    )
    assert campaign.sub_usecases == ["2FA", "DELIVERY_NOTIFICATION"]
    assert campaign.sample1 == SAMPLES["sample1"] and campaign.vertical == "ENERGY"
    assert campaign.campaign_attributes.subscriber_optin is True
    assert campaign.optout_keywords == "STOP,QUIT"
    wait_for(lambda: len(receiver.requests) == 2)
    assert [json.loads(b)["registration_status"] for _, b in receiver.requests] == [
        "PROCESSING",
        "ACTIVE",
    ]

    linked = client.campaign.number_link(
        campaign_id, numbers=["12125557778", "+12125557779"], url=receiver.url
    )
    assert "being processed" in linked.message
    listed = client.campaign.get_numbers(campaign_id)
    assert sorted(n.number for n in listed.phone_numbers) == ["12125557778", "12125557779"]
    assert {n.status for n in listed.phone_numbers} == {"COMPLETED"}
    assert client.campaign.get_number(campaign_id, "12125557778").phone_numbers[0].number == (
        "12125557778"
    )
    native = {n["number"]: n["profile_id"] for n in tenant.native("GET", "/v1/numbers")["data"]}
    owner = native["+12125557778"]
    assert owner and native["+12125557779"] == owner, "assigned to the campaign's profile"
    profile = tenant.native("GET", f"/v1/profiles/{owner}")["data"]
    assert profile["name"] == "Orders" and profile["waba_id"] is None, "its own, SMS only"
    wait_for(lambda: len(receiver.requests) == 4)
    link_calls = [json.loads(b) for _, b in receiver.requests[2:]]
    assert {c["number"] for c in link_calls} == {"12125557778", "12125557779"}
    assert {(c["campaign_id"], c["request"]) for c in link_calls} == {(campaign_id, "LINK")}

    unlinked = client.campaign.number_unlink(campaign_id, "12125557779")
    assert "being processed" in unlinked.message
    native = {n["number"]: n["profile_id"] for n in tenant.native("GET", "/v1/numbers")["data"]}
    assert native["+12125557779"] is None and native["+12125557778"] == owner
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.campaign.get_number(campaign_id, "12125557779")
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.campaign.number_link(campaign_id, numbers=["12125550000"])

    listed = client.campaign.list(brand_id=brand_id, registration_status="ACTIVE", usecase="MIXED")
    assert [c.campaign_id for c in listed.campaigns] == [campaign_id]
    assert listed.meta.total_count == 1

    deleted = client.campaign.delete(campaign_id)
    assert deleted.message == "Campaign Deactivated"
    assert client.campaign.get(campaign_id).campaign.registration_status == "EXPIRED"
    assert client.campaign.get_numbers(campaign_id).phone_numbers == []
    native = {n["number"]: n["profile_id"] for n in tenant.native("GET", "/v1/numbers")["data"]}
    assert native["+12125557778"] is None, "a deactivated campaign's numbers are freed"
    expired = client.campaign.list(registration_status="Expired")
    assert [c.campaign_id for c in expired.campaigns] == [campaign_id]


def test_a_failed_campaign_is_fixed_and_resubmitted(tenant: Tenant):
    client = tenant.client()
    brand_id = _brand(client, tenant)
    rejected = {**CAMPAIGN, "description": CAMPAIGN["description"] + " SANDBOX-REJECT"}
    campaign_id = client.campaign.create(
        brand_id=brand_id, campaign_alias="Fixed", embedded_link=True, **rejected
    ).campaign_id
    wait_for(lambda: client.campaign.get(campaign_id).campaign.registration_status == "FAILED")
    assert client.campaign.get(campaign_id).campaign.failure_reason
    with pytest.raises(exceptions.InvalidRequestError):
        client.campaign.number_link(campaign_id, numbers=["12125557778"])

    updated = client.campaign.update(campaign_id, description=CAMPAIGN["description"])
    assert updated.campaign.registration_status == "PROCESSING"
    assert updated.campaign.sample2 == SAMPLES["sample2"], "blanks keep the current text"
    assert updated.campaign.campaign_attributes.embedded_link is True
    assert updated.campaign.campaign_alias == "Fixed" and updated.campaign.vertical == "ENERGY"
    wait_for(lambda: client.campaign.get(campaign_id).campaign.registration_status == "ACTIVE")
    with pytest.raises(exceptions.InvalidRequestError):
        client.campaign.update(campaign_id, description=CAMPAIGN["description"])
    with pytest.raises(exceptions.ValidationError):
        client.campaign.import_campaign(campaign_id="CX00000", campaign_alias="Shared")


def test_another_tenants_objects_are_not_found(tenant: Tenant):
    client = tenant.client()
    brand_id = _brand(client, tenant)
    campaign_id = client.campaign.create(brand_id=brand_id, **CAMPAIGN).campaign_id
    stranger = tenant.client(tenant.other_key)
    for call in (
        lambda: stranger.profile.get(brand_id),
        lambda: stranger.profile.update(brand_id, {"company_name": "Mine"}),
        lambda: stranger.profile.delete(brand_id),
        lambda: stranger.brand.get(brand_id),
        lambda: stranger.brand.get_usecases(brand_id),
        lambda: stranger.campaign.get(campaign_id),
        lambda: stranger.campaign.delete(campaign_id),
        lambda: stranger.campaign.get_numbers(campaign_id),
        lambda: stranger.campaign.create(brand_id=brand_id, **CAMPAIGN),
    ):
        with pytest.raises(exceptions.ResourceNotFoundError):
            call()
    assert client.profile.get(brand_id).profile.company_name == "ABC Inc.", "unchanged"
    assert stranger.campaign.list(brand_id=brand_id).campaigns == []

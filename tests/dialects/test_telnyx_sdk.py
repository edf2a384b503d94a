"""The official `telnyx` SDK (4.189.0), unchanged, against a real `msgprofiles serve`, with its
strict response validation on: only the base URL and the API key differ from Telnyx's. The
tenant has no WhatsApp account: its messaging profiles are SMS only."""

import importlib.metadata
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import telnyx

from msgprofiles.core.errors import ErrorCode
from msgprofiles.dialects.toolkit import from_uuid, to_uuid
from tests.servers import FAST_RETRIES, live_server, tenant_keys


@dataclass
class Tenant:
    url: str
    key: str
    member_key: str
    other_key: str

    def client(self, key: str | None = None) -> telnyx.Telnyx:
        return telnyx.Telnyx(
            api_key=key or self.key,
            base_url=f"{self.url}/dialects/telnyx/v2",
            max_retries=0,
            _strict_response_validation=True,
        )

    def native(self, method: str, path: str, **kw: object) -> dict:
        response = httpx.request(
            method,
            f"{self.url}{path}",
            headers={"x-api-key": self.key},
            **kw,  # type: ignore[arg-type]
        )
        assert response.is_success, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    with live_server(tmp_path_factory.mktemp("telnyx"), FAST_RETRIES) as (url, operator_key):
        admin, member = tenant_keys(url, operator_key, "Telnyx user")
        other, _ = tenant_keys(url, operator_key, "Other")
        yield Tenant(url, admin, member, other)


def native_id(uuid: str) -> str:
    """The native profile id a Telnyx id stands for (the same 128 bits)."""

    return from_uuid("prof", uuid, ErrorCode.profile_not_found, "profile")


def test_the_sdk_is_the_pinned_version():
    assert importlib.metadata.version("telnyx") == "4.189.0"


def test_a_profile_round_trips_through_the_sdk(tenant: Tenant):
    client = tenant.client()
    created = client.messaging_profiles.create(
        name="Alerts",
        whitelisted_destinations=["US", "ca"],
        webhook_url="https://hooks.example.com/telnyx",
        number_pool_settings={
            "long_code_weight": 3.0,
            "toll_free_weight": 1,
            "skip_unhealthy": True,
            "sticky_sender": True,
        },
        alpha_sender="ACME",
        daily_spend_limit="269.00",
        daily_spend_limit_enabled=True,
        url_shortener_settings={"domain": "acme.link", "prefix": "go"},
        mms_fall_back_to_sms=True,
        smart_encoding=True,
        webhook_api_version="2010-04-01",
        features={"ai_opt_out_detection_enabled": True},
    ).data
    assert created is not None and created.record_type == "messaging_profile"
    assert created.name == "Alerts" and created.whitelisted_destinations == ["US", "CA"]
    pool = created.number_pool_settings
    assert pool is not None and (pool.long_code_weight, pool.toll_free_weight) == (3, 1)
    assert pool.sticky_sender is True and pool.geomatch is False
    assert created.alpha_sender == "ACME" and created.daily_spend_limit == "269.00"
    assert created.url_shortener_settings is not None
    assert created.url_shortener_settings.domain == "acme.link"
    assert created.webhook_api_version == "2010-04-01", "kept for Telnyx and echoed"
    assert created.features is not None
    assert created.created_at is not None and created.updated_at is not None

    native = tenant.native("GET", f"/v1/profiles/{native_id(created.id)}")["data"]
    assert native["waba_id"] is None, "SMS only"
    assert native["messaging"]["number_pool"]["long_code_weight"] == 3
    assert native["messaging"]["webhook_url"] == "https://hooks.example.com/telnyx"

    retrieved = client.messaging_profiles.retrieve(created.id).data
    assert retrieved == created
    updated = client.messaging_profiles.update(
        created.id, name="Alerts 2", number_pool_settings=None, whitelisted_destinations=["*"]
    ).data
    assert updated is not None and updated.name == "Alerts 2"
    assert updated.number_pool_settings is None, "null turns the pool off"
    assert updated.whitelisted_destinations == ["*"] and updated.alpha_sender == "ACME"
    native = tenant.native("GET", f"/v1/profiles/{native_id(created.id)}")["data"]
    assert native["messaging"]["number_pool"]["enabled"] is False
    assert native["messaging"]["number_pool"]["long_code_weight"] == 3, "weights kept"
    assert native["messaging"]["whitelisted_destinations"] == []
    assert native["name"] == "Alerts 2", "a change through one shape is the others' at once"

    deleted = client.messaging_profiles.delete(created.id).data
    assert deleted is not None and deleted.id == created.id
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.retrieve(created.id)


def test_pages_and_name_filters(tenant: Tenant):
    client = tenant.client(tenant.other_key)
    made = [
        client.messaging_profiles.create(name=f"Bulk {i}", whitelisted_destinations=["*"]).data
        for i in range(5)
    ]
    first = client.messaging_profiles.list(page_size=2)
    assert first.meta is not None and first.meta.total_pages == 3
    listed = [p.id for p in client.messaging_profiles.list(page_size=2)]  # every page
    every = {p.id for p in made if p is not None}
    assert every <= set(listed) and len(listed) == len(set(listed)) == 6, "and the own profile"
    exact = client.messaging_profiles.list(filter={"name": "Bulk 3"})
    assert [p.name for p in exact.data] == ["Bulk 3"]
    eq = client.messaging_profiles.list(filter_name_eq="Bulk 3", filter_name_contains="ulk")
    assert [p.name for p in eq.data] == ["Bulk 3"]
    contains = client.messaging_profiles.list(filter_name_contains="bulk")
    assert contains.meta is not None and contains.meta.total_results == 5
    nothing = client.messaging_profiles.list(filter={"name": "Bulk 3"}, filter_name_eq="Bulk 4")
    assert nothing.data == [] and nothing.meta is not None and nothing.meta.total_pages == 0


def test_numbers_and_short_codes_assigned_natively(tenant: Tenant):
    client = tenant.client()
    profile = client.messaging_profiles.create(name="Numbers", whitelisted_destinations=["US"])
    assert profile.data is not None
    profile_id = native_id(profile.data.id)
    for number, kind in (
        ("+12125550101", "long_code"),
        ("+18005550199", "toll_free"),
        ("12345", "short_code"),
    ):
        body = {"number": number, "type": kind, "profile_id": profile_id}
        if kind == "short_code":
            body["country"] = "US"
        tenant.native("POST", "/v1/numbers", json=body)
    numbers = list(client.messaging_profiles.list_phone_numbers(profile.data.id, page_size=1))
    assert sorted((n.phone_number, n.type) for n in numbers) == [
        ("+12125550101", "long-code"),
        ("+18005550199", "toll-free"),
    ]
    assert {n.messaging_profile_id for n in numbers} == {profile.data.id}
    assert all(n.record_type == "messaging_phone_number" and n.health is None for n in numbers)
    codes = client.messaging_profiles.list_short_codes(profile.data.id).data
    assert [(c.short_code, c.record_type, c.country_code) for c in codes] == [
        ("12345", "short_code", "US")
    ]


def test_refusals(tenant: Tenant, monkeypatch: pytest.MonkeyPatch):
    client = tenant.client()
    with pytest.raises(telnyx.NotFoundError) as unknown:
        client.messaging_profiles.retrieve("00000000-0000-0000-0000-000000000000")
    assert unknown.value.response.json()["errors"][0]["code"] == "10005"
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.retrieve("not-a-uuid")

    before = client.messaging_profiles.list().meta
    with pytest.raises(telnyx.UnprocessableEntityError) as heavy:
        client.messaging_profiles.create(
            name="Heavy",
            whitelisted_destinations=["US"],
            number_pool_settings={
                "long_code_weight": 10,
                "toll_free_weight": 1,
                "skip_unhealthy": True,
            },
        )
    [error] = heavy.value.response.json()["errors"]
    assert error["source"]["pointer"] == "/number_pool_settings/long_code_weight"
    assert error["code"] == "10015" and heavy.value.response.headers["x-should-retry"] == "false"
    for weight in (2.5, -1):
        with pytest.raises(telnyx.UnprocessableEntityError):
            client.messaging_profiles.create(
                name="Bad",
                whitelisted_destinations=["US"],
                number_pool_settings={
                    "long_code_weight": weight,
                    "toll_free_weight": 1,
                    "skip_unhealthy": True,
                },
            )
    missing = httpx.post(  # the SDK itself insists on whitelisted_destinations
        f"{tenant.url}/dialects/telnyx/v2/messaging_profiles",
        json={"name": "No destinations"},
        headers={"Authorization": f"Bearer {tenant.key}"},
    )
    assert missing.status_code == 422, missing.text
    [error] = missing.json()["errors"]
    assert (error["code"], error["source"]["pointer"]) == ("10004", "/whitelisted_destinations")
    after = client.messaging_profiles.list().meta
    assert before is not None and after is not None
    assert after.total_pages == before.total_pages, "nothing was created"

    with pytest.raises(telnyx.AuthenticationError) as wrong:
        tenant.client("mpk_wrong").messaging_profiles.list()
    assert wrong.value.response.json()["errors"][0]["code"] == "10009"
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    keyless = telnyx.Telnyx(
        base_url=f"{tenant.url}/dialects/telnyx/v2", max_retries=0, api_key=None
    )
    with pytest.raises(telnyx.AuthenticationError):
        keyless.messaging_profiles.list()
    with pytest.raises(telnyx.PermissionDeniedError):
        tenant.client(tenant.member_key).messaging_profiles.create(
            name="Member", whitelisted_destinations=["US"]
        )

    own = tenant.native("GET", "/v1/profiles", params={"limit": 100})["data"]
    parent = next(p for p in own if p["is_parent"])
    with pytest.raises(telnyx.ConflictError):
        client.messaging_profiles.delete(to_uuid(parent["id"]))


def test_idempotency_key_and_tenants(tenant: Tenant, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TELNYX_API_KEY", tenant.key)
    monkeypatch.setenv("TELNYX_BASE_URL", f"{tenant.url}/dialects/telnyx/v2")
    client = telnyx.Telnyx(max_retries=0, _strict_response_validation=True)  # from the env
    first = client.messaging_profiles.create(
        name="Once", whitelisted_destinations=["US"], extra_headers={"Idempotency-Key": "once-1"}
    ).data
    again = client.messaging_profiles.create(
        name="Once", whitelisted_destinations=["US"], extra_headers={"Idempotency-Key": "once-1"}
    ).data
    assert first is not None and again is not None and again.id == first.id
    stranger = tenant.client(tenant.other_key)
    with pytest.raises(telnyx.NotFoundError):
        stranger.messaging_profiles.retrieve(first.id)
    with pytest.raises(telnyx.NotFoundError):
        stranger.messaging_profiles.update(first.id, name="Mine")
    with pytest.raises(telnyx.NotFoundError):
        stranger.messaging_profiles.delete(first.id)
    with pytest.raises(telnyx.NotFoundError):
        stranger.messaging_profiles.list_phone_numbers(first.id)
    assert first.id not in {p.id for p in stranger.messaging_profiles.list(page_size=250)}

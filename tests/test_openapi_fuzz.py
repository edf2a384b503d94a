"""Every operation of the native API, fed what its OpenAPI document allows (schemathesis,
against a real server): never a server error, and every answer is what the document says —
status code, content type and body. Each case runs twice: as generated (ids that mostly 404,
keys that mostly 401) and then with a valid key and the ids of real objects, so that bodies
and queries reach the services."""

import base64
import contextlib
import re
from collections.abc import Iterator
from tempfile import mkdtemp

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.datastructures import State

from msgprofiles.app import create_app
from msgprofiles.config import Settings
from msgprofiles.dialects.imiconnect import DIALECT as IMICONNECT
from msgprofiles.dialects.kirimdev import DIALECT as KIRIMDEV
from msgprofiles.dialects.opentact import DIALECT as OPENTACT
from msgprofiles.dialects.plivo import DIALECT as PLIVO
from msgprofiles.dialects.sentdm import DIALECT as SENTDM
from msgprofiles.dialects.telnyx import DIALECT as TELNYX
from msgprofiles.dialects.toolkit import to_uuid
from tests.conftest import Receiver
from tests.factories import brand_body, content
from tests.servers import live_server


class Live:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.ids: dict[str, str] = {}

    def create(self, path: str, body: dict) -> str:
        response = httpx.post(self.url + path, json=body, headers={"x-api-key": self.key})
        assert response.status_code in (201, 202), response.text
        return str(response.json()["data"]["id"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    env = {
        "MSGPROFILES_RATE_LIMIT": "1000000/second",
        "MSGPROFILES_AUTH_FAILURE_RATE_LIMIT": "1000000/second",  # it generates wrong keys
        "MSGPROFILES_ALLOW_PRIVATE_WEBHOOKS": "1",
    }
    with (
        live_server(tmp_path_factory.mktemp("fuzz"), env) as (base, key),
        contextlib.closing(Receiver()) as receiver,
    ):
        live = Live(base, key)
        brand = live.create("/v1/brands", brand_body())
        profile = live.create("/v1/profiles", {"name": "Fuzzed", "brand_id": brand})
        live.ids = {
            "brand_id": brand,
            "profile_id": profile,
            "campaign_id": live.create(f"/v1/profiles/{profile}/campaigns", content()),
            "number_id": live.create(
                "/v1/numbers",
                {"number": "+15125550199", "type": "long_code", "profile_id": profile},
            ),
            "subscription_id": live.create("/v1/webhook_subscriptions", {"url": receiver.url}),
            "key_id": live.create("/v1/api_keys", {"name": "fuzzed"}),
        }
        customer = live.create("/v1/customers", {"name": "Fuzzed customer"})
        live.ids |= {
            "customer_id": customer,
            "link_id": live.create(f"/v1/customers/{customer}/setup_links", {}),
            "account_id": onboarded_account(live, customer),
        }
        attribute = {"name": "plan", "type": "string"}
        r = httpx.post(f"{base}/v1/contact_attributes", json=attribute, headers={"x-api-key": key})
        assert r.status_code == 201, r.text
        contact = live.create("/v1/contacts", {"name": "Fuzzed contact"})
        live.ids |= {
            "name": "plan",
            "contact_id": contact,
            "app_profile_id": live.create(
                f"/v1/contacts/{contact}/app_profiles",
                {
                    "app_id": "a_fuzz",
                    "key_name": "psid",
                    "key": "psid-fuzz",
                    "devices": [{"device_id": "phone"}],
                },
            ),
            "device_id": "phone",
        }
        started = httpx.post(
            f"{base}/v1/contacts/imports",
            content=b'{"external_id": "fuzz-1"}\n',
            headers={"x-api-key": key, "content-type": "application/x-ndjson"},
        )
        assert started.status_code == 202, started.text
        live.ids["import_id"] = started.json()["data"]["id"]
        events = httpx.get(f"{base}/v1/events", headers={"x-api-key": key}).json()["data"]
        live.ids["event_id"] = events[0]["id"]
        registered = live.create("/v1/brands", brand_body())
        r = httpx.post(f"{base}/v1/brands/{registered}/submit", headers={"x-api-key": key})
        assert r.status_code == 202, r.text
        live.ids["registered_brand_id"] = registered
        yield live


def onboarded_account(live: Live, customer_id: str) -> str:
    """The WhatsApp account a customer connects through the hosted page."""
    link = httpx.post(
        f"{live.url}/v1/customers/{customer_id}/setup_links",
        json={},
        headers={"x-api-key": live.key},
    ).json()["data"]
    with httpx.Client() as browser:
        page = browser.get(link["setup_url"])
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert browser.post(link["setup_url"], data={"csrf_token": csrf}).status_code == 200
    accounts = httpx.get(
        f"{live.url}/v1/whatsapp_accounts",
        params={"customer_id": customer_id},
        headers={"x-api-key": live.key},
    ).json()["data"]
    return str(accounts[0]["id"])


# The documents are the app's own (the same ones the server serves); loaded at import, since
# schemathesis's fixture-based loader does not work with pytest 9.
schema = schemathesis.openapi.from_dict(create_app(Settings(data_dir=mkdtemp())).openapi())
sentdm = schemathesis.openapi.from_dict(SENTDM.create_app(State()).openapi())
kirimdev = schemathesis.openapi.from_dict(KIRIMDEV.create_app(State()).openapi())
imiconnect = schemathesis.openapi.from_dict(IMICONNECT.create_app(State()).openapi())
plivo = schemathesis.openapi.from_dict(PLIVO.create_app(State()).openapi())
telnyx = schemathesis.openapi.from_dict(TELNYX.create_app(State()).openapi())
opentact = schemathesis.openapi.from_dict(OPENTACT.create_app(State()).openapi())


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,  # the same cases on every run: CI is reproducible
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_any_documented_input_gets_a_documented_answer(case, live: Live):
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    case.call_and_validate(base_url=live.url, headers={"x-api-key": live.key}, checks=checks)
    # Again with a valid key (a generated Authorization wins over x-api-key), no generated
    # Idempotency-Key (a reused one replays or refuses) and real objects: the request
    # reaches the service.
    for header in ("Authorization", "Idempotency-Key"):
        (case.headers or {}).pop(header, None)
    if case.path_parameters and case.method != "DELETE":  # deleted, the objects would 404
        case.path_parameters = {
            name: live.ids.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(base_url=live.url, headers={"x-api-key": live.key}, checks=checks)


@sentdm.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_sentdm_dialect_never_answers_a_server_error(case, live: Live):
    """Its document describes requests only (the SDK is the contract for answers)."""
    base_url = live.url + SENTDM.prefix
    case.call_and_validate(
        base_url=base_url, headers={"x-api-key": live.key}, checks=[not_a_server_error]
    )
    for header in ("Idempotency-Key", "x-profile-id"):
        (case.headers or {}).pop(header, None)
    if case.path_parameters and case.method != "DELETE":
        ids = {**live.ids, "webhook_id": live.ids["subscription_id"]}
        case.path_parameters = {name: ids[name] for name in case.path_parameters}
    case.call_and_validate(
        base_url=base_url, headers={"x-api-key": live.key}, checks=[not_a_server_error]
    )


@kirimdev.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_kirimdev_dialect_never_answers_a_server_error(case, live: Live):
    base_url = live.url + KIRIMDEV.prefix
    case.call_and_validate(
        base_url=base_url, headers={"x-api-key": live.key}, checks=[not_a_server_error]
    )
    (case.headers or {}).pop("Idempotency-Key", None)
    if case.path_parameters and case.method != "DELETE":
        ids = {**live.ids, "subscription_id": live.ids["subscription_id"]}
        case.path_parameters = {
            name: ids.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(
        base_url=base_url, headers={"x-api-key": live.key}, checks=[not_a_server_error]
    )


@imiconnect.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_imiconnect_dialect_never_answers_a_server_error(case, live: Live):
    base_url = live.url + IMICONNECT.prefix
    case.call_and_validate(
        base_url=base_url, headers={"key": live.key}, checks=[not_a_server_error]
    )


@plivo.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_plivo_dialect_never_answers_a_server_error(case, live: Live):
    base_url = live.url + PLIVO.prefix
    auth_id = "MAXXXXXXXXXXXXXXXXXX"
    basic = base64.b64encode(f"{auth_id}:{live.key}".encode()).decode()
    auth = {"Authorization": f"Basic {basic}"}
    case.call_and_validate(base_url=base_url, headers=auth, checks=[not_a_server_error])
    if case.path_parameters:
        ids = {
            "auth_id": auth_id,
            "profile_uuid": to_uuid(live.ids["brand_id"]),
            "brand_id": to_uuid(live.ids["registered_brand_id"]),
            "campaign_id": to_uuid(live.ids["campaign_id"]),
            "number": "15125550199",
        }
        if case.method == "DELETE":  # deleted, the objects would 404
            ids = {"auth_id": auth_id}
        case.path_parameters = {
            name: ids.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(base_url=base_url, headers=auth, checks=[not_a_server_error])


def _messaging_profile_case(case, live: Live, base_url: str, auth: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """As generated, then with a valid key, no generated Idempotency-Key and a real profile."""
    case.call_and_validate(base_url=base_url, headers=auth, checks=[not_a_server_error])
    for header in ("Authorization", "Idempotency-Key", "X-Auth-Token"):
        (case.headers or {}).pop(header, None)
    if case.path_parameters and case.method != "DELETE":
        profile = to_uuid(live.ids["profile_id"])
        case.path_parameters = dict.fromkeys(case.path_parameters, profile)
    case.call_and_validate(base_url=base_url, headers=auth, checks=[not_a_server_error])


@telnyx.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_telnyx_dialect_never_answers_a_server_error(case, live: Live):
    auth = {"Authorization": f"Bearer {live.key}"}
    _messaging_profile_case(case, live, live.url + TELNYX.prefix, auth)


@opentact.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_opentact_dialect_never_answers_a_server_error(case, live: Live):
    _messaging_profile_case(case, live, live.url + OPENTACT.prefix, {"X-Auth-Token": live.key})

"""The Opentact messaging-profile API by its contract (../shared/spec/opentact.md §2-§5, §7.3):
every operation, key and range of the seed, `{success, payload}`, the errors, and the same
profiles and numbers as /v1."""

from typing import Any

import httpx
import pytest

from msgprofiles.dialects.toolkit import to_uuid
from tests.conftest import Org, create_org
from tests.factories import make_number

ROOT = "/dialects/opentact/rest/profile/messaging"
SEED = {
    "name": "Marketing",
    "callback_url": "https://hooks.example.com/primary",
    "callback_url2": "https://hooks.example.com/secondary",
    "number_pool_enable": True,
    "long_code_weight": 5,
    "toll_free_weight": 2,
    "skip_unhealthy_tns": True,
    "sticky_sender": True,
}
KEYS = {
    "uuid",
    "name",
    "callback_url",
    "callback_url2",
    "number_pool_enable",
    "long_code_weight",
    "tollfree_weight",
    "skip_unhealthy_tns",
    "sticky_sender",
    "created_on",
    "modified_on",
    "account",
    "created_by",
    "modified_by",
    "leases",
}


async def call(org: Org, method: str, path: str = "", token: str | None = None, **kw: Any):
    headers = {} if token == "" else {"X-Auth-Token": token or org.admin_key}
    return await org.client.request(method, ROOT + path, headers=headers, **kw)


def payload(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and set(body) == {"success", "payload"}
    return body["payload"]


def refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


async def test_a_profile_with_every_seed_key(org: Org):
    created = payload(await call(org, "POST", json=SEED), 201)
    assert set(created) == KEYS
    assert {k: created[k] for k in SEED if k != "toll_free_weight"} == {
        k: v for k, v in SEED.items() if k != "toll_free_weight"
    }
    assert created["tollfree_weight"] == 2, "Opentact spells it tollfree_weight in answers"
    assert created["uuid"] == created["uuid"].lower() and len(created["uuid"]) == 36
    assert created["created_on"].endswith("Z") and created["leases"] == []
    assert created["account"] == {"uuid": to_uuid(org.id), "name": "Acme", "email": None}
    assert set(created["created_by"]) == {"uuid", "name"}
    assert created["created_by"] == created["modified_by"]
    assert org.admin_key not in (await call(org, "GET", f"/{created['uuid']}")).text
    for secret in ("password", "token", "secret"):
        assert secret not in (await call(org, "GET", f"/{created['uuid']}")).text

    native = (await org.get("/v1/profiles", params={"name": "Marketing"})).json()["data"]
    [profile] = native
    assert to_uuid(profile["id"]) == created["uuid"]
    assert profile["messaging"]["failover_url"] == SEED["callback_url2"]
    assert profile["messaging"]["number_pool"]["long_code_weight"] == 5


async def test_modify_changes_what_is_sent(org: Org):
    created = payload(await call(org, "POST", json=SEED), 201)
    path = f"/{created['uuid']}"
    modified = payload(
        await call(
            org,
            "PATCH",
            path,
            json={"name": "Renamed", "tollfree_weight": 7, "callback_url2": None},
        )
    )
    assert modified["name"] == "Renamed" and modified["tollfree_weight"] == 7
    assert modified["callback_url2"] is None and modified["callback_url"] == SEED["callback_url"]
    assert modified["long_code_weight"] == 5, "the rest stays"
    telnyx = await org.client.get(
        f"/dialects/telnyx/v2/messaging_profiles/{created['uuid']}", headers=org.headers()
    )
    shown = telnyx.json()["data"]
    assert shown["name"] == "Renamed", "the same profile through Telnyx, at once"
    assert shown["number_pool_settings"]["toll_free_weight"] == 7
    assert shown["webhook_failover_url"] is None
    flag = payload(await call(org, "PATCH", path, json={"number_pool_enable": "false"}))
    assert flag["number_pool_enable"] is False
    assert payload(await call(org, "GET", path)) == flag
    assert created["uuid"] in [p["uuid"] for p in payload(await call(org, "GET"))]


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 256},
        {"callback_url": "http://a"},
        {"callback_url": "https://example.com/" + "x" * 240},
        {"callback_url": "not a url at all"},
        {"callback_url2": "ftp://example.com/hook"},
        {"long_code_weight": 10},
        {"long_code_weight": -1},
        {"toll_free_weight": 2.5},
        {"tollfree_weight": "3"},
        {"toll_free_weight": 1, "tollfree_weight": 2},
        {"number_pool_enable": "yes"},
        {"skip_unhealthy_tns": "true"},
        {"unknown": 1},
    ],
)
async def test_out_of_range_values_are_400_and_change_nothing(org: Org, body: dict):
    refused(await call(org, "POST", json={"name": "Bad", **body}), 400)
    created = payload(await call(org, "POST", json=SEED), 201)
    refused(await call(org, "PATCH", f"/{created['uuid']}", json=body), 400)
    assert payload(await call(org, "GET", f"/{created['uuid']}")) == created
    names = [p["name"] for p in payload(await call(org, "GET"))]
    assert "Bad" not in names


async def test_weights_as_integral_numbers_and_both_spellings(org: Org):
    created = payload(
        await call(
            org,
            "POST",
            json={
                "name": "Floats",
                "long_code_weight": 3.0,
                "tollfree_weight": 4,
                "toll_free_weight": 4,
            },
        ),
        201,
    )
    assert (created["long_code_weight"], created["tollfree_weight"]) == (3, 4)


async def test_leases_are_the_numbers_assigned_natively(org: Org):
    created = payload(await call(org, "POST", json={"name": "Leased"}), 201)
    profile_id = (await org.get("/v1/profiles", params={"name": "Leased"})).json()["data"][0]["id"]
    number = await make_number(org, "+12125550111", profile_id=profile_id)
    leases = payload(await call(org, "GET", f"/{created['uuid']}/leases"))
    assert leases == payload(await call(org, "GET", f"/{created['uuid']}/lease"))
    [lease] = leases
    assert lease["uuid"] == to_uuid(number["id"]) and lease["tn"] == {"tn": 12125550111}
    assert lease["messaging_profile"] == {"uuid": created["uuid"], "name": "Leased"}
    assert set(lease) >= {"autorenew", "expired_on"}
    assert payload(await call(org, "GET", f"/{created['uuid']}"))["leases"] == leases


async def test_remove_answers_the_profile_and_the_own_profile_stays(org: Org):
    created = payload(await call(org, "POST", json=SEED), 201)
    removed = payload(await call(org, "DELETE", f"/{created['uuid']}"))
    assert removed["uuid"] == created["uuid"] and removed["name"] == "Marketing"
    refused(await call(org, "GET", f"/{created['uuid']}"), 404)
    refused(await call(org, "DELETE", f"/{created['uuid']}"), 404)
    own = next(p for p in (await org.get("/v1/profiles")).json()["data"] if p["is_parent"])
    refused(await call(org, "DELETE", f"/{to_uuid(own['id'])}"), 400)
    assert payload(await call(org, "GET", f"/{to_uuid(own['id'])}"))["name"] == own["name"]


async def test_tokens_uuids_and_tenants(org: Org, client, operator_key):
    created = payload(await call(org, "POST", json=SEED), 201)
    refused(await call(org, "GET", token=""), 401)
    refused(await call(org, "GET", token="mpk_wrong"), 401)
    refused(await call(org, "POST", json=SEED, token=org.member_key), 403)
    refused(await call(org, "GET", "/not-a-uuid"), 404)
    refused(await call(org, "GET", "/00000000-0000-0000-0000-000000000000"), 404)
    stranger = await create_org(client, operator_key, "Stranger")
    for method, path, body in (
        ("GET", f"/{created['uuid']}", None),
        ("PATCH", f"/{created['uuid']}", {"name": "Mine"}),
        ("DELETE", f"/{created['uuid']}", None),
        ("GET", f"/{created['uuid']}/leases", None),
    ):
        refused(await call(stranger, method, path, json=body), 404)
    assert created["uuid"] not in [p["uuid"] for p in payload(await call(stranger, "GET"))]
    assert payload(await call(org, "GET", f"/{created['uuid']}"))["name"] == "Marketing"

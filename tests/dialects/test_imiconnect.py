"""The IMIconnect Profile API dialect against a real `msgprofiles serve`, as the contract says
(../shared/spec/imiconnect.md §7): every operation, its codes and HTTP statuses, strings on
the wire, 100-record batches, and the same contacts as /v1."""

from collections.abc import Iterator

import httpx
import pytest

from tests.servers import FAST_RETRIES, live_server


class Imi:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def call(
        self, method: str, path: str, version: str = "v2", key: str | None = None, **kw: object
    ) -> httpx.Response:
        headers = {} if key == "" else {"key": key or self.key}
        headers |= kw.pop("headers", {})  # type: ignore[arg-type]
        base = f"{self.url}/dialects/imiconnect/resources/{version}"
        return httpx.request(method, base + path, headers=headers, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def imi(tmp_path_factory) -> Iterator[Imi]:
    with live_server(tmp_path_factory.mktemp("imi"), FAST_RETRIES) as (url, key):
        headers = {"x-api-key": key}
        tier = {"name": "tier", "type": "number"}
        assert httpx.post(f"{url}/v1/contact_attributes", json=tier, headers=headers).is_success
        yield Imi(url, key)


def code_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()["response"]
    assert set(body) >= {"code", "description", "transid"} and isinstance(body["code"], str)
    return str(body["code"])


def attributes_of(record: dict) -> dict[str, str]:
    return {pair["Name"]: pair["Value"] for pair in record["Attributes"]}


def test_master_profiles_round_trip_as_strings(imi: Imi):
    created = imi.call(
        "POST",
        "/customerprofile",
        json={
            "Records": [
                {
                    "customerId": "54321",
                    "Attributes": {
                        "email": "john@example.com",
                        "msisdn": "919876543210",
                        "name": "John",
                        "sms": "1",
                        "tier": "3",
                    },
                }
            ]
        },
    )
    assert code_of(created, 200) == "1000"
    read = imi.call("GET", "/customerprofile/54321", version="v1").json()
    assert (read["Status"], read["code"]) == (0, "1000")
    assert attributes_of(read["Records"][0]) == {
        "customerId": "54321",
        "name": "John",
        "email": "john@example.com",
        "msisdn": "+919876543210",
        "sms": "1",
        "tier": "3",
    }
    native = httpx.get(
        f"{imi.url}/v1/contacts/lookup",
        params={"external_id": "54321"},
        headers={"x-api-key": imi.key},
    ).json()["data"]
    assert native["attributes"] == {"sms": True, "tier": 3}, "the same contact as /v1"

    updated = imi.call(
        "put",
        "/customerprofile",
        json={"records": [{"customerid": "54321", "attributes": {"name": "Jo"}}]},
    )
    assert code_of(updated, 200) == "1000", "keys in any case"
    again = attributes_of(imi.call("GET", "/customerprofile/54321").json()["Records"][0])
    assert again["name"] == "Jo" and again["tier"] == "3", "only the given attributes change"

    duplicate = imi.call("POST", "/customerprofile", json={"Records": [{"customerId": "54321"}]})
    assert code_of(duplicate, 409) == "7015"
    assert code_of(imi.call("GET", "/customerprofile/nobody"), 404) == "7014"
    assert code_of(imi.call("GET", "/customerprofile/54321?showinwardlinks=9"), 400) == "7004"


def test_a_batch_with_a_bad_record_is_a_partial_success(imi: Imi):
    records = [
        {"customerId": "b-1", "Attributes": {"name": "Good"}},
        {"customerId": "b-2", "Attributes": {"shoe": "42"}},
        {"customerId": "b-3", "Attributes": {"tier": 7}},
        {"customerId": "b-4", "Attributes": {"tier": "lots"}},
    ]
    partial = imi.call("POST", "/customerprofile", json={"Records": records})
    assert code_of(partial, 200) == "1002"
    assert partial.json()["response"]["errors"] == [
        {"customerId": "b-2", "code": "7211", "description": "Profile attribute does not exist"},
        {"customerId": "b-3", "code": "7205", "description": "Invalid attribute value"},
        {"customerId": "b-4", "code": "7205", "description": "Invalid attribute value"},
    ]
    assert imi.call("GET", "/customerprofile/b-1").status_code == 200, "the good one stored"
    assert imi.call("GET", "/customerprofile/b-2").status_code == 404, "a bad one not"
    none = imi.call("PUT", "/customerprofile", json={"Records": [{"customerId": "ghost"}]})
    assert code_of(none, 404) == "7203" and none.json()["response"]["errors"][0]["code"] == "7203"

    big = {"Records": [{"customerId": f"x-{n}"} for n in range(101)]}
    assert code_of(imi.call("POST", "/customerprofile", json=big), 400) == "7012"
    assert code_of(imi.call("PUT", "/customerprofile", json=big), 400) == "7207"
    assert imi.call("GET", "/customerprofile/x-0").status_code == 404, "nothing stored"
    assert code_of(imi.call("POST", "/customerprofile", json={}), 400) == "7003"
    malformed = imi.call(
        "POST",
        "/customerprofile",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert code_of(malformed, 400) == "7000"


def test_the_key_header_is_the_api_key(imi: Imi):
    assert code_of(imi.call("GET", "/customerprofile/54321", key=""), 401) == "7002"
    assert code_of(imi.call("GET", "/customerprofile/54321", key="mpk_wrong"), 401) == "7001"


def test_app_profiles_with_devices_and_identifiers(imi: Imi):
    imi.call("POST", "/customerprofile", json={"Records": [{"customerId": "8955"}]})
    app = "a_635736738702976937"
    created = imi.call(
        "POST",
        f"/customerappprofile/{app}",
        json={
            "Records": [
                {
                    "customerId": "8955",
                    "Attributes": {"psid": "1254459154682919", "channel": "fb", "verified": "1"},
                    "Devices": [{"device_id": "d1", "token": "t1", "platform": "android"}],
                }
            ]
        },
    )
    assert code_of(created, 200) == "1000"
    again = imi.call(
        "POST",
        f"/customerappprofile/{app}",
        json={"Records": [{"customerId": "8955", "Attributes": {"psid": "other"}}]},
    )
    assert code_of(again, 409) == "7209"

    read = imi.call("GET", f"/customerappprofile/{app}/8955").json()["Records"][0]
    assert attributes_of(read)["psid"] == "1254459154682919"
    assert read["Devices"][0]["device_id"] == "d1"
    master_pairs = {p["Name"]: p["Value"] for p in read["OutwardLinks"][0]["Records"]}
    assert master_pairs["customerId"] == "8955"
    by_user = imi.call(
        "GET", f"/customerappprofile/{app}", params={"identifier": "1254459154682919"}
    )
    assert by_user.json()["Records"][0]["Attributes"] == read["Attributes"]
    master = imi.call("GET", "/customerprofile/8955?showinwardlinks=1").json()["Records"][0]
    assert [link["ProfileName"] for link in master["InwardLinks"]] == [app]
    assert code_of(imi.call("GET", "/customerappprofile/other_app/8955"), 404) == "7018"

    update = imi.call(
        "PUT",
        f"/customerprofiles/{app}",  # the alias one page prints
        json={"Records": [{"customerId": "8955", "Devices": [{"device_id": "d2"}]}]},
    )
    assert code_of(update, 200) == "1000"
    devices = imi.call("GET", f"/customerappprofile/{app}/8955").json()["Records"][0]["Devices"]
    assert [d["device_id"] for d in devices] == ["d1", "d2"]
    assert code_of(imi.call("DELETE", f"/customerappprofile/{app}/8955/d1"), 200) == "1000"
    assert code_of(imi.call("DELETE", f"/customerappprofile/{app}/8955/d1"), 404) == "7203"
    gone = imi.call(
        "DELETE", f"/customerappprofile/{app}", params={"identifier": "1254459154682919"}
    )
    assert code_of(gone, 200) == "1000"
    assert code_of(imi.call("GET", f"/customerappprofile/{app}/8955"), 404) == "7018"


def test_deletes_take_one_or_many_ids(imi: Imi):
    records = [{"customerId": f"d-{n}"} for n in range(3)]
    imi.call("POST", "/customerprofile", json={"Records": records})
    assert code_of(imi.call("DELETE", "/customerprofile/d-0"), 200) == "1000"
    many = imi.call("DELETE", "/customerprofile", params={"customerId": ["d-1", "d-2", "d-9"]})
    assert code_of(many, 200) == "1002"
    assert many.json()["response"]["errors"][0]["customerId"] == "d-9"
    assert code_of(imi.call("GET", "/customerprofile/d-1"), 404) == "7014"
    recreated = imi.call("POST", "/customerprofile", json={"Records": [{"customerId": "d-0"}]})
    assert code_of(recreated, 200) == "1000", "a deleted customerId may come back, empty"
    assert attributes_of(imi.call("GET", "/customerprofile/d-0").json()["Records"][0]) == {
        "customerId": "d-0"
    }

"""The Kirimdev dialect against a real `msgprofiles serve`, checked against the contract
(../shared/spec/kirimdev.md): every key of its objects and envelopes, its ids and errors, and
webhook signatures verified the way a Kirimdev receiver does."""

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Receiver
from tests.servers import FAST_RETRIES, live_server, wait_for

CUSTOMER_KEYS = {
    "id",
    "object",
    "name",
    "email",
    "status",
    "metadata",
    "archived_at",
    "team_id",
    "created_at",
    "updated_at",
}
LINK_KEYS = {
    "id",
    "object",
    "customer_id",
    "status",
    "token_last4",
    "expires_at",
    "consumed_at",
    "success_redirect_url",
    "failure_redirect_url",
    "created_at",
}
ACCOUNT_KEYS = {"phone_number_id", "phone_number", "name", "status", "onboarded_at"}
ULID_ID = re.compile(r"^(cus|csl|wa)_[0-9A-HJKMNP-TV-Z]{26}$")


class Kirim:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.base = f"{url}/dialects/kirimdev/v1"

    def call(self, method: str, path: str, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.request(method, self.base + path, headers=headers, **kw)  # type: ignore[arg-type]

    def data(self, method: str, path: str, **kw: object) -> dict:
        r = self.call(method, path, **kw)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"data", "request_id"}, body
        return body["data"]


@pytest.fixture(scope="module")
def kirim(tmp_path_factory) -> Iterator[Kirim]:
    with live_server(tmp_path_factory.mktemp("kirim"), FAST_RETRIES) as (url, key):
        yield Kirim(url, key)


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["code"])


def onboard(kirim: Kirim, setup_url: str, **fields: str) -> httpx.Response:
    """What the customer's browser does with the link: open the page, submit its form."""
    with httpx.Client() as browser:
        page = browser.get(setup_url)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return browser.post(setup_url, data={"csrf_token": csrf, **fields})


def test_customers_have_every_key_of_the_contract(kirim: Kirim):
    created = kirim.data(
        "POST", "/customers", json={"name": "Warung Sari", "metadata": {"tier": 2}}
    )
    assert set(created) == CUSTOMER_KEYS and ULID_ID.match(created["id"])
    assert (created["object"], created["status"], created["email"]) == ("customer", "pending", None)
    organization = httpx.get(
        f"{kirim.url}/v1/organization", headers={"x-api-key": kirim.key}
    ).json()["data"]
    assert created["team_id"] == organization["id"], "the caller's default team"
    native = httpx.get(
        f"{kirim.url}/v1/customers/{created['id']}", headers={"x-api-key": kirim.key}
    ).json()["data"]
    assert native["name"] == "Warung Sari", "the same object as /v1"

    got = kirim.data("GET", f"/customers/{created['id']}")
    assert set(got) == CUSTOMER_KEYS | {"whatsapp_accounts"} and got["whatsapp_accounts"] == []
    patched = kirim.data(
        "PATCH", f"/customers/{created['id']}", json={"status": "suspended", "metadata": None}
    )
    assert patched["status"] == "suspended" and patched["metadata"] is None
    listed = kirim.call("GET", "/customers", params={"status": "suspended", "limit": "1"}).json()
    assert set(listed) == {"data", "has_more", "next_cursor", "request_id"}
    assert [c["id"] for c in listed["data"]] == [created["id"]]
    archived = kirim.data("DELETE", f"/customers/{created['id']}")
    assert archived == {"id": created["id"], "object": "customer", "archived": True}
    code = error_of(kirim.call("PATCH", f"/customers/{created['id']}", json={"name": "x"}), 409)
    assert code == "customer_archived"


def test_ids_limits_and_keys_are_checked_as_the_contract_says(kirim: Kirim):
    bad_id = kirim.call("GET", "/customers/cus_lowercase")
    assert error_of(bad_id, 400) == "validation_error"
    assert "customer_id" in bad_id.json()["error"]["message"], "the message names the field"
    missing = kirim.call("GET", "/customers/cus_01JN0000000000000000000000")
    assert error_of(missing, 404) == "customer_not_found"
    for limit in ("abc", "0", "101", "-1"):
        assert error_of(kirim.call("GET", "/customers", params={"limit": limit}), 400)
    unauthenticated = httpx.get(f"{kirim.base}/customers")
    assert error_of(unauthenticated, 401) == "unauthenticated"
    too_many = {f"k{i}": i for i in range(51)}
    bad = kirim.call("POST", "/customers", json={"name": "x", "metadata": too_many})
    assert error_of(bad, 400) == "validation_error"


def test_setup_links_follow_the_contract_through_onboarding(kirim: Kirim):
    customer = kirim.data("POST", "/customers", json={"name": "Toko Maju"})
    base = f"/customers/{customer['id']}/setup_links"
    link = kirim.data(
        "POST", base, json={"expires_in_hours": 24, "success_redirect_url": "https://a.example/ok"}
    )
    assert set(link) == LINK_KEYS | {"setup_url"} and link["status"] == "active"
    assert urlsplit(link["setup_url"]).path.startswith("/setup/")
    listed = kirim.call("GET", base).json()
    assert listed["has_more"] is False and listed["next_cursor"] is None
    assert [set(item) for item in listed["data"]] == [LINK_KEYS]

    fixed = kirim.data(
        "PATCH", f"{base}/{link['id']}", json={"failure_redirect_url": "http://127.0.0.1/no"}
    )
    assert fixed["failure_redirect_url"] == "http://127.0.0.1/no"
    other = kirim.data("POST", base, json={})
    revoked = kirim.data("DELETE", f"{base}/{other['id']}")
    assert revoked == {
        "id": other["id"],
        "object": "customer_setup_link",
        "revoked": True,
        "status": "revoked",
    }
    assert error_of(kirim.call("DELETE", f"{base}/{other['id']}"), 409) == "setup_link_inactive"
    assert error_of(kirim.call("DELETE", f"{base}/csl_bad"), 400) == "validation_error"
    unknown = kirim.call("DELETE", f"{base}/csl_01JN0000000000000000000000")
    assert error_of(unknown, 404) == "setup_link_not_found"

    done = onboard(kirim, link["setup_url"], phone_number="+6281234567890")
    assert done.status_code == 303
    query = dict(pair.split("=") for pair in urlsplit(done.headers["location"]).query.split("&"))
    assert query["status"] == "success" and ULID_ID.match(query["account_id"])

    accounts = kirim.call("GET", "/accounts", params={"customer_id": customer["id"]}).json()
    [account] = accounts["data"]
    assert set(account) == ACCOUNT_KEYS | {"id", "customer_id"}
    assert account["id"] == query["account_id"] and account["customer_id"] == customer["id"]
    assert account["phone_number"] == "+6281234567890" and account["status"] == "connected"
    onboarded = kirim.data("GET", f"/customers/{customer['id']}")
    assert onboarded["status"] == "active"
    assert [set(a) for a in onboarded["whatsapp_accounts"]] == [ACCOUNT_KEYS]
    used = kirim.call("PATCH", f"{base}/{link['id']}", json={"success_redirect_url": None})
    assert error_of(used, 409) == "setup_link_inactive"


def kirim_verify(secret: str, headers: dict[str, str], body: bytes) -> dict:
    """A Kirimdev receiver's check: `t=<seconds>,v1=<hex>` over `<t>.<raw body>`, keyed with
    the secret string's bytes; 5 minutes of skew allowed."""
    parts = [part.split("=", 1) for part in headers["x-kirim-signature"].split(",")]
    timestamp = next(value for name, value in parts if name == "t")
    assert abs(time.time() - int(timestamp)) < 300
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert any(hmac.compare_digest(expected, v) for name, v in parts if name == "v1")
    return json.loads(body)


def test_webhook_subscriptions_sign_as_kirimdev_receivers_expect(kirim: Kirim, receiver: Receiver):
    events = ["customer.created", "customer.onboarded", "message.received"]
    created = kirim.data(
        "POST", "/webhook_subscriptions", json={"url": receiver.url, "events": events}
    )
    secret = created.pop("initial_secret")
    assert secret.startswith("whsec_") and created["events"] == events
    assert set(created) == {
        "id", "object", "url", "description", "events", "status", "created_at", "updated_at"
    }  # fmt: skip
    fetched = kirim.data("GET", f"/webhook_subscriptions/{created['id']}")
    assert "initial_secret" not in fetched and fetched["events"] == events

    customer = kirim.data("POST", "/customers", json={"name": "Signed Shop"})
    wait_for(lambda: bool(receiver.requests), 30)
    headers, body = receiver.requests[0]
    delivered = kirim_verify(secret, headers, body)
    assert headers["x-kirim-event"] == "customer.created" == delivered["type"]
    assert delivered["data"]["id"] == customer["id"] and set(delivered["data"]) == CUSTOMER_KEYS
    with pytest.raises(AssertionError):
        kirim_verify(secret, headers, body.replace(b"Signed", b"Forged"))

    for bad in ([], ["message.teleported"]):
        response = kirim.call(
            "POST", "/webhook_subscriptions", json={"url": receiver.url, "events": bad}
        )
        assert error_of(response, 400) == "validation_error"
    paused = kirim.data("POST", f"/webhook_subscriptions/{created['id']}/pause")
    assert paused["status"] == "paused"
    narrowed = kirim.data(
        "PATCH", f"/webhook_subscriptions/{created['id']}", json={"events": ["customer.updated"]}
    )
    assert narrowed["events"] == ["customer.updated"]
    deleted = kirim.data("DELETE", f"/webhook_subscriptions/{created['id']}")
    assert deleted["deleted"] is True


def test_another_tenant_finds_nothing_through_the_dialect(kirim: Kirim, receiver: Receiver):
    customer = kirim.data("POST", "/customers", json={"name": "Private Shop"})
    link = kirim.data("POST", f"/customers/{customer['id']}/setup_links", json={})
    hook = kirim.data(
        "POST", "/webhook_subscriptions", json={"url": receiver.url, "events": ["customer.created"]}
    )
    other = httpx.post(
        f"{kirim.url}/v1/organizations",
        json={"name": "Other tenant"},
        headers={"x-api-key": kirim.key},
    ).json()["data"]
    stranger = Kirim(kirim.url, other["api_key"]["secret"])
    for method, path in (
        ("GET", f"/customers/{customer['id']}"),
        ("PATCH", f"/customers/{customer['id']}"),
        ("DELETE", f"/customers/{customer['id']}"),
        ("GET", f"/customers/{customer['id']}/setup_links"),
        ("DELETE", f"/customers/{customer['id']}/setup_links/{link['id']}"),
        ("GET", f"/webhook_subscriptions/{hook['id']}"),
        ("DELETE", f"/webhook_subscriptions/{hook['id']}"),
    ):
        body = {"json": {"name": "x"}} if method == "PATCH" else {}
        assert stranger.call(method, path, **body).status_code == 404, path
    assert stranger.call("GET", "/customers").json()["data"] == []
    assert stranger.call("GET", "/accounts").json()["data"] == []

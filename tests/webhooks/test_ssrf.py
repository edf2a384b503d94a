"""Webhook URLs may not reach into the server's own network unless the operator allows it."""

import httpx
import pytest

from msgprofiles.app import create_app
from msgprofiles.core import outbound
from msgprofiles.jobs.runner import Worker
from tests.conftest import Org, create_org


@pytest.fixture
async def guarded(settings):
    app = create_app(settings.model_copy(update={"allow_private_webhooks": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "http://no-such-host.invalid/hook",
    ],
)
async def test_private_targets_are_refused(guarded, operator_key, url):
    _, client = guarded
    org = await create_org(client, operator_key, "Guarded")
    r = await org.post("/v1/webhook_subscriptions", {"url": url})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "webhook_url_not_allowed"
    assert (await org.get("/v1/webhook_subscriptions")).json()["data"] == []


async def test_delivery_time_checks_refuse_too(guarded, org: Org, receiver):
    """A URL allowed when it was saved is checked again when sending."""
    app, _ = guarded
    created = await org.post("/v1/webhook_subscriptions", {"url": receiver.url})
    assert created.status_code == 201  # the test app allows loopback
    await org.patch("/v1/organization", {"name": "Guarded later"})
    strict = Worker(app.state.pipeline.runtime)  # the guarded app's: no private targets
    deliveries: list[dict] = []

    async def attempted() -> bool:
        nonlocal deliveries
        r = await org.get(f"/v1/webhook_subscriptions/{created.json()['data']['id']}/deliveries")
        deliveries = r.json()["data"]
        return bool(deliveries and deliveries[0]["attempts"])

    await strict.run_until_idle()
    assert await attempted()
    assert receiver.requests == []
    assert "private" in deliveries[0]["attempts"][0]["error"]


@pytest.mark.parametrize(
    "address",
    [
        "100.100.100.200",  # shared address space: a cloud metadata address
        "100.64.0.1",
        "[2002:a9fe:a9fe::]",  # 6to4 around 169.254.169.254
        "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
        "[::ffff:10.0.0.1]",
        "[64:ff9b::7f00:1]",  # NAT64 around 127.0.0.1
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
        "[fe80::1]",
        "[fc00::1]",
        "192.0.2.10",  # documentation range
        "224.0.0.1",
    ],
)
async def test_addresses_that_reach_inside_are_refused_however_they_are_spelled(
    guarded, operator_key, address
):
    _, client = guarded
    org = await create_org(client, operator_key, "Spelled")
    r = await org.post("/v1/webhook_subscriptions", {"url": f"http://{address}/hook"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "webhook_url_not_allowed"


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "2002:808:808::"])
def test_globally_routable_addresses_are_allowed(address):
    assert outbound.is_allowed(address)


class Resolver:
    """DNS that answers differently each time it is asked (the outside world, stood in):
    how a rebinding attack gets a checked name to point somewhere else."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


async def test_a_name_that_changes_its_answer_reaches_only_the_address_checked(
    monkeypatch, receiver
):
    """The name resolves to the receiver the first time and elsewhere after: the POST goes
    to the address that was checked, under the URL's own Host, resolved once."""
    resolver = Resolver(["127.0.0.1"], ["127.0.0.2"])
    monkeypatch.setattr(outbound, "_getaddrinfo", resolver)
    port = receiver.url.split(":")[2].split("/")[0]
    async with outbound.http_client() as http:
        sent = await outbound.post_signed(
            http,
            f"http://hooks.rebind.test:{port}/hooks",
            "{}",
            {"webhook-id": "msg_1"},
            timeout_seconds=5,
            allow_private=True,  # loopback stands for the public address checked
        )
    assert sent.error is None, sent.error
    assert resolver.asked == ["hooks.rebind.test"]
    headers, _ = receiver.requests[0]
    assert headers["host"] == f"hooks.rebind.test:{port}"


async def test_one_private_address_among_public_ones_refuses_the_name(monkeypatch):
    monkeypatch.setattr(outbound, "_getaddrinfo", Resolver(["8.8.8.8", "127.0.0.1"]))
    async with outbound.http_client() as http:
        sent = await outbound.post_signed(
            http, "https://mixed.test/hook", "{}", {}, timeout_seconds=5, allow_private=False
        )
    assert sent.status_code is None and "public addresses" in (sent.error or "")


async def test_a_receivers_cookie_never_reaches_the_next_delivery(receiver):
    """Deliveries of every tenant to one host share the process's client: a cookie one
    receiver sets must not go out with the next delivery (another tenant's, perhaps)."""
    receiver.headers["set-cookie"] = "session=tenant-a; Path=/"
    async with outbound.http_client() as http:
        for _ in range(2):
            sent = await outbound.post_signed(
                http, receiver.url, "{}", {}, timeout_seconds=5, allow_private=True
            )
            assert sent.error is None, sent.error
    assert [headers.get("cookie") for headers, _ in receiver.requests] == [None, None]

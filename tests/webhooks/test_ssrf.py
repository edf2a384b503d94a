"""Webhook URLs may not reach into the server's own network unless the operator allows it."""

import httpx
import pytest

from msgprofiles.app import create_app
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
    strict = Worker(app.state.runtime)  # the guarded app's: no private targets
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

"""GET /metrics: what an operator's Prometheus scrapes, in one process and across several."""

import os
import signal
import subprocess

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from msgprofiles.app import create_app
from tests.conftest import POSTGRES_SERVER, Org, drain
from tests.factories import make_profile, subscribe
from tests.servers import EXECUTABLE, free_port, serve, wait_for


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> dict:
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


async def test_requests_are_counted_by_route_template_and_status(org: Org, client):
    profile = await make_profile(org)
    route = "/v1/profiles/{profile_id}"
    before = await scrape(client)
    await org.get(f"/v1/profiles/{profile['id']}")
    await org.get(f"/v1/profiles/{profile['id']}")
    await org.get("/v1/profiles/prof_01JNOTHERE0000000000000000")
    await org.get("/no/such/path/12345")
    await client.get("/dialects/sentdm/v3/profiles", headers={"x-api-key": org.admin_key})
    after = await scrape(client)

    def grew(**labels: str) -> float:
        name = "msgprofiles_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(method="GET", route=route, status="200") == 2
    assert grew(method="GET", route=route, status="404") == 1
    assert grew(method="GET", route="unmatched", status="404") == 1, "no label per random path"
    assert grew(method="GET", route="/dialects/sentdm/v3/profiles", status="200") == 1
    histogram = "msgprofiles_http_request_duration_seconds_count"
    assert (
        value(after, histogram, method="GET", route=route)
        - value(before, histogram, method="GET", route=route)
        == 3
    )
    assert not any("prof_" in labels for (_, labels) in after), "ids never become labels"


async def test_jobs_deliveries_and_the_pool_are_shown(org: Org, client, receiver, worker):
    await worker.run_until_idle()
    await subscribe(org, receiver)
    before = await scrape(client)
    await org.patch("/v1/organization", {"name": "Counted Inc"})
    queued = await scrape(client)
    assert value(queued, "msgprofiles_jobs", kind="webhook.deliver", status="queued") >= 1
    assert ("msgprofiles_jobs_oldest_wait_seconds", frozenset({("kind", "webhook.deliver")})) in (
        queued
    )
    assert value(queued, "msgprofiles_database_connections", state="limit") > 0

    receiver.statuses = [500]  # the first attempt fails and is retried, the second succeeds
    await drain(worker, lambda: len(receiver.requests) >= 2)
    after = await scrape(client)
    attempts = "msgprofiles_webhook_delivery_attempts_total"
    for outcome, count in (("retrying", 1), ("succeeded", 1)):
        grown = value(after, attempts, outcome=outcome) - value(before, attempts, outcome=outcome)
        assert grown == count, outcome
    latency = "msgprofiles_webhook_commit_to_delivery_seconds_count"
    assert value(after, latency) - value(before, latency) == 1
    assert value(after, "msgprofiles_jobs", kind="webhook.deliver", status="queued") == 0


async def test_a_metrics_token_is_asked_for_when_set(settings, org: Org):
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for headers in ({}, {"authorization": "Bearer wrong"}, org.headers()):
                r = await http.get("/metrics", headers=headers)
                assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
                assert "s3cret" not in r.text
            r = await http.get("/metrics", headers={"authorization": "Bearer s3cret-token"})
            assert r.status_code == 200 and "msgprofiles_http_requests_total" in r.text


@pytest.mark.skipif(not POSTGRES_SERVER, reason="several API processes need PostgreSQL")
def test_several_api_processes_add_up_their_counts(tmp_path, fresh_database):
    where = ["--data-dir", str(tmp_path), "--database-url", fresh_database]
    with serve(*where, "--workers", "2", "--no-worker") as (url, _):
        before = samples(httpx.get(f"{url}/metrics").text)
        for _ in range(40):  # new connections: both processes answer some
            assert httpx.get(f"{url}/health").status_code == 200
        for _ in range(3):  # whichever process answers the scrape, it counts all 40
            after = samples(httpx.get(f"{url}/metrics").text)
            name, labels = "msgprofiles_http_requests_total", {"method": "GET", "status": "200"}
            grown = value(after, name, route="/health", **labels) - value(
                before, name, route="/health", **labels
            )
            assert grown == 40


def test_a_worker_process_serves_its_own_metrics(tmp_path, fresh_database):
    port = free_port()
    worker = subprocess.Popen(
        [EXECUTABLE, "worker", "--data-dir", str(tmp_path), "--database-url", fresh_database],
        env={**os.environ, "MSGPROFILES_WORKER_METRICS_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, 30)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "msgprofiles_webhook_delivery_attempts_total" in text
        assert "msgprofiles_webhook_commit_to_delivery_seconds" in text
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0

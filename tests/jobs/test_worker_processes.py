"""Workers as real processes: killed mid-delivery, and several side by side."""

import asyncio
import os
import signal
import subprocess
import time

import asyncpg
import httpx
import pytest

from tests.conftest import POSTGRES_SERVER, Receiver
from tests.servers import (
    EXECUTABLE,
    FAST_RETRIES,
    operator_key,
    start_server,
    wait_for,
)


def committed_event_ids(url: str, key: str, event_type: str) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"type": event_type, "limit": 100} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(f"{url}/v1/events", params=params, headers={"x-api-key": key}).json()
        ids |= {e["id"] for e in page["data"]}
        if not page["has_more"]:
            return ids
        cursor = page["next_cursor"]


@pytest.fixture
def where(tmp_path, fresh_database) -> list[str]:
    return [
        "--data-dir",
        str(tmp_path),
        *(["--database-url", fresh_database] if POSTGRES_SERVER else []),
    ]


def subscribe_and_change(url: str, key: str, receiver: Receiver, changes: int) -> None:
    """Subscribe the receiver, then make `changes` acknowledged changes: each event must
    arrive."""
    headers = {"x-api-key": key}
    r = httpx.post(f"{url}/v1/webhook_subscriptions", json={"url": receiver.url}, headers=headers)
    assert r.status_code == 201
    for n in range(changes):
        r = httpx.patch(f"{url}/v1/organization", json={"name": f"change {n}"}, headers=headers)
        assert r.status_code == 200


def test_a_killed_server_delivers_every_committed_event_after_restart(where):
    key = operator_key(where)
    receiver = Receiver()
    receiver.open.clear()  # deliveries arrive and wait: the kill comes mid-delivery
    process, url = start_server(where, FAST_RETRIES)
    try:
        subscribe_and_change(url, key, receiver, 40)
        wait_for(lambda: receiver.arrived >= 1)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert receiver.requests == [], "the kill came before any delivery was answered"
        receiver.open.set()

        process, url = start_server(where, FAST_RETRIES)
        committed = committed_event_ids(url, key, "organization.updated")
        assert len(committed) == 40

        def all_arrived() -> bool:
            return committed <= {h["webhook-id"] for h, _ in receiver.requests}

        wait_for(all_arrived)
        received = {h["webhook-id"] for h, _ in receiver.requests}
        assert received == committed, "every committed event arrived, and none was invented"
    finally:
        process.kill()
        process.wait(10)
        receiver.close()


@pytest.mark.skipif(bool(POSTGRES_SERVER), reason="the embedded mode is SQLite's")
def test_the_embedded_mode_resumes_a_killed_processs_jobs_at_restart(where):
    """With the default 60 s lease: the restarted process hands the dead one's jobs back at
    once, so every committed event arrives within seconds of the restart, not a lease."""
    key = operator_key(where)
    receiver = Receiver()
    receiver.open.clear()
    slow_lease = {**FAST_RETRIES, "MSGPROFILES_JOB_LEASE_SECONDS": "60"}
    process, url = start_server(where, slow_lease)
    try:
        subscribe_and_change(url, key, receiver, 10)
        wait_for(lambda: receiver.arrived >= 1)  # deliveries are under way: their jobs leased
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        receiver.open.set()  # what the dead process sent was never acknowledged to it:
        wait_for(lambda: len(receiver.requests) == receiver.arrived)
        receiver.requests.clear()  # only deliveries of the restarted process count

        process, url = start_server(where, slow_lease)
        committed = committed_event_ids(url, key, "organization.updated")
        assert len(committed) == 10
        wait_for(lambda: committed <= {h["webhook-id"] for h, _ in receiver.requests}, 15)
    finally:
        process.kill()
        process.wait(10)
        receiver.close()


@pytest.mark.skipif(not POSTGRES_SERVER, reason="several worker processes need PostgreSQL")
def test_two_worker_processes_deliver_each_event_once(where):
    key = operator_key(where)
    receiver = Receiver()
    env = {**os.environ, **FAST_RETRIES}
    process, url = start_server([*where, "--no-worker"], FAST_RETRIES)
    workers = [
        subprocess.Popen(
            [EXECUTABLE, "worker", *where],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        headers = {"x-api-key": key}
        httpx.post(f"{url}/v1/webhook_subscriptions", json={"url": receiver.url}, headers=headers)
        for n in range(60):
            httpx.patch(f"{url}/v1/organization", json={"name": f"shared {n}"}, headers=headers)
        committed = committed_event_ids(url, key, "organization.updated")
        wait_for(lambda: len(receiver.requests) >= len(committed))
        time.sleep(1)  # time for a duplicate to show up, if there were one
        ids = [h["webhook-id"] for h, _ in receiver.requests]
        assert sorted(ids) == sorted(committed), "each event exactly once"
        for worker in workers:
            assert worker.poll() is None, "both workers kept running"
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(20) == 0, "a worker stops cleanly on SIGTERM"
        process.terminate()
        process.wait(20)
        receiver.close()


@pytest.mark.skipif(not POSTGRES_SERVER, reason="several worker processes need PostgreSQL")
def test_a_killed_workers_jobs_are_taken_over_within_seconds(where):
    """With the default lease: the surviving worker takes the dead one's jobs once its
    heartbeat stops, and every committed event arrives within 15 s of the kill."""
    key = operator_key(where)
    receiver = Receiver()
    receiver.open.clear()
    env = {k: v for k, v in FAST_RETRIES.items() if k != "MSGPROFILES_JOB_LEASE_SECONDS"}
    process, url = start_server([*where, "--no-worker"], env)

    def start_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [EXECUTABLE, "worker", *where],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    doomed = start_worker()
    survivor = None
    try:
        subscribe_and_change(url, key, receiver, 12)
        wait_for(lambda: receiver.arrived >= 8, 30)  # the doomed worker holds 8 deliveries
        survivor = start_worker()
        wait_for(lambda: receiver.arrived >= 12, 30)  # and the survivor the other 4
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        killed_at = time.monotonic()
        receiver.refuse_held = True
        receiver.open.set()
        committed = committed_event_ids(url, key, "organization.updated")
        assert len(committed) == 12
        wait_for(lambda: committed <= {h["webhook-id"] for h, _ in receiver.requests}, 30)
        assert time.monotonic() - killed_at < 15, "taken over within seconds, not a long lease"
    finally:
        doomed.kill()
        if survivor is not None:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(20)
        process.terminate()
        process.wait(20)
        receiver.close()


async def terminate_listeners(database_url: str) -> int:
    """End the server side of every LISTENing connection to the database; how many."""
    conn = await asyncpg.connect(database_url)
    try:
        return len(
            await conn.fetch(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%' "
                "AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


@pytest.mark.skipif(not POSTGRES_SERVER, reason="LISTEN/NOTIFY is PostgreSQL's")
def test_a_worker_process_is_woken_by_each_commit_not_by_its_poll(where):
    key = operator_key(where)
    receiver = Receiver()
    slow_poll = {**FAST_RETRIES, "MSGPROFILES_JOB_POLL_SECONDS": "300"}
    process, url = start_server([*where, "--no-worker"], slow_poll)
    worker = subprocess.Popen(
        [EXECUTABLE, "worker", *where],
        env={**os.environ, **slow_poll},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        headers = {"x-api-key": key}
        httpx.post(f"{url}/v1/webhook_subscriptions", json={"url": receiver.url}, headers=headers)
        for n in range(4):  # each one would wait 300 s for a poll
            if n == 2:  # the listening connection is lost: the worker listens again
                assert asyncio.run(terminate_listeners(where[-1])) >= 1
            httpx.patch(f"{url}/v1/organization", json={"name": f"woken {n}"}, headers=headers)
            wait_for(lambda: len(receiver.requests) > n, 30)  # noqa: B023
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0
        process.terminate()
        process.wait(20)
        receiver.close()


def test_a_completion_whose_worker_was_killed_finishes_after_restart(where):
    from standardwebhooks import Webhook

    from tests.factories import brand_body, content

    key = operator_key(where)
    receiver = Receiver()
    slow = {**FAST_RETRIES, "MSGPROFILES_SANDBOX_LATENCY_SECONDS": "1"}
    process, url = start_server(where, slow)
    headers = {"x-api-key": key}
    try:
        brand = httpx.post(f"{url}/v1/brands", json=brand_body(), headers=headers).json()["data"]
        profile = httpx.post(
            f"{url}/v1/profiles",
            json={
                "name": "Sales",
                "short_name": "SALES",
                "description": "Order updates.",
                "brand_id": brand["id"],
                "sending_phone_number": "+15125550142",
            },
            headers=headers,
        ).json()["data"]
        base = f"{url}/v1/profiles/{profile['id']}"
        assert httpx.post(f"{base}/campaigns", json=content(), headers=headers).status_code == 201
        r = httpx.post(f"{base}/complete", json={"web_hook_url": receiver.url}, headers=headers)
        assert r.status_code == 202, r.text
        started = r.json()["data"]

        def registering() -> bool:
            got = httpx.get(f"{url}/v1/brands/{brand['id']}", headers=headers).json()["data"]
            return bool(got["registration_status"] == "pending")

        wait_for(registering, 20)  # the job is inside its call to TCR
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert not receiver.requests

        process, url = start_server(where, slow)
        base = f"{url}/v1/profiles/{profile['id']}"

        def settled() -> bool:
            done = httpx.get(f"{base}/completion", headers=headers).json()["data"]
            return bool(done["callback"]["status"] == "succeeded")

        wait_for(settled, 60)
        done = httpx.get(f"{base}/completion", headers=headers).json()["data"]
        assert (done["id"], done["status"], done["outcome"]) == (
            started["id"],
            "succeeded",
            "submitted",
        )
        [(received_headers, body)] = receiver.requests
        assert Webhook(started["callback_secret"]).verify(body, received_headers)["data"]["success"]
        events = httpx.get(f"{url}/v1/events", params={"limit": 100}, headers=headers).json()
        types = [e["type"] for e in events["data"]]
        assert types.count("brand.submitted") == 1 and types.count("profile.completed") == 1
        assert types.count("brand.verified") == 1 and types.count("campaign.approved") == 1
    finally:
        process.kill()
        process.wait(10)
        receiver.close()

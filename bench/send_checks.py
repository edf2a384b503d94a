"""The pre-send check at a steady rate: latency of POST /v1/send_checks at 1,000 checks/s.

    python bench/send_checks.py                      # SQLite, 1000/s for 10 s
    python bench/send_checks.py --rate 1500 --seconds 20
    python bench/send_checks.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Starts `msgprofiles serve` (one process, auth, rate limits and access logs on) on a fresh
database with a completed profile, an approved campaign and an onboarded customer's WhatsApp
account, then sends checks open-loop — one every 1/rate seconds whatever the answers, half by
profile (SMS), half by phone number id (WhatsApp) — and reports the achieved rate and the
latency percentiles. Goal: p99 under 5 ms on SQLite at 1,000 checks/s."""

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import drop_postgres, free_port, fresh_database, operator_key, start_msgprofiles

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.factories import brand_body, content


def arrange(url: str, key: str, database_url: str) -> tuple[str, str]:
    """(a ready profile's id, an onboarded account's phone number id)."""
    headers = {"x-api-key": key}

    def post(path: str, body: dict) -> dict:
        r = httpx.post(url + path, json=body, headers=headers)
        assert r.is_success, r.text
        return r.json()["data"]

    brand = post("/v1/brands", brand_body())
    profile = post("/v1/profiles", {"name": "Bench", "brand_id": brand["id"]})
    post(f"/v1/profiles/{profile['id']}/campaigns", content())
    asyncio.run(_make_ready(database_url, profile["id"]))
    customer = post("/v1/customers", {"name": "Bench customer"})
    link = post(f"/v1/customers/{customer['id']}/setup_links", {})
    with httpx.Client() as browser:
        page = browser.get(link["setup_url"])
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert browser.post(link["setup_url"], data={"csrf_token": csrf}).status_code == 200
    account = httpx.get(
        url + "/v1/whatsapp_accounts", params={"customer_id": customer["id"]}, headers=headers
    ).json()["data"][0]
    return profile["id"], account["phone_number_id"]


async def _make_ready(database_url: str, profile_id: str) -> None:
    """Completed and approved, as after TCR's review (the bench measures the check)."""
    from sqlalchemy import update

    from msgprofiles.campaigns.models import campaigns
    from msgprofiles.db.database import open_database
    from msgprofiles.profiles.models import profiles

    database = open_database(database_url)
    async with database.connect() as conn, conn.transaction():
        await conn.execute(
            update(profiles).where(profiles.c.id == profile_id).values(status="completed")
        )
        await conn.execute(
            update(campaigns).where(campaigns.c.profile_id == profile_id).values(status="approved")
        )
    await database.close()


async def load(
    url: str, key: str, bodies: list[dict], rate: float, seconds: float, connections: int = 16
) -> tuple[list[float], int, float]:
    """Open loop: request n is due at n/rate seconds and its latency counts from then, so a
    server that falls behind shows it (no coordinated omission). A small HTTP/1.1 client on
    keep-alive connections, light enough to leave the server the CPU it needs."""
    host, port = url.removeprefix("http://").split(":")
    payloads = []
    for body in bodies:
        data = json.dumps(body).encode()
        head = (
            f"POST /v1/send_checks HTTP/1.1\r\nHost: {host}\r\nx-api-key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        payloads.append(head.encode() + data)
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        while (item := await queue.get()) is not None:
            due, payload = item
            writer.write(payload)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            latencies.append((time.perf_counter() - due) * 1000)
            if status != 200 or b'"allowed":true' not in answer:
                errors += 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    total = int(rate * seconds)
    begin = time.perf_counter()
    for n in range(total):
        due = begin + n / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, payloads[n % len(payloads)]))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, errors, time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_msgprofiles(workdir, port, database_url, MSGPROFILES_PUBLIC_URL=url)
    try:
        key = operator_key(workdir, url)
        profile_id, phone_number_id = arrange(url, key, database_url)
        bodies = [
            {"profile_id": profile_id, "to": "+14155550123", "channel": "sms"},
            {"phone_number_id": phone_number_id, "to": "+14155550123", "channel": "whatsapp"},
        ]
        asyncio.run(load(url, key, bodies, args.rate, 2))  # warm up
        latencies, errors, elapsed = asyncio.run(load(url, key, bodies, args.rate, args.seconds))
    finally:
        server.terminate()
        server.wait(30)
        if args.database_url:
            drop_postgres(database_url)
    latencies.sort()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"\n{backend}, one server process, open loop at {args.rate:.0f} checks/s")
    print(f"achieved      {len(latencies) / elapsed:.0f} checks/s, {errors} errors")
    print(
        f"latency       p50 {statistics.median(latencies):.2f} ms   p99 {p99:.2f} ms   "
        f"max {latencies[-1]:.1f} ms   ({'meets' if p99 < 5 else 'MISSES'} the 5 ms p99 goal)"
    )


if __name__ == "__main__":
    main()

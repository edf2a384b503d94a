"""Profiles: requests/s of create, get, list and select_sender, and list latency for an
organization with 1k profiles next to one with 1M (keyset pages stay flat).

    python bench/profiles.py [--profiles 1000000]
    python bench/profiles.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Needs wrk. The large organization is seeded straight into the database (through the same
tables), then read through the API like any other."""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from msgprofiles.core.ids import new_id
from msgprofiles.db.database import open_database
from msgprofiles.profiles.models import profiles
from msgprofiles.profiles.service import new_profile_row
from run import (
    GET_SCRIPT,
    POST_SCRIPT,
    drop_postgres,
    free_port,
    fresh_database,
    operator_key,
    start_msgprofiles,
    wrk,
)

SELECT_SCRIPT = POST_SCRIPT.replace("bench key", "x").replace(
    '{{"name": "x"}}', '{{"to": "+12125550100"}}'
)


async def seed(database_url: str, organization_id: str, count: int) -> float:
    """Insert `count` profiles for the organization in batches; the seconds it took."""
    from sqlalchemy import insert

    started = time.perf_counter()
    database = open_database(database_url)
    template = new_profile_row(organization_id, "seeded", is_parent=False)
    async with database.connect() as conn:
        for offset in range(0, count, 10_000):
            batch = [
                {**template, "id": new_id("prof"), "name": f"Seeded {offset + n}"}
                for n in range(min(10_000, count - offset))
            ]
            async with conn.transaction():
                await conn.execute(insert(profiles), batch)  # type: ignore[arg-type]
    await database.close()
    return time.perf_counter() - started


def latencies(url: str, key: str, params: dict[str, str], rounds: int = 200) -> tuple[float, float]:
    times = []
    with httpx.Client(base_url=url, headers={"x-api-key": key}) as client:
        for _ in range(rounds):
            started = time.perf_counter()
            assert client.get("/v1/profiles", params=params).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def deep_cursor(url: str, key: str) -> str:
    """The cursor of a page near the end: the list walked once, 100 at a time."""
    cursor, last = None, None
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=60) as client:
        while True:
            params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
            page = client.get("/v1/profiles", params=params).json()
            if not page["has_more"]:
                return last or cursor or ""
            last, cursor = cursor, page["next_cursor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_msgprofiles(workdir, port, database_url)
    rows = []
    try:
        operator = operator_key(workdir, url)
        headers = {"x-api-key": operator}

        def tenant(name: str) -> tuple[str, str]:
            created = httpx.post(f"{url}/v1/organizations", json={"name": name}, headers=headers)
            data = created.json()["data"]
            key = data["api_key"]["secret"]
            httpx.patch(
                f"{url}/v1/organization",
                headers={"x-api-key": key},
                json={"whatsapp_business_account": {"waba_id": "w", "access_token": "t"}},
            )
            return data["id"], key

        small_id, small_key = tenant("Small")
        large_id, large_key = tenant("Large")
        auth = {"x-api-key": small_key}
        profile = httpx.post(
            f"{url}/v1/profiles",
            headers=auth,
            json={
                "name": "Pool",
                "messaging": {"number_pool": {"enabled": True, "sticky_sender": True}},
            },
        ).json()["data"]
        for n in range(4):
            httpx.post(
                f"{url}/v1/numbers",
                headers=auth,
                json={
                    "number": f"+1415555{n + 200:04d}",
                    "type": "long_code",
                    "profile_id": profile["id"],
                },
            )

        results = {
            "POST /v1/profiles": wrk(
                url,
                "/v1/profiles",
                POST_SCRIPT.format(key=small_key, tag="p", path="/v1/profiles"),
                args.seconds,
                16,
            ),
            "GET /v1/profiles/{id}": wrk(
                url,
                f"/v1/profiles/{profile['id']}",
                GET_SCRIPT.format(key=small_key),
                args.seconds,
                16,
            ),
            "GET /v1/profiles": wrk(
                url, "/v1/profiles", GET_SCRIPT.format(key=small_key), args.seconds, 16
            ),
            "POST …/select_sender": wrk(
                url,
                f"/v1/profiles/{profile['id']}/select_sender",
                SELECT_SCRIPT.format(
                    key=small_key, tag="s", path=f"/v1/profiles/{profile['id']}/select_sender"
                ),
                args.seconds,
                16,
            ),
        }
        small_count = 1000 - len(
            httpx.get(f"{url}/v1/profiles", params={"limit": 100}, headers=auth).json()["data"]
        )
        asyncio.run(seed(database_url, small_id, max(0, small_count)))
        seeded = asyncio.run(seed(database_url, large_id, args.profiles))
        for label, key in (("1k", small_key), (f"{args.profiles // 1000}k", large_key)):
            first = latencies(url, key, {"limit": "20"})
            deep = latencies(url, key, {"limit": "20", "cursor": deep_cursor(url, key)}, 50)
            rows.append((label, first, deep))
    finally:
        server.terminate()
        server.wait(30)
        if args.database_url:
            drop_postgres(database_url)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{backend}, one server process, wrk -t1 -c16 -d{args.seconds}s\n")
    print(f"{'request':<26}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:<26}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}")
    print(f"\nGET /v1/profiles?limit=20, sequential (seeded {args.profiles} in {seeded:.0f} s)")
    print(f"{'profiles':<12}{'first page p50/p99 ms':>24}{'last pages p50/p99 ms':>24}")
    for label, first, deep in rows:
        print(f"{label:<12}{first[0]:>13.2f} /{first[1]:>7.2f}{deep[0]:>13.2f} /{deep[1]:>7.2f}")


if __name__ == "__main__":
    main()

"""Contacts at scale: the bulk import, the batch endpoint, and lookups at 1k and 1M contacts.

    python bench/contacts.py                          # SQLite, 1,000,000 contacts
    python bench/contacts.py --records 200000         # a shorter run
    python bench/contacts.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Starts `msgprofiles serve` (one process with its in-process worker; auth, rate limits, access
logs on) on a fresh database, then:

1. import: streams an NDJSON file of `--records` contacts (external id, name, email, phone
   number, two attributes) to POST /v1/contacts/imports and times it from the first byte
   sent to the import's `completed`; samples the server's resident memory meanwhile.
   Goals: 20,000 contacts/s on PostgreSQL, 5,000/s on SQLite; memory flat.
2. batch: 100-item batches of creates to POST /v1/contacts/batch from 4 connections for
   `--seconds`. Goal: 5,000 contacts/s on PostgreSQL.
3. lookups: GET by external_id, by msisdn, by app-profile key, and the first and the last
   list page, sequentially, in an organization of 1,000 contacts and in the one of the
   import (each contact also gets an app profile, written by SQL). Goal: each p99 at most
   1.5x the same at 1k.
"""

import argparse
import asyncio
import base64
import contextlib
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import (
    autovacuum_of,
    drop_postgres,
    free_port,
    fresh_database,
    operator_key,
    start_msgprofiles,
)

ATTRIBUTES = [
    {"name": "plan", "type": "enum", "values": ["free", "gold"]},
    {"name": "score", "type": "number"},
]


def record(prefix: str, n: int, lean: bool = False) -> dict:
    """A contact; `lean`: without email and phone number, whose checks (email-validator,
    phonenumbers) are most of an import's cost."""
    fields = {
        "external_id": f"{prefix}{n:07}",
        "name": f"Person {n}",
        "attributes": {"plan": "gold" if n % 3 else "free", "score": n % 100},
    }
    if lean:
        return fields
    return fields | {"email": f"person{n}@example.com", "msisdn": f"+1415{2_000_000 + n:07}"}


def ndjson(prefix: str, count: int, lean: bool) -> Iterator[bytes]:
    """The file, generated as it is sent (64 KiB pieces), never held whole."""
    piece: list[bytes] = []
    size = 0
    for n in range(count):
        line = json.dumps(record(prefix, n, lean)).encode() + b"\n"
        piece.append(line)
        size += len(line)
        if size >= 65536:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


def rss_mib(pid: int) -> float:
    """The server's own memory (RssAnon), its worker processes' included: not the database
    pages SQLite maps, which count in its resident size but are the operating system's
    cache."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_mib(int(child))
    return total


def run_import(url: str, key: str, prefix: str, count: int, pid: int, lean: bool) -> dict:
    headers = {"x-api-key": key, "content-type": "application/x-ndjson"}
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_mib(pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    before = rss_mib(pid)
    sampler.start()
    began = time.perf_counter()
    r = httpx.post(
        url + "/v1/contacts/imports",
        content=ndjson(prefix, count, lean),
        headers=headers,
        timeout=600,
    )
    assert r.status_code == 202, r.text
    uploaded = time.perf_counter() - began
    import_id = r.json()["data"]["id"]
    while True:
        state = httpx.get(f"{url}/v1/contacts/imports/{import_id}", headers=headers).json()["data"]
        if state["status"] != "running" and state["status"] != "queued":
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - began
    done.set()
    sampler.join()
    assert state["status"] == "completed" and state["created"] == count, state
    return {
        "seconds": elapsed,
        "upload_seconds": uploaded,
        "rate": count / elapsed,
        "rss_before": before,
        "rss_max": max(samples),
        "rss_samples": samples,
    }


async def run_batches(url: str, key: str, seconds: float, connections: int = 4) -> float:
    headers = {"x-api-key": key}
    created = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal created
        while time.perf_counter() < deadline:
            items = [
                {"action": "create", "contact": record("batch-", next(counter))} for _ in range(100)
            ]
            r = await http.post("/v1/contacts/batch", json={"items": items}, headers=headers)
            assert r.status_code == 200 and r.json()["data"]["failed"] == 0, r.text[:500]
            created += 100

    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(connections)))
    return created / (time.perf_counter() - began)


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)]


def last_page_cursor(url: str, headers: dict[str, str], oldest_ids: list[str]) -> str:
    """The cursor of the last page of 100: the list's own digest (read from a real cursor)
    with the id just above the 100 oldest."""
    first = httpx.get(url + "/v1/contacts", params={"limit": 100}, headers=headers).json()
    raw = base64.urlsafe_b64decode(first["next_cursor"] + "==").decode()
    version, digest, _ = raw.split(":")
    text = f"{version}:{digest}:{oldest_ids[100]}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@dataclass
class Organization:
    key: str
    prefix: str  # of its contacts' external ids
    count: int
    oldest: list[str]  # its 101 oldest contacts' ids


def measure_lookups(
    url: str, organizations: list[Organization], rounds: int, lean: bool
) -> list[dict[str, tuple[float, float]]]:
    """Each kind of read, alternating between the organizations request by request, so that
    both see the same machine (a background checkpoint, a busy moment) alike."""
    rng = random.Random(7)

    def kinds(org: Organization) -> dict[str, Callable[[int], tuple[str, dict]]]:
        cursor = last_page_cursor(url, {"x-api-key": org.key}, org.oldest)
        found: dict[str, Callable[[int], tuple[str, dict]]] = {
            "by external_id": lambda n: (
                "/v1/contacts/lookup",
                {"external_id": f"{org.prefix}{n:07}"},
            ),
            "by msisdn": lambda n: (
                "/v1/contacts/lookup",
                {"msisdn": record(org.prefix, n)["msisdn"]},
            ),
            "by app-profile key": lambda n: (
                "/v1/contacts/lookup",
                {"app_id": "messenger", "key": f"psid-{org.prefix}{n:07}"},
            ),
            "first list page": lambda n: ("/v1/contacts", {"limit": 100}),
            "last list page": lambda n: ("/v1/contacts", {"limit": 100, "cursor": cursor}),
        }
        if lean:  # its contacts have no phone number
            del found["by msisdn"]
        return found

    requests = [kinds(org) for org in organizations]
    results: list[dict[str, tuple[float, float]]] = [{} for _ in organizations]
    clients = [httpx.Client(base_url=url, headers={"x-api-key": org.key}) for org in organizations]
    with contextlib.ExitStack() as stack:
        for client in clients:
            stack.enter_context(client)
        for name in requests[0]:
            latencies: list[list[float]] = [[] for _ in organizations]
            for i in range(rounds + 100):
                for org, http, made, measured in zip(
                    organizations, clients, requests, latencies, strict=True
                ):
                    path, params = made[name](rng.randrange(org.count))
                    began = time.perf_counter()
                    r = http.get(path, params=params)
                    if i >= 100:  # the first hundred warm up
                        measured.append((time.perf_counter() - began) * 1000)
                    assert r.status_code == 200, (name, r.text)
            for result, measured in zip(results, latencies, strict=True):
                result[name] = percentiles(measured)
    return results


async def seed_app_profiles_and_read_oldest(database_url: str, organization_id: str) -> list[str]:
    """One app profile per contact (by SQL: the bench measures the lookup, not the
    writes); the ids of the 101 oldest contacts."""
    from sqlalchemy import text

    from msgprofiles.db.database import open_database

    database = open_database(database_url)
    concat = "'cap_' || substr(id, 4)"
    async with database.connect() as conn, conn.transaction():
        await conn.execute(
            text(
                "INSERT INTO contact_app_profiles (organization_id, id, contact_id, app_id, "
                "key_name, key, attributes, devices, created_at, updated_at) "
                f"SELECT organization_id, {concat}, id, 'messenger', 'psid', "
                "'psid-' || external_id, '{}', '[]', created_at, updated_at "
                "FROM contacts WHERE organization_id = :org"
            ),
            {"org": organization_id},
        )
    async with database.connect() as conn:
        rows = await conn.fetch_all(
            text("SELECT id FROM contacts WHERE organization_id = :org ORDER BY id LIMIT 101"),
            {"org": organization_id},
        )
        if database.dialect == "postgresql":
            await conn.execute(text("ANALYZE"))
    await database.close()
    return [row["id"] for row in reversed(rows)]


def new_organization(url: str, operator: str, name: str) -> tuple[str, str]:
    r = httpx.post(url + "/v1/organizations", json={"name": name}, headers={"x-api-key": operator})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    for attribute in ATTRIBUTES:
        created = httpx.post(
            url + "/v1/contact_attributes",
            json=attribute,
            headers={"x-api-key": data["api_key"]["secret"]},
        )
        assert created.status_code == 201, created.text
    return data["id"], data["api_key"]["secret"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10, help="of the batch phase")
    parser.add_argument("--rounds", type=int, default=2000, help="requests per lookup kind")
    parser.add_argument(
        "--lean", action="store_true", help="import contacts without email and phone number"
    )
    parser.add_argument("--workers", type=int, default=1, help="API processes (PostgreSQL)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_msgprofiles(workdir, port, database_url, MSGPROFILES_WORKERS=str(args.workers))
    try:
        operator = operator_key(workdir, url)
        small_org, small_key = new_organization(url, operator, "Small")
        large_org, large_key = new_organization(url, operator, "Large")
        _batch_org, batch_key = new_organization(url, operator, "Batches")

        run_import(url, small_key, "s", 1000, server.pid, args.lean)
        imported = run_import(url, large_key, "l", args.records, server.pid, args.lean)
        batches = asyncio.run(run_batches(url, batch_key, args.seconds))
        small_oldest = asyncio.run(seed_app_profiles_and_read_oldest(database_url, small_org))
        large_oldest = asyncio.run(seed_app_profiles_and_read_oldest(database_url, large_org))
        small, large = measure_lookups(
            url,
            [
                Organization(small_key, "s", 1000, small_oldest),
                Organization(large_key, "l", args.records, large_oldest),
            ],
            args.rounds,
            args.lean,
        )
    finally:
        server.terminate()
        server.wait(30)
        if args.database_url:
            drop_postgres(database_url)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    goal = 20_000 if args.database_url else 5_000
    print(f"\n{backend}, {args.workers} server process(es), each with its worker")
    if args.database_url:
        print(f"autovacuum {autovacuum_of(args.database_url)} (the server's setting)")
    print(
        f"import     {args.records:,} contacts in {imported['seconds']:.1f} s "
        f"(upload {imported['upload_seconds']:.1f} s): {imported['rate']:,.0f} contacts/s "
        f"({'meets' if imported['rate'] >= goal else 'MISSES'} the {goal:,}/s goal)"
    )
    print(
        f"memory     server RSS {imported['rss_before']:.0f} MiB before, "
        f"{imported['rss_max']:.0f} MiB at most during the import"
    )
    print(f"batch      {batches:,.0f} contacts/s in 100-item batches (goal on PostgreSQL: 5,000/s)")
    print(f"\n{'lookup':<20} {'1k p50':>8} {'1k p99':>8} {'big p50':>8} {'big p99':>8}  ratio")
    for name in small:
        (p50s, p99s), (p50l, p99l) = small[name], large[name]
        ratio = p99l / p99s
        print(
            f"{name:<20} {p50s:>7.2f}  {p99s:>7.2f}  {p50l:>7.2f}  {p99l:>7.2f}   {ratio:.2f}"
            f"{'' if ratio <= 1.5 else '  (over 1.5)'}"
        )


if __name__ == "__main__":
    main()

"""The Sent.dm dialect's cost: the same profile read and created through /dialects/sentdm/v3
and through the native /v1, alternately, on one server.

    python bench/sentdm.py [--rounds 3] [--seconds 5]
    python bench/sentdm.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Needs wrk. A dialect read also loads the profile's brand and the organization (its email), so
it costs more than a native one; this says how much."""

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import (
    GET_SCRIPT,
    POST_SCRIPT,
    Result,
    free_port,
    fresh_database,
    median,
    operator_key,
    start_msgprofiles,
    wrk,
)

BRAND = {
    "contact": {"name": "Ann Lee", "email": "ann@acme.example.com"},
    "compliance": {"brandRelationship": "SMALL_ACCOUNT", "vertical": "TECHNOLOGY"},
    "business": {"legalName": "Acme Inc.", "entityType": "PRIVATE_PROFIT", "country": "US"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_msgprofiles(workdir, port, database_url)
    try:
        key = operator_key(workdir, url)
        created = httpx.post(
            f"{url}/dialects/sentdm/v3/profiles",
            json={"name": "Bench", "brand": BRAND},
            headers={"x-api-key": key},
        )
        assert created.status_code == 201, created.text
        profile_id = created.json()["data"]["id"]
        native = "/v1/profiles"
        dialect = "/dialects/sentdm/v3/profiles"
        cases = {
            "GET profile (native)": (f"{native}/{profile_id}", GET_SCRIPT.format(key=key)),
            "GET profile (Sent.dm)": (f"{dialect}/{profile_id}", GET_SCRIPT.format(key=key)),
            "POST profile (native)": (
                native,
                POST_SCRIPT.format(key=key, tag="n", path=native),
            ),
            "POST profile (Sent.dm)": (
                dialect,
                POST_SCRIPT.format(key=key, tag="d", path=dialect),
            ),
        }
        results: dict[str, list[Result]] = {name: [] for name in cases}
        for _ in range(args.rounds):  # alternate, so drift hits every case alike
            for name, (path, script) in cases.items():
                results[name].append(wrk(url, path, script, args.seconds, 16))
    finally:
        server.terminate()
        server.wait(30)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{backend}, one server process, wrk -t1 -c16, median of {args.rounds} rounds\n")
    print(f"{'request':<26}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs native':>11}")
    medians = {name: median(runs) for name, runs in results.items()}
    for name, r in medians.items():
        base = medians[name.replace("Sent.dm", "native")]
        print(
            f"{name:<26}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
            f"{r.rps / base.rps:>10.0%}"
        )


if __name__ == "__main__":
    main()

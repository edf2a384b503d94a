"""Requests/s and p50/p99 latency of msgprofiles next to a raw-SQL ceiling.

    python bench/run.py                       # SQLite (the embedded default)
    python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Needs `wrk` (Debian: apt-get install wrk). Starts `msgprofiles serve` (one process, auth,
rate limiting, idempotency and JSON access logs on) on a fresh database, then bench/ceiling.py
on the same database, and loads each with the same wrk run. Not part of CI: it measures the
machine as much as the code."""

import argparse
import asyncio
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
TARGETS = {"read": 0.50, "write": 0.60}  # the goal, as a share of the ceiling's requests/s
TAIL = 2.0  # the goal: p99 at most this many times the ceiling's

GET_SCRIPT = """
wrk.headers["Authorization"] = "Bearer {key}"
"""
POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{{"name": "bench key"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local counter = 0
local thread_id = tostring(math.random(1, 1e9))
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "{tag}-" .. thread_id .. "-" .. counter
  return wrk.format(nil, "{path}")
end
"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, path: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, headers=headers, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def wrk(url: str, path: str, script: str, seconds: int, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    run = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name]
    subprocess.run([*run[:3], "-d2s", *run[4:], url + path], capture_output=True, check=True)
    out = subprocess.run([*run, url + path], capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=latency("50%"),
        p99_ms=latency("99%"),
        errors=int(errors.group(1)) if errors else 0,
    )


def fresh_postgres(server_url: str) -> str:
    import asyncpg

    name = f"msgprofiles_bench_{int(time.time())}"

    async def create() -> None:
        conn = await asyncpg.connect(server_url)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create())
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_postgres(database_url: str) -> None:
    """Remove a database made by fresh_postgres."""
    import asyncpg

    server_url, _, name = database_url.rpartition("/")

    async def drop() -> None:
        conn = await asyncpg.connect(f"{server_url}/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(drop())


def autovacuum_of(database_url: str) -> str:
    """The PostgreSQL server's autovacuum setting: off, the tables a long run fills keep the
    plans of their first seconds, and figures fall as the run goes on."""
    import asyncpg

    async def read() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            return str(await conn.fetchval("SELECT current_setting('autovacuum')"))
        finally:
            await conn.close()

    return asyncio.run(read())


def fresh_database(workdir: Path, postgres_url: str | None) -> str:
    """A new database on the PostgreSQL server given, else a SQLite file in workdir."""
    if postgres_url:
        return fresh_postgres(postgres_url)
    return f"sqlite:///{workdir / 'msgprofiles.sqlite3'}"


def start_msgprofiles(
    workdir: Path, port: int, database_url: str, **env: str
) -> subprocess.Popen[bytes]:
    """`msgprofiles serve` on a fresh database, logging to workdir/server.log."""
    return subprocess.Popen(
        [
            BIN / "msgprofiles",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(workdir),
            "--database-url",
            database_url,
        ],
        stdout=(workdir / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        env={"MSGPROFILES_RATE_LIMIT": "1000000/second", "PATH": str(BIN), **env},
    )


def operator_key(workdir: Path, url: str) -> str:
    """Wait for the server, then read the key it printed on its first start."""
    wait_healthy(url, "/health")
    return re.search(r"mpk_\S+", (workdir / "server.log").read_text()).group(0)  # type: ignore[union-attr]


def median(results: list[Result]) -> Result:
    def mid(values: list[float]) -> float:
        return statistics.median(values)

    return Result(
        rps=mid([r.rps for r in results]),
        p50_ms=mid([r.p50_ms for r in results]),
        p99_ms=mid([r.p99_ms for r in results]),
        errors=sum(r.errors for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating runs; medians shown")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    ours_port, ceiling_port = free_port(), free_port()
    urls = {
        "msgprofiles": f"http://127.0.0.1:{ours_port}",
        "ceiling": f"http://127.0.0.1:{ceiling_port}",
    }
    processes = [start_msgprofiles(workdir, ours_port, database_url)]
    try:
        operator = operator_key(workdir, urls["msgprofiles"])
        created = httpx.post(
            f"{urls['msgprofiles']}/v1/organizations",
            json={"name": "Bench"},
            headers={"x-api-key": operator},
        )
        key = created.json()["data"]["api_key"]["secret"]
        processes.append(
            subprocess.Popen([sys.executable, HERE / "ceiling.py", database_url, str(ceiling_port)])
        )
        wait_healthy(urls["ceiling"], "/v1/organization", {"Authorization": f"Bearer {key}"})

        requests = {
            "read": ("/v1/organization", lambda who: GET_SCRIPT.format(key=key)),
            "write": (
                "/v1/api_keys",
                lambda who: POST_SCRIPT.format(key=key, tag=who, path="/v1/api_keys"),
            ),
        }
        runs: dict[tuple[str, str], list[Result]] = {}
        for kind, (path, script) in requests.items():
            for _ in range(args.rounds):  # alternate, so drift in the machine hits both
                for who, url in urls.items():
                    runs.setdefault((who, kind), []).append(
                        wrk(url, path, script(who), args.seconds, args.connections)
                    )
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        if args.database_url:
            drop_postgres(database_url)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\n{backend}, one server process each, wrk -t1 -c{args.connections} "
        f"-d{args.seconds}s, median of {args.rounds} alternating runs\n"
    )
    print(f"{'request':<24}{'':>12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    names = {"read": "GET /v1/organization", "write": "POST /v1/api_keys"}
    for kind in ("read", "write"):
        ours, ceiling = median(runs["msgprofiles", kind]), median(runs["ceiling", kind])
        for who, r in (("msgprofiles", ours), ("ceiling", ceiling)):
            print(
                f"{names[kind]:<24}{who:>12}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
                f"{r.errors:>8}"
            )
        ratio, tail = ours.rps / ceiling.rps, ours.p99_ms / ceiling.p99_ms
        verdict = "meets" if ratio >= TARGETS[kind] else "MISSES"
        tail_verdict = "meets" if tail <= TAIL else "MISSES"
        print(f"{'':<24}{'ratio':>12}{ratio:>10.0%}   {verdict} the {TARGETS[kind]:.0%} goal")
        print(f"{'':<24}{'p99 ratio':>12}{tail:>10.1f}   {tail_verdict} the {TAIL:.0f}x goal\n")


if __name__ == "__main__":
    main()

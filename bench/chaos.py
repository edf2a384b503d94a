"""Mixed writes on PostgreSQL while an API process and a worker are killed: is anything lost?

    python bench/chaos.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/chaos.py --database-url … --seconds 60 --concurrency 16

Starts two API processes (`msgprofiles serve --no-worker`, each on its own port) and two
`msgprofiles worker` processes on a fresh database, subscribes two webhook receivers on
loopback, and runs `--seconds` of mixed writes (create a profile, rename one, create an API
key) from `--concurrency` clients spread over both API processes. A third of the way in, one
API process is killed (SIGKILL); half way, one worker. A client whose request dies with the
killed process retries it on the other one with the same Idempotency-Key, as a client should.

It reports: acknowledged writes lost (goal 0), committed events never delivered to a receiver
(goal 0), 5xx answers (goal 0; a killed process's connections fail without one), and the
latency of acknowledged writes. Bounded: the load stops after `--seconds`, the delivery wait
after 120 s more. Everything it starts listens on 127.0.0.1."""

import argparse
import asyncio
import itertools
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import BIN, drop_postgres, free_port, fresh_database, wait_healthy

WRITES = ("create_profile", "rename_profile", "create_key")


class Receiver:
    """A webhook receiver on loopback: the event ids it was sent (signed, 2xx answered)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.ids.add(self.headers["webhook-id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass
class Ledger:
    """What the clients were told: the truth the database must hold afterwards."""

    profile_names: dict[str, str] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    acknowledged: int = 0
    server_errors: list[str] = field(default_factory=list)
    dropped_connections: int = 0  # requests that died with the killed process, then retried


class Cluster:
    """The API processes a client may use; a dead one is left out once noticed."""

    def __init__(self, urls: list[str]) -> None:
        self.alive = list(urls)
        self._turn = itertools.count()

    def pick(self) -> str:
        return self.alive[next(self._turn) % len(self.alive)]

    def drop(self, url: str) -> None:
        if url in self.alive and len(self.alive) > 1:
            self.alive.remove(url)


def start(
    workdir: Path, name: str, args: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "msgprofiles"), *args],
        stdout=(workdir / f"{name}.log").open("w"),
        stderr=subprocess.STDOUT,
        env={"PATH": str(BIN), **env},
    )


async def write(
    client: httpx.AsyncClient, cluster: Cluster, ledger: Ledger, method: str, path: str, body: dict
) -> dict:
    """Send one write until it is acknowledged, on whichever API process is alive, always
    with the same Idempotency-Key; count 5xx answers and requests lost with a process."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    started = time.perf_counter()
    for _ in range(50):
        base = cluster.pick()
        try:
            r = await client.request(method, f"{base}{path}", json=body, headers=headers)
        except httpx.TransportError:
            ledger.dropped_connections += 1
            cluster.drop(base)
            await asyncio.sleep(0.05)
            continue
        if r.status_code >= 500:
            ledger.server_errors.append(f"{r.status_code} {method} {path}: {r.text[:200]}")
            await asyncio.sleep(0.05)
            continue
        if r.status_code == 409 and r.headers.get("x-should-retry") == "true":
            await asyncio.sleep(0.05)  # the same key still running elsewhere
            continue
        assert 200 <= r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        ledger.latencies_ms.append((time.perf_counter() - started) * 1000)
        ledger.acknowledged += 1
        data: dict = r.json()["data"]
        return data
    raise RuntimeError(f"{method} {path} was never acknowledged")


async def client_loop(
    number: int, cluster: Cluster, key: str, ledger: Ledger, until: float, seed: int
) -> None:
    chooser = random.Random(seed + number)
    mine: list[str] = []
    async with httpx.AsyncClient(headers={"x-api-key": key}, timeout=30) as client:
        for n in itertools.count():
            if time.monotonic() >= until:
                return
            kind = chooser.choice(WRITES) if mine else "create_profile"
            name = f"c{number} n{n}"
            if kind == "create_profile":
                profile = await write(
                    client, cluster, ledger, "POST", "/v1/profiles", {"name": name}
                )
                mine.append(profile["id"])
                ledger.profile_names[profile["id"]] = name
            elif kind == "rename_profile":
                target = chooser.choice(mine)
                await write(
                    client, cluster, ledger, "PATCH", f"/v1/profiles/{target}", {"name": name}
                )
                ledger.profile_names[target] = name
            else:
                created = await write(
                    client, cluster, ledger, "POST", "/v1/api_keys", {"name": name}
                )
                ledger.keys.add(created["id"])


async def load(
    cluster: Cluster,
    key: str,
    seconds: float,
    concurrency: int,
    kills: list[tuple[float, subprocess.Popen[bytes], str]],
) -> Ledger:
    ledger = Ledger()
    started = time.monotonic()

    async def killer() -> None:
        for at, process, what in kills:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            process.send_signal(signal.SIGKILL)
            print(f"  {time.monotonic() - started:5.1f} s  killed {what} (pid {process.pid})")

    await asyncio.gather(
        killer(),
        *(
            client_loop(n, cluster, key, ledger, started + seconds, seed=1)
            for n in range(concurrency)
        ),
    )
    return ledger


async def read_back(url: str, key: str, ledger: Ledger, since: str) -> tuple[int, set[str]]:
    """(acknowledged writes the database does not hold, every event committed since both
    receivers were subscribed)."""
    lost = 0
    async with httpx.AsyncClient(base_url=url, headers={"x-api-key": key}, timeout=30) as client:
        for profile_id, name in ledger.profile_names.items():
            r = await client.get(f"/v1/profiles/{profile_id}")
            if r.status_code != 200 or r.json()["data"]["name"] != name:
                lost += 1
        for key_id in ledger.keys:
            if (await client.get(f"/v1/api_keys/{key_id}")).status_code != 200:
                lost += 1
        events: set[str] = set()
        cursor = None
        while True:
            params = {"limit": 100, "created_after": since} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/events", params=params)).json()
            events |= {e["id"] for e in page["data"]}
            if not page["has_more"]:
                return lost, events
            cursor = page["next_cursor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-chaos-"))
    database_url = fresh_database(workdir, args.database_url)
    env = {
        "MSGPROFILES_DATA_DIR": str(workdir),
        "MSGPROFILES_DATABASE_URL": database_url,
        "MSGPROFILES_ALLOW_PRIVATE_WEBHOOKS": "true",
        "MSGPROFILES_RATE_LIMIT": "1000000/second",
        "MSGPROFILES_ACCESS_LOG": "false",
        "MSGPROFILES_WEBHOOK_RETRY_SCHEDULE": "[0.5, 1, 2, 5, 10]",
    }
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes: list[subprocess.Popen[bytes]] = []
    receivers = [Receiver(), Receiver()]
    try:
        first = start(workdir, "api-0", ["serve", "--no-worker", "--port", str(ports[0])], env)
        processes.append(first)
        wait_healthy(urls[0], "/health")
        key = next(
            word for word in (workdir / "api-0.log").read_text().split() if word.startswith("mpk_")
        )
        processes.append(
            start(workdir, "api-1", ["serve", "--no-worker", "--port", str(ports[1])], env)
        )
        wait_healthy(urls[1], "/health")
        processes += [start(workdir, f"worker-{n}", ["worker"], env) for n in range(2)]
        for receiver in receivers:
            r = httpx.post(
                f"{urls[1]}/v1/webhook_subscriptions",
                json={"url": receiver.url},
                headers={"x-api-key": key},
            )
            assert r.status_code == 201, r.text
        since = r.json()["data"]["created_at"]
        time.sleep(1)  # the workers are listening

        print(
            f"{args.seconds:.0f} s of mixed writes from {args.concurrency} clients, "
            "2 API processes, 2 workers"
        )
        kills = [
            (args.seconds / 3, processes[0], "API process 0"),
            (args.seconds / 2, processes[2], "worker 0"),
        ]
        load_started = time.monotonic()
        ledger = asyncio.run(load(Cluster(urls), key, args.seconds, args.concurrency, kills))
        load_seconds = time.monotonic() - load_started
        lost, events = asyncio.run(read_back(urls[1], key, ledger, since))
        deadline = time.monotonic() + 120
        ended = time.monotonic()
        while time.monotonic() < deadline and not all(events <= r.ids for r in receivers):
            time.sleep(0.1)
        drained = time.monotonic() - ended
        undelivered = sum(len(events - r.ids) for r in receivers)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_postgres(database_url)

    latencies = sorted(ledger.latencies_ms)
    print(
        f"acknowledged writes        {ledger.acknowledged} "
        f"({ledger.acknowledged / load_seconds:.0f}/s)"
    )
    print(f"acknowledged writes lost   {lost}")
    print(f"events committed           {len(events)} (x {len(receivers)} receivers)")
    print(
        f"events never delivered     {undelivered}  (all delivered {drained:.1f} s after the load)"
    )
    print(f"5xx answers                {len(ledger.server_errors)}")
    for error in ledger.server_errors[:5]:
        print(f"    {error}")
    print(
        "requests lost with the killed API process, retried elsewhere: "
        f"{ledger.dropped_connections}"
    )
    print(
        f"write latency              p50 {statistics.median(latencies):.1f} ms   "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms   max {latencies[-1]:.0f} ms"
    )
    print(f"logs in {workdir}")
    failed = lost or undelivered or ledger.server_errors
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""Webhook delivery: events/s from commit to receiver, and commit-to-delivery latency.

    python bench/webhooks.py [--events 2000] [--concurrency 16]
    python bench/webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/webhooks.py --database-url … --worker-process --rate 500

Starts `msgprofiles serve` (its in-process worker delivers, or with --worker-process a
`msgprofiles worker` of its own, woken by PostgreSQL's NOTIFY), subscribes a receiver on
loopback, makes `--events` changes (each creates an API key: an `api_key.created` event;
changes to one row, such as the organization's, would queue on its lock) and measures, for
each, the time from the acknowledged response to the signed delivery's arrival. With
`--rate`, the changes start at that steady rate (open loop: a slow server does not slow the
offered load), else as fast as the writers go."""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import BIN, free_port, fresh_database, operator_key, start_msgprofiles

arrivals: dict[str, float] = {}


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver: no connection per event

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        arrivals[body["data"]["name"]] = time.perf_counter()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def make_changes(
    url: str, key: str, count: int, concurrency: int, rate: float | None
) -> dict[str, float]:
    committed: dict[str, float] = {}
    names = iter(range(count))
    started = time.perf_counter()

    async def client_loop(client: httpx.AsyncClient) -> None:
        for n in names:
            if rate:  # the n-th change is due n / rate seconds in
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            name = f"bench {n}"
            r = await client.post("/v1/api_keys", json={"name": name, "role": "member"})
            assert r.status_code == 201, r.text
            committed[name] = time.perf_counter()

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"x-api-key": key}, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--worker-process", action="store_true", help="deliver from a separate worker process"
    )
    parser.add_argument("--rate", type=float, help="changes per second (default: flat out)")
    args = parser.parse_args()

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"MSGPROFILES_ALLOW_PRIVATE_WEBHOOKS": "true"}
    if args.worker_process:
        env["MSGPROFILES_RUN_WORKER"] = "false"
    server = start_msgprofiles(workdir, port, database_url, **env)
    worker = None
    try:
        key = operator_key(workdir, url)
        if args.worker_process:
            worker = subprocess.Popen(
                [BIN / "msgprofiles", "worker", "--database-url", database_url],
                stdout=(workdir / "worker.log").open("w"),
                stderr=subprocess.STDOUT,
                env={"PATH": str(BIN), **env, "MSGPROFILES_DATA_DIR": str(workdir)},
            )
            time.sleep(2)  # started and listening
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/"
        r = httpx.post(
            f"{url}/v1/webhook_subscriptions", json={"url": hook}, headers={"x-api-key": key}
        )
        assert r.status_code == 201, r.text
        started = time.perf_counter()
        committed = asyncio.run(make_changes(url, key, args.events, args.concurrency, args.rate))
        deadline = time.monotonic() + 120
        while len(arrivals) < args.events and time.monotonic() < deadline:
            time.sleep(0.05)
        finished = max(arrivals.values())
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(30)
        receiver.shutdown()

    latencies = sorted(max(0.0, arrivals[n] - committed[n]) * 1000 for n in arrivals)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    processes = "API + worker processes" if args.worker_process else "one process"
    offered = f"offered at {args.rate:.0f}/s" if args.rate else "flat out"
    print(
        f"\n{backend}, {processes}, {args.events} events, {args.concurrency} concurrent "
        f"writers, {offered}"
    )
    print(f"delivered            {len(arrivals)} of {args.events}")
    print(
        f"throughput           {len(arrivals) / (finished - started):.0f} events/s "
        "(first commit to last arrival)"
    )
    print(
        f"writes               {len(committed) / (max(committed.values()) - started):.0f}/s "
        "acknowledged"
    )
    print(
        f"commit -> delivery   p50 {statistics.median(latencies):.1f} ms   "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Webhook delivery: events/s from commit to receiver, and commit-to-delivery latency.

    python bench/webhooks.py [--seconds 20] [--connections 16] [--pause-ms 0]
    python bench/webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/webhooks.py --database-url … --worker-process

Starts `msgprofiles serve` (its in-process worker delivers, or with --worker-process a
`msgprofiles worker` of its own, woken by PostgreSQL's NOTIFY) and subscribes a receiver on
loopback. wrk then creates API keys from `--connections` writers for `--seconds` (each is an
`api_key.created` event; changes to one row, such as the organization's, would queue on its
lock). For each event the receiver takes the time from its `created_at` (stamped in the
transaction, just before the commit) to the signed delivery's arrival. The load generator
and the receiver are lean (wrk; an asyncio server in a process of its own): on a small
machine they share the cores with the service, and a Python client took half a core."""

import argparse
import asyncio
import json
import multiprocessing
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import (
    BIN,
    autovacuum_of,
    drop_postgres,
    free_port,
    fresh_database,
    operator_key,
    start_msgprofiles,
)

WRITES = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local counter = 0
local thread_id = tostring(math.random(1, 1e9))
request = function()
  counter = counter + 1
  wrk.body = '{{"name": "bench-' .. thread_id .. '-' .. counter .. '", "role": "member"}}'
  return wrk.format(nil, "/v1/api_keys")
end
delay = function()  -- each connection pauses between its requests (0: flat out)
  return {pause_ms}
end
"""


Arrivals = list[tuple[float, float]]


def receive(port: int, results: "multiprocessing.Queue[Arrivals]", stop_after: float) -> None:
    """An HTTP/1.1 receiver with keep-alive: for each delivery, its event's `created_at` and
    its arrival (epoch seconds). Returns them once nothing has arrived for `stop_after` s."""
    latencies: Arrivals = []
    last = [time.monotonic()]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                body = json.loads(await reader.readexactly(length))
                arrived = time.time()
                created = datetime.fromisoformat(body["created_at"]).timestamp()
                latencies.append((created, arrived))
                last[0] = time.monotonic()
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            while not latencies or time.monotonic() - last[0] < stop_after:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        results.put(latencies)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument(
        "--pause-ms",
        type=int,
        default=0,
        help="each connection's pause between its writes (default: none, flat out)",
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--worker-process", action="store_true", help="deliver from a separate worker process"
    )
    parser.add_argument(
        "--drain",
        action="store_true",
        help="with --worker-process: start the worker after the writes (its throughput alone)",
    )
    args = parser.parse_args()

    receiver_port = free_port()
    results: multiprocessing.Queue[Arrivals] = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receive, args=(receiver_port, results, 5.0))
    receiver.start()
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

        def start_worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [BIN / "msgprofiles", "worker", "--database-url", database_url],
                stdout=(workdir / "worker.log").open("w"),
                stderr=subprocess.STDOUT,
                env={"PATH": str(BIN), **env, "MSGPROFILES_DATA_DIR": str(workdir)},
            )

        if args.worker_process and not args.drain:
            worker = start_worker()
            time.sleep(2)  # started and listening
        hook = f"http://127.0.0.1:{receiver_port}/"
        r = httpx.post(
            f"{url}/v1/webhook_subscriptions", json={"url": hook}, headers={"x-api-key": key}
        )
        assert r.status_code == 201, r.text
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(WRITES.format(key=key, pause_ms=args.pause_ms))
        out = subprocess.run(
            ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "-s", lua.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        written = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if args.drain:
            drain_started = time.time()
            worker = start_worker()
        arrivals = results.get(timeout=600)
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(30)
        receiver.join(10)
        receiver.kill()
        if args.database_url:
            drop_postgres(database_url)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    processes = "API + worker processes" if args.worker_process else "one process"
    offered = f"pausing {args.pause_ms} ms" if args.pause_ms else "flat out"
    print(f"\n{backend}, {processes}, {args.connections} writers {offered}, {args.seconds} s")
    if args.database_url:
        print(f"autovacuum           {autovacuum_of(args.database_url)} (the server's setting)")
    print(f"written              {written / args.seconds:.0f}/s acknowledged ({written})")
    print(f"refused              {refused.group(1) if refused else 0}")
    print(f"delivered            {len(arrivals)} (also those written as wrk stopped)")
    if args.drain:
        drained = max(arrived for _, arrived in arrivals) - drain_started
        print(f"drained              {len(arrivals) / drained:.0f}/s by the worker alone")
    ms = sorted((arrived - created) * 1000 for created, arrived in arrivals)
    print(
        f"commit -> delivery   p50 {statistics.median(ms):.0f} ms   "
        f"p99 {ms[int(len(ms) * 0.99) - 1]:.0f} ms   max {ms[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()

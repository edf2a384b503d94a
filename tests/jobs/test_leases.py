"""Leases and heartbeats: a live worker keeps a long job however short the lease; the job
runs once."""

import asyncio
import dataclasses

from msgprofiles.jobs.runner import Worker, enqueue, handler
from msgprofiles.runtime import Runtime
from tests.conftest import Org

RUNS: list[str] = []
STARTED = asyncio.Event()


@handler("test.slow")
async def _slow(runtime: Runtime, job: object) -> None:
    RUNS.append(job["id"])  # type: ignore[index]
    STARTED.set()
    await asyncio.sleep(runtime.settings.job_lease_seconds * 4)


async def test_a_job_longer_than_its_lease_stays_with_its_live_worker(app, database, org: Org):
    runtime: Runtime = app.state.pipeline.runtime
    short = dataclasses.replace(
        runtime,
        settings=runtime.settings.model_copy(
            update={"job_lease_seconds": 0.6, "job_poll_seconds": 0.05}
        ),
    )
    async with database.connect() as conn, conn.transaction():
        job_id = await enqueue(conn, org.id, "test.slow", {})
    holder, rival = Worker(short), Worker(short)
    stop = asyncio.Event()
    running = asyncio.create_task(holder.run(stop))
    async with asyncio.timeout(5):
        await STARTED.wait()
    # Past three leases, the rival still finds nothing to take: the holder's heartbeat
    # renewed its lease each time.
    for _ in range(30):
        assert await rival.run_until_idle() == 0
        await asyncio.sleep(0.08)
    if holder._running:
        async with asyncio.timeout(10):
            await asyncio.wait(set(holder._running))
    stop.set()
    await running
    assert RUNS.count(job_id) == 1

"""The process pool for CPU-bound work: real processes, spawned, stopped when idle."""

import asyncio
import multiprocessing
import os
import time

from msgprofiles.core.processes import ProcessPool


def pool_pids() -> set[int]:
    return {process.pid for process in multiprocessing.active_children() if process.pid}


async def test_an_idle_pool_stops_its_processes_and_starts_them_again():
    pool = ProcessPool(1, idle_seconds=0.3)
    try:
        first = await pool.run(os.getpid)
        assert first != os.getpid() and first in pool_pids()
        await pool.run(time.sleep, 0.6)  # longer than idle_seconds, but busy all along
        assert await pool.run(os.getpid) == first, "a busy pool keeps its process"
        deadline = time.monotonic() + 10
        while first in pool_pids():
            assert time.monotonic() < deadline, "the idle pool's process never stopped"
            await asyncio.sleep(0.05)
        second = await pool.run(os.getpid)
        assert second not in (first, os.getpid())
    finally:
        pool.close()

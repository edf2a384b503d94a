"""CPU-bound work in other processes, so that it uses the machine's other cores and leaves the
event loop free: reading and checking a contact import's records (JSON, email addresses, phone
numbers) is most of an import's cost, and in the worker's own process it used one core.

The processes start on first use and are spawned, not forked: the parent holds an event loop,
threads and database connections that a forked child must not inherit.
"""

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")


def _child() -> None:
    # Ctrl-C reaches the whole process group: the parent shuts the pool down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed outright leaves its pool waiting for work for ever (each child holds
    # the task queue open): go with it.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(parent: int) -> None:
    multiprocessing.connection.wait([parent])
    os._exit(0)


class ProcessPool:
    """`processes` processes, started on first use and stopped once idle for `idle_seconds`:
    an import is rare, and every process of `serve --workers N` (and every worker) has a pool
    of its own, each process some 60 MiB."""

    def __init__(self, processes: int, idle_seconds: float = 60.0) -> None:
        self.processes = processes
        self.idle_seconds = idle_seconds
        self._executor: ProcessPoolExecutor | None = None
        self._calls = 0
        self._idle: asyncio.TimerHandle | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child,
            )
        return self._executor

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in one of the processes. A pool one of whose processes died (killed,
        out of memory) is replaced, and the call made once more."""
        loop, executor = asyncio.get_running_loop(), self._started()
        self._calls += 1
        if self._idle is not None:
            self._idle.cancel()
        try:
            return await loop.run_in_executor(executor, function, *args)
        except BrokenProcessPool:
            if self._executor is executor:  # not yet replaced by a concurrent call
                self.close()
            return await loop.run_in_executor(self._started(), function, *args)
        finally:
            self._calls -= 1
            if not self._calls:
                self._idle = loop.call_later(self.idle_seconds, self.close)

    def close(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

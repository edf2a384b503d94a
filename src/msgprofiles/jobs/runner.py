"""Background jobs on the database: the outbox that deliveries, and later profile completion,
TCR submission and link expiry, run from.

A job is written in the same transaction as the change that needs it (`enqueue`), so it exists
exactly when the change committed. Workers claim due jobs (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so any number of workers share the queue; SQLite: its single writer makes the claim
atomic), run the handler outside any transaction, and record the outcome only while they
still hold the job's lease. A running worker renews its jobs' leases (its heartbeat), so a
lease can be short however long a job runs; a job whose worker died is claimed again when its
lease runs out, seconds later. Handlers must be idempotent: a job may run more than once, and
is never lost.
"""

import asyncio
import contextlib
import os
import socket
import traceback
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from msgprofiles.core.ids import new_id
from msgprofiles.core.logging import logger
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Database, Row, prepare
from msgprofiles.db.types import UTCDateTime
from msgprofiles.jobs.models import jobs
from msgprofiles.runtime import Runtime

Handler = Callable[[Runtime, Row], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}
_LOCAL_WORKERS: "weakref.WeakSet[Worker]" = weakref.WeakSet()
JOBS_CHANNEL = "msgprofiles_jobs"


def _wake_local_workers() -> None:
    for worker in _LOCAL_WORKERS:
        worker.wake()


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind` (domains call this at import)."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


class Retry(Exception):
    """Raised by a handler: run the job again after `delay`."""

    def __init__(self, delay: timedelta, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


_insert = prepare(insert(jobs))
_now = bindparam("now", type_=UTCDateTime)
_due = or_(
    and_(jobs.c.status == "queued", jobs.c.run_at <= _now),
    and_(jobs.c.status == "running", jobs.c.locked_until < _now),
)
_claim = prepare(
    update(jobs)
    .where(
        jobs.c.id.in_(
            select(jobs.c.id)
            .where(_due)
            .order_by(jobs.c.run_at)
            .limit(bindparam("batch"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(
        status="running",
        locked_by=bindparam("worker"),
        locked_until=bindparam("until", type_=UTCDateTime),
        attempts=jobs.c.attempts + 1,
        updated_at=_now,
    )
    .returning(*jobs.c)
)
_mine = and_(jobs.c.id == bindparam("job_id"), jobs.c.locked_by == bindparam("worker"))
_finish = prepare(
    update(jobs)
    .where(_mine)
    .values(
        status=bindparam("status"),
        run_at=bindparam("run_at", type_=UTCDateTime),
        last_error=bindparam("error"),
        locked_by=None,
        locked_until=None,
        updated_at=_now,
    )
)
_purge = prepare(
    delete(jobs).where(
        jobs.c.status == "succeeded", jobs.c.updated_at < bindparam("cutoff", type_=UTCDateTime)
    )
)
_release = prepare(
    update(jobs)
    .where(jobs.c.locked_by == bindparam("worker"), jobs.c.status == "running")
    .values(status="queued", locked_by=None, locked_until=None, updated_at=_now)
)


_renew = prepare(
    update(jobs)
    .where(jobs.c.locked_by == bindparam("worker"), jobs.c.status == "running")
    .values(locked_until=bindparam("until", type_=UTCDateTime))
)
_release_all = prepare(
    update(jobs)
    .where(jobs.c.status == "running")
    .values(status="queued", locked_by=None, locked_until=None, updated_at=_now)
)


async def release_orphaned(database: Database) -> int:
    """Hand back every job marked running: for the embedded mode (SQLite, one process) at
    start, when the only worker that could hold them is the previous, dead process. Their
    leases would otherwise keep them for up to `job_lease_seconds`."""
    async with database.connect() as conn:
        return await conn.execute(_release_all, {"now": utcnow()})


_summary = prepare(
    select(
        jobs.c.kind,
        jobs.c.status,
        func.count().label("jobs"),
        func.min(jobs.c.run_at).label("earliest"),
    )
    .where(or_(jobs.c.status == "queued", jobs.c.status == "running"))
    .group_by(jobs.c.kind, jobs.c.status)
)


async def queue_summary(conn: Connection) -> list[tuple[str, str, int, float]]:
    """(kind, status, jobs, seconds the oldest due one has waited) for queued and running
    jobs: the figures an operator watches to see a queue fall behind."""
    now = utcnow()
    summary = []
    for row in await conn.fetch_all(_summary):
        waited = (now - row["earliest"]).total_seconds() if row["status"] == "queued" else 0.0
        summary.append((row["kind"], row["status"], int(row["jobs"]), max(waited, 0.0)))
    return summary


async def enqueue(
    conn: Connection,
    organization_id: str,
    kind: str,
    payload: Mapping[str, Any],
    *,
    delay: timedelta = timedelta(0),
) -> str:
    """Add a job inside the caller's transaction: it runs only if that transaction commits."""
    assert kind in HANDLERS, f"no handler registered for job kind {kind!r}"
    now = utcnow()
    job_id = new_id("job")
    conn.after_commit(_wake_local_workers)
    if not delay:
        await conn.notify(JOBS_CHANNEL)  # and the workers of other processes (PostgreSQL)
    await conn.execute(
        _insert,
        {
            "id": job_id,
            "organization_id": organization_id,
            "kind": kind,
            "payload": dict(payload),
            "status": "queued",
            "attempts": 0,
            "run_at": now + delay,
            "locked_by": None,
            "locked_until": None,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        },
    )
    return job_id


async def purge_succeeded(conn: Connection, older_than: timedelta) -> int:
    """Forget jobs that succeeded long ago (failed ones stay, for inspection)."""
    return await conn.execute(_purge, {"cutoff": utcnow() - older_than})


class Worker:
    """Claims and runs due jobs until stopped. `serve` runs one in-process; `msgprofiles
    worker` runs one as a process of its own."""

    def __init__(self, context: Runtime) -> None:
        settings = context.settings
        self.context = context
        self.database = context.database
        self.concurrency = settings.worker_concurrency
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self.poll = settings.job_poll_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{new_id('job')[-8:]}"
        self._running: set[asyncio.Task[None]] = set()
        self._batch = max(1, self.concurrency // 4)
        self._wake = asyncio.Event()
        _LOCAL_WORKERS.add(self)

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, grace: float = 10.0) -> None:
        """Work until `stop` is set; then let running jobs finish for `grace` seconds and hand
        back the rest to the queue."""
        logger.info("worker_started", worker=self.worker_id)
        listener = asyncio.create_task(self.database.listen(JOBS_CHANNEL, self.wake))
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                claimed = await self._claim_and_start()
                if claimed == 0 or len(self._running) >= self.concurrency:
                    self._wake.clear()
                    waiters = [
                        asyncio.ensure_future(stop.wait()),
                        asyncio.ensure_future(self._wake.wait()),
                    ]
                    await asyncio.wait(
                        [*waiters, *self._running],
                        timeout=self.poll,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            listener.cancel()
            heartbeat.cancel()
            if self._running:
                await asyncio.wait(self._running, timeout=grace)
            for task in self._running:
                task.cancel()
            with contextlib.suppress(Exception):
                async with self.database.connect() as conn:
                    await conn.execute(_release, {"worker": self.worker_id, "now": utcnow()})
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener  # its connection closed
            logger.info("worker_stopped", worker=self.worker_id)

    async def _heartbeat(self) -> None:
        """Every third of a lease, extend the leases of the jobs this worker runs: alive, it
        keeps them however long they take; dead, it loses them within one lease."""
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            if not self._running:
                continue
            try:
                async with self.database.connect() as conn:
                    await conn.execute(
                        _renew, {"worker": self.worker_id, "until": utcnow() + self.lease}
                    )
            except Exception:  # the next beat tries again; the lease still has two thirds
                logger.exception("job_heartbeat_failed", worker=self.worker_id)

    async def run_until_idle(self) -> int:
        """Run due jobs until none is left (for tests and the command line); how many ran.
        Callers bound it with `asyncio.timeout`."""
        ran = 0
        while True:
            ran += await self._claim_and_start()
            if not self._running:
                return ran
            await asyncio.wait(self._running)

    async def _claim_and_start(self) -> int:
        free = self.concurrency - len(self._running)
        if free < (self._batch if self._running else 1):
            return 0  # busy: claim once a few slots are free, not one claim per job
        now = utcnow()
        try:
            async with self.database.connect() as conn:
                claimed = await conn.write_returning(
                    _claim,
                    {
                        "now": now,
                        "until": now + self.lease,
                        "worker": self.worker_id,
                        "batch": free,
                    },
                )
        except Exception:
            logger.exception("job_claim_failed", worker=self.worker_id)
            return 0
        for job in claimed:
            task = asyncio.create_task(self._run_job(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(claimed)

    async def _run_job(self, job: Row) -> None:
        status, run_at, error = "succeeded", job["run_at"], None
        function = HANDLERS.get(job["kind"])
        try:
            if function is None:
                raise LookupError(f"no handler for job kind {job['kind']!r}")
            await function(self.context, job)
        except Retry as retry:
            status, run_at, error = "queued", utcnow() + retry.delay, str(retry)
        except asyncio.CancelledError:
            raise  # shutting down: the lease lapses or _release hands it back
        except Exception:
            status, error = "failed", traceback.format_exc(limit=5)
            logger.exception("job_failed", job_id=job["id"], kind=job["kind"])
        async with self.database.connect() as conn:
            await conn.execute(
                _finish,
                {
                    "job_id": job["id"],
                    "worker": self.worker_id,
                    "status": status,
                    "run_at": run_at,
                    "error": error,
                    "now": utcnow(),
                },
            )

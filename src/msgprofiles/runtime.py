"""What a running process shares: the database, settings, secret box, outbound HTTP client,
providers and random source. One `Runtime` is opened per process (`open_runtime`) by the API
app and by the worker command, and handed to routes (through `Context`) and to job handlers,
so nothing reaches for untyped global state."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from random import Random, SystemRandom

import aiohttp

from msgprofiles.config import Settings
from msgprofiles.core.crypto import SecretBox, load_secret_box
from msgprofiles.core.outbound import http_client
from msgprofiles.core.processes import ProcessPool
from msgprofiles.db.database import Database, open_database
from msgprofiles.providers import Providers


@dataclass
class Runtime:
    database: Database
    settings: Settings
    secrets: SecretBox
    http: aiohttp.ClientSession
    providers: Providers = field(default_factory=Providers)
    random: Random = field(default_factory=SystemRandom)  # tests seed their own
    processes: ProcessPool | None = None
    """For CPU-bound work (None: done in this process)."""


def secret_box(settings: Settings) -> SecretBox:
    """The key that encrypts stored secrets: configured, or generated once in the data dir."""
    return load_secret_box(settings.secret_key, settings.data_dir)


def providers(settings: Settings) -> Providers:
    """The outside world as configured: the sandboxes (real adapters plug in here)."""
    return Providers.sandboxes(settings.sandbox_latency_seconds)


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    database = open_database(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    count = settings.import_processes
    if count is None:
        count = os.cpu_count() or 1
    processes = ProcessPool(count) if count else None
    try:
        await database.check_configuration()
        async with http_client() as http:
            yield Runtime(
                database,
                settings,
                secret_box(settings),
                http,
                providers(settings),
                processes=processes,
            )
    finally:
        if processes is not None:
            processes.close()
        await database.close()

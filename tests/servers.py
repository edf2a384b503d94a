"""The service as real processes for the tests: `msgprofiles serve` on a free port, with its
output, or a live server on a fresh database of its own."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_SERVER, make_database

EXECUTABLE = str(Path(sys.executable).parent / "msgprofiles")


KEY = re.compile(r"mpk_[A-Za-z0-9_\-]{70}")


FAST_RETRIES = {
    "MSGPROFILES_ALLOW_PRIVATE_WEBHOOKS": "true",
    "MSGPROFILES_WEBHOOK_RETRY_SCHEDULE": "[0.2, 0.2, 0.2, 0.2, 0.2]",
    "MSGPROFILES_JOB_LEASE_SECONDS": "2",
    "MSGPROFILES_JOB_POLL_SECONDS": "0.1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_args(fresh_database: str) -> list[str]:
    return ["--database-url", fresh_database] if POSTGRES_SERVER else []


def _launch(args: tuple[str, ...], env: dict[str, str], output: int) -> tuple[Any, str]:
    """Start `msgprofiles serve …` on a free port and wait until /health answers."""
    port = free_port()
    process = subprocess.Popen(
        [EXECUTABLE, "serve", "--port", str(port), *args],
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
        if process.poll() is not None:
            break
    process.kill()
    out, _ = process.communicate(timeout=10)
    pytest.fail(f"the server did not start: {out or ''}")


@contextlib.contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """Run `msgprofiles serve …` until the block ends; yield its URL and its output lines
    (read as they come, so a chatty server never blocks on a full pipe)."""
    process, url = _launch(args, env or {}, subprocess.PIPE)
    lines: list[str] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield url, lines
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        reader.join(10)


def start_server(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A server the test kills itself (its output is not kept)."""
    process, url = _launch(tuple(args), env, subprocess.DEVNULL)
    return process, url


def operator_key(args: list[str]) -> str:
    with serve(*args) as (_, lines):
        pass
    return KEY.findall("\n".join(lines))[0]


@contextlib.contextmanager
def live_server(directory: Path, env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """A real `msgprofiles serve` on a fresh database of its own: (its URL, the operator's
    key)."""
    url, drop = make_database(directory, directory.name)
    where = ["--data-dir", str(directory), "--database-url", url]
    key = operator_key(where)
    process, base = start_server(where, env)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    try:
        yield base, key
    finally:
        process.kill()
        process.wait(10)
        drop()


def wait_for(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def tenant_keys(url: str, operator_key: str, name: str) -> tuple[str, str]:
    """A new tenant of a live server, without a WhatsApp account: its admin and member keys."""
    created = httpx.post(
        f"{url}/v1/organizations", json={"name": name}, headers={"x-api-key": operator_key}
    )
    assert created.status_code == 201, created.text
    admin = created.json()["data"]["api_key"]["secret"]
    member = httpx.post(
        f"{url}/v1/api_keys", json={"name": "m", "role": "member"}, headers={"x-api-key": admin}
    )
    assert member.status_code == 201, member.text
    return admin, member.json()["data"]["secret"]

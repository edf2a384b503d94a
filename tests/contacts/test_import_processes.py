"""Imports against real server processes: killed mid-way and resumed, uploads that stop
arriving, slow but steady uploads, and the size limit."""

import asyncio
import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from msgprofiles.contacts.models import contact_imports
from msgprofiles.db.database import open_database
from tests.servers import FAST_RETRIES, operator_key, start_server, wait_for

RECORDS = 100_000


@pytest.fixture
def where(tmp_path, fresh_database) -> list[str]:
    return ["--data-dir", str(tmp_path), "--database-url", fresh_database]


def stored_progress(database_url: str, import_id: str) -> int:
    """Read from the database itself, while no server runs."""

    async def read() -> int:
        database = open_database(database_url)
        try:
            async with database.connect() as conn:
                return int(
                    await conn.fetch_value(
                        select(contact_imports.c.bytes_processed).where(
                            contact_imports.c.id == import_id
                        )
                    )
                )
        finally:
            await database.close()

    return asyncio.run(read())


def the_file() -> bytes:
    return b"".join(
        json.dumps({"external_id": f"k{n:06}", "name": f"Person {n}"}).encode() + b"\n"
        for n in range(RECORDS)
    )


def state_and_parent(pid: int) -> tuple[str, int] | None:
    """From /proc: the process's state letter (Z: a zombie) and its parent; None: gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def children_of(pid: int) -> list[int]:
    found = [int(path.name) for path in Path("/proc").glob("[0-9]*")]
    return [n for n in found if (known := state_and_parent(n)) and known[1] == pid]


def alive(pid: int) -> bool:
    return (known := state_and_parent(pid)) is not None and known[0] != "Z"


def state(url: str, key: str, import_id: str) -> dict:
    r = httpx.get(f"{url}/v1/contacts/imports/{import_id}", headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_an_import_killed_mid_way_resumes_without_duplicates(where):
    key = operator_key(where)
    process, url = start_server(where, FAST_RETRIES)
    try:
        content = the_file()
        r = httpx.post(
            f"{url}/v1/contacts/imports",
            content=content,
            headers={"x-api-key": key, "content-type": "application/x-ndjson"},
            timeout=60,
        )
        assert r.status_code == 202, r.text
        import_id = r.json()["data"]["id"]
        wait_for(lambda: state(url, key, import_id)["bytes_processed"] > 0, 30)
        pool = children_of(process.pid)
        assert pool, "records are read in a process pool"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert 0 < stored_progress(where[-1], import_id) < len(content), "killed mid-way"
        wait_for(lambda: not any(alive(pid) for pid in pool), 10)  # the pool goes with it

        process, url = start_server(where, FAST_RETRIES)
        wait_for(lambda: state(url, key, import_id)["status"] == "completed", 60)
        done = state(url, key, import_id)
        assert (done["records"], done["created"], done["unchanged"], done["failed"]) == (
            RECORDS,
            RECORDS,
            0,
            0,
        ), "each record applied exactly once"

        again = httpx.post(
            f"{url}/v1/contacts/imports",
            content=content,
            headers={"x-api-key": key, "content-type": "application/x-ndjson"},
            timeout=60,
        ).json()["data"]
        wait_for(lambda: state(url, key, again["id"])["status"] == "completed", 60)
        assert state(url, key, again["id"])["unchanged"] == RECORDS
    finally:
        process.kill()
        process.wait(10)


def upload_head(host: str, port: int, key: str, length: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(
        b"POST /v1/contacts/imports HTTP/1.1\r\nHost: test\r\n"
        + f"x-api-key: {key}\r\ncontent-type: application/x-ndjson\r\n".encode()
        + f"content-length: {length}\r\n\r\n".encode()
    )
    return sock


def response_of(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_uploads_that_stop_leave_nothing_and_steady_ones_may_take_long(where):
    key = operator_key(where)
    limits = {
        **FAST_RETRIES,
        "MSGPROFILES_REQUEST_TIMEOUT_SECONDS": "1",
        "MSGPROFILES_MAX_IMPORT_BYTES": "1048576",
    }
    process, url = start_server(where, limits)
    host, port = url.removeprefix("http://").split(":")
    line = b'{"external_id": "slow", "name": "Steady"}\n'
    try:
        # Slow but steady: 3 s in all, never 1 s without a byte.
        sock = upload_head(host, int(port), key, len(line) * 6)
        for _ in range(6):
            sock.sendall(line)
            time.sleep(0.5)
        assert response_of(sock).startswith(b"HTTP/1.1 202"), "a steady upload is not cut off"
        sock.close()

        # Stalled: half a file, then silence.
        sock = upload_head(host, int(port), key, 400_000)
        sock.sendall(line * 4000)
        assert response_of(sock).split(b"\r\n")[0] in (b"HTTP/1.1 408 Request Timeout", b"")
        sock.close()

        # Gone: half a file, then the client leaves.
        sock = upload_head(host, int(port), key, 400_000)
        sock.sendall(line * 4000)
        sock.close()

        # Too large for MSGPROFILES_MAX_IMPORT_BYTES, announced or not.
        too_large = httpx.post(
            f"{url}/v1/contacts/imports",
            content=iter([line * 30_000]),  # streamed: no Content-Length
            headers={"x-api-key": key, "content-type": "application/x-ndjson"},
        )
        assert too_large.status_code == 413, too_large.text

        def only_the_steady_one() -> bool:
            listed = httpx.get(f"{url}/v1/contacts/imports", headers={"x-api-key": key})
            return [i["bytes_received"] for i in listed.json()["data"]] == [len(line) * 6]

        wait_for(only_the_steady_one, 10)
    finally:
        process.kill()
        process.wait(10)

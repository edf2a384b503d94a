"""What `serve` does with oversized headers and requests that never finish arriving, over
raw sockets to a real server: a client cannot hold memory or connections for long."""

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import database_args, serve

LIMITS = {
    "MSGPROFILES_MAX_HEADER_BYTES": "16384",
    "MSGPROFILES_REQUEST_TIMEOUT_SECONDS": "1.5",
    "MSGPROFILES_KEEP_ALIVE_SECONDS": "1",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, request) -> Iterator[tuple[str, int]]:
    directory = tmp_path_factory.mktemp("limits")
    fresh = request.getfixturevalue("module_database")
    with serve("--data-dir", str(directory), *database_args(fresh), env=LIMITS) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


@pytest.fixture(scope="module")
def module_database(tmp_path_factory) -> Iterator[str]:
    from tests.conftest import make_database

    url, drop = make_database(tmp_path_factory.mktemp("limitsdb"), "limits")
    yield url
    drop()


def connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """One whole response (headers, then Content-Length bytes of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_headers_over_the_limit_are_431_and_under_it_are_served(server):
    with connect(server) as sock:
        padding = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"a" * 1000) for n in range(20))
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n")
        response = read_all(sock)
        assert status_of(response) == 431 and b"connection: close" in response
    with connect(server) as sock:
        padding = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"a" * 1000) for n in range(12))
        sock.sendall(
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + padding + b"\r\n"
        )
        assert status_of(read_all(sock)) == 200


def test_a_huge_header_is_refused_before_it_has_all_arrived(server):
    """64 MiB announced in one header: the answer comes after about the limit, and the rest
    is never read."""
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        sent, refused = 0, False
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            refused = True
        assert refused and sent < 4 * 1024 * 1024, f"the server read {sent} bytes"


def test_partial_headers_get_408_within_the_timeout(server):
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        response = read_all(sock)
        assert status_of(response) == 408
        assert time.monotonic() - started < 6


def test_a_partial_body_gets_408_and_the_server_stays_responsive(server):
    sockets = []
    for _ in range(20):
        sock = connect(server)
        sock.sendall(
            b"POST /v1/profiles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"name": '
        )
        sockets.append(sock)
    host, port = server
    assert httpx.get(f"http://{host}:{port}/health").status_code == 200, "others are served"
    for sock in sockets:
        with sock:
            assert status_of(read_all(sock)) == 408


def test_silent_and_idle_keep_alive_connections_are_closed(server):
    with connect(server) as silent:
        started = time.monotonic()
        assert status_of(read_all(silent)) == 408
        assert time.monotonic() - started < 6
    with connect(server) as idle:
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(read_response(idle)) == 200
        started = time.monotonic()
        assert read_all(idle) == b"", "closed, not answered again"
        assert time.monotonic() - started < 6


def test_a_slow_application_is_not_cut(server):
    """The timeout is on the request's arrival, not on the answer: a client may send slowly
    within it."""
    results: list[int] = []

    def slow_sender() -> None:
        with connect(server) as sock:
            body = b'{"name": "Slowly"}'
            sock.sendall(
                b"POST /v1/profiles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            for byte in body[:-1]:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
            sock.sendall(body[-1:])
            results.append(status_of(read_all(sock)))

    thread = threading.Thread(target=slow_sender)
    thread.start()
    thread.join(10)
    assert results == [401], "the request arrived whole and reached the app (no key: 401)"

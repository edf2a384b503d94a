"""The HTTP/1.1 protocol `serve` runs: uvicorn's httptools protocol with the two limits it
lacks, so a slow or oversized request cannot hold a connection or memory for long.

- Headers (request line included) over `max_header_bytes` are refused with 431 as soon as
  that many bytes have arrived, never read in full.
- A request whose headers and body have not all arrived `request_timeout` seconds after its
  first byte (or a new connection that sends nothing) gets 408 and the connection closes.
  The body of an upload (a path in `upload_paths`: a file of any size) is only required to
  keep arriving: `request_timeout` without a byte ends it. The time the application then
  takes is not limited. Idle keep-alive connections close
  after uvicorn's `timeout_keep_alive`.
"""

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from msgprofiles.config import Settings
from msgprofiles.core.http import UPLOAD_PATHS


class _Refused(Exception):
    """Stops the parser once a response has been written."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        *args: Any,
        max_header_bytes: int,
        request_timeout: float,
        upload_paths: frozenset[bytes] = frozenset(),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.request_timeout = request_timeout
        self.upload_paths = upload_paths
        self._uploading = False
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_headers = False
        self._header_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._uploading and self._deadline is not None:
            self._arm()  # an upload's body only has to keep arriving
        if self._reading_headers and not self._refused:
            # Every byte of this chunk went into headers still incomplete: count it now,
            # so a huge header is refused at the limit, not after it has all arrived.
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(431, "Request header fields too large.")

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # the parser's complaint about a request already answered
            self._refuse(400, msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_headers = True
        self._uploading = False
        self._header_bytes = 0
        self._arm()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._uploading = self.url.partition(b"?")[0] in self.upload_paths
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._refuse(431, "Request header fields too large.")
            raise _Refused
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # too late for a status: just end it
        else:
            self._refuse(408, "The request did not arrive in time.")

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` and close the connection (the request never reaches the app, or
        the app sees the client disconnect)."""
        self._refused = True
        self._disarm()
        if self.transport.is_closing():
            return
        body = message.encode()
        self.transport.write(
            b"".join(
                (
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                )
            )
        )
        self.transport.close()


def http_protocol(settings: Settings) -> Any:
    """The protocol for `uvicorn.run(http=…)` (a partial: it pickles into worker processes)."""
    return functools.partial(
        GuardedHttpToolsProtocol,
        max_header_bytes=settings.max_header_bytes,
        request_timeout=settings.request_timeout_seconds,
        upload_paths=frozenset(path.encode() for path in UPLOAD_PATHS),
    )

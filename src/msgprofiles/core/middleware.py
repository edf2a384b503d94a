"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware): request ids and access logs, and
the request body size limit."""

import time
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from msgprofiles.core import metrics
from msgprofiles.core.errors import ErrorCode
from msgprofiles.core.ids import new_request_id
from msgprofiles.core.logging import logger
from msgprofiles.core.responses import error_response

_MAX_REQUEST_ID = 128


def _valid_request_id(value: str) -> bool:
    return 0 < len(value) <= _MAX_REQUEST_ID and all(c.isalnum() or c in "-_.:" for c in value)


class RequestContextMiddleware:
    """Takes `X-Request-Id` from the caller (or makes one), binds it to every log line, echoes
    it on the response, writes one access log line and the request metrics per request, and
    turns any unhandled exception into a 500 error envelope. HEAD is answered as GET without
    the body."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _valid_request_id(candidate):
                    request_id = candidate
                break
        request_id = request_id or new_request_id()
        method = scope["method"]
        if method == "HEAD":  # the GET route answers; only its headers go out
            scope = {**scope, "method": "GET"}
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            elif method == "HEAD" and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BodyTooLarge as exc:
            if response_started:
                raise
            await error_response(
                ErrorCode.payload_too_large,
                f"The request body is larger than {exc.limit} bytes.",
                request_id,
            )(scope, receive, send_with_id)
        except ClientDisconnect:
            status = 499  # the client went (or the server cut a late request): no one to answer
        except Exception:
            logger.exception("unhandled_error", method=method, path=_logged_path(scope))
            if response_started:
                raise
            await error_response(
                ErrorCode.internal_error, "An internal error occurred.", request_id
            )(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = metrics.route_template(scope)
            metrics.requests.labels(method, route, status).inc()
            metrics.request_duration.labels(method, route).observe(duration)
            if self.access_log:
                logger.info(
                    "request",
                    method=method,
                    path=_logged_path(scope),
                    status=status,
                    duration_ms=round(duration * 1000, 2),
                    **_caller_fields(scope),
                )
            structlog.contextvars.clear_contextvars()


def _logged_path(scope: Scope) -> str:
    """The path, but a route whose path carries a secret (`/setup/{token}`) as its template:
    secrets are never logged."""
    route = metrics.route_template(scope)
    return route if "{token}" in route else str(scope["path"])


def _caller_fields(scope: Scope) -> dict[str, Any]:
    caller = scope.get("state", {}).get("caller")
    if caller is None:
        return {}
    return {"organization_id": caller.organization_id, "api_key_id": caller.key_id}


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` (over `uploads[path]` on an upload path) with
    413, whether announced by Content-Length or streamed without one."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, uploads: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = dict(uploads or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.uploads.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    raise BodyTooLarge(limit)
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)

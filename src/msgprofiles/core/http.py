"""The route class every API router uses, native or dialect.

For each request it checks one connection out of the pool and holds it to the end, resolves
the caller once, applies the per-key rate limit, runs `Idempotency-Key` POST/PATCH requests
through `idempotency`, and renders domain and validation errors. A dialect subclasses it to
change how the API key is read from the request and how errors look on its wire.
"""

import contextlib
import json
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, cast

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import Message

from msgprofiles.core import idempotency
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.pagination import Page
from msgprofiles.core.ratelimit import RateLimiter, RateLimitState
from msgprofiles.core.responses import JSONResponse, domain_error_response
from msgprofiles.core.schemas import ErrorEnvelope
from msgprofiles.db.database import Connection
from msgprofiles.runtime import Runtime

Authenticator = Callable[[Connection, str], Awaitable[Caller]]
"""Turns an API key secret into a Caller, or raises DomainError."""
ProfileActor = Callable[[Connection, Caller, str], Awaitable[Caller]]
"""`X-Profile-Id`: the caller narrowed to one of its organization's profiles, or raises."""


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What every request passes through, wired once by app.py and shared with the dialect
    sub-applications: core names the functions it needs, the domains provide them."""

    runtime: Runtime
    authenticate: Authenticator
    act_as_profile: ProfileActor
    rate_limiter: RateLimiter
    idempotency_ttl: timedelta


def pipeline_of(request: Request) -> Pipeline:
    return cast(Pipeline, request.app.state.pipeline)


_IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})
_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})


def _require_json(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise DomainError(
            ErrorCode.unsupported_media_type,
            "Send the request body as JSON (Content-Type: application/json).",
        )


UPLOAD_PATHS = frozenset({"/v1/contacts/imports"})
"""The routes whose body streams to the handler (`UploadRoute`): they take bodies of any size
(up to `max_import_bytes`), and the server times their body out when it stops arriving, not
when it has not all arrived."""


class ApiRoute(APIRoute):
    streams_body = False
    """True: the handler reads the body as a stream (`request.stream()`); it is not read
    before, so it is neither JSON-checked, sandboxed nor fingerprinted."""
    idempotent_methods: frozenset[str] = _IDEMPOTENT_METHODS
    """Methods whose `Idempotency-Key` replays the first response."""
    replay_ignores_body = False
    """True: a key replays its first answer whatever the new body (else another body is a
    422 `idempotency_key_reused`)."""
    sandbox_header = "Sandbox"
    """The header that marks a sandbox answer."""

    @classmethod
    def validate_idempotency_key(cls, key: str) -> None:
        idempotency.validate_key(key)

    @classmethod
    def api_key_of(cls, request: Request) -> str | None:
        """The secret the caller presented: `Authorization: Bearer …` or `x-api-key`."""
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else ""
        return request.headers.get("x-api-key")

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return domain_error_response(error, request.state.request_id)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            pipeline = pipeline_of(request)
            rate: RateLimitState | None = None
            try:
                sandbox = False
                body = b""
                reads_body = request.method in _BODY_METHODS or request.method == "DELETE"
                if reads_body and not self.streams_body:
                    if request.method != "DELETE":
                        _require_json(request)
                    body = await request.body()  # before FastAPI does: 413 surfaces as 413
                _refuse_nul(request, body)
                if body:
                    request, sandbox = _without_sandbox_flag(request, body)
                async with pipeline.runtime.database.connect() as conn:
                    request.state.conn = conn
                    caller = await self._resolve_caller(request, conn, pipeline)
                    if caller is not None:
                        rate = await pipeline.rate_limiter.hit(caller.key_id or "cli")
                        if not rate.allowed:
                            raise DomainError(
                                ErrorCode.rate_limited,
                                "Too many requests for this API key; retry after the "
                                "Retry-After delay.",
                                headers=rate.headers(),
                            )
                    key = request.headers.get("idempotency-key")
                    if caller and key is not None and request.method in self.idempotent_methods:
                        self.validate_idempotency_key(key)  # sandbox or not, the same rules
                    if sandbox and caller is not None:
                        response = await _run_in_sandbox(request, conn, handler)
                        response.headers[self.sandbox_header] = "true"
                    elif (
                        caller is None
                        or key is None
                        or request.method not in self.idempotent_methods
                    ):
                        response = await handler(request)
                    else:
                        response = await self._run_idempotent(
                            request, conn, caller, key, handler, pipeline.idempotency_ttl
                        )
            except DomainError as error:
                response = self.render_error(request, error)
            except RequestValidationError as error:
                response = self.render_error(request, validation_error(error.errors()))
            except HTTPException as error:
                response = self.render_error(request, http_error(error, request))
            if rate is not None and rate.allowed:  # a 429 carries them already
                response.raw_headers.extend(rate.raw_headers())
            return response

        return route

    @classmethod
    async def _resolve_caller(
        cls, request: Request, conn: Connection, pipeline: Pipeline
    ) -> Caller | None:
        """Authenticate once per request. A missing or bad key is remembered, not raised:
        only routes that depend on `current_context` refuse it (the request state is also
        where the access log finds the caller)."""
        secret = cls.api_key_of(request)
        request.state.caller = None
        request.state.auth_error = None
        if secret is None:
            return None
        try:
            caller = await pipeline.authenticate(conn, secret)
        except DomainError as error:
            address = request.client.host if request.client else "unknown"
            failures = await pipeline.rate_limiter.hit_failure(address)
            request.state.auth_error = error
            if not failures.allowed:
                request.state.auth_error = DomainError(
                    ErrorCode.rate_limited,
                    "Too many wrong API keys from this address; retry after the Retry-After delay.",
                    headers=failures.headers(),
                )
            return None
        profile_id = request.headers.get("x-profile-id")
        if profile_id:  # an organization key acting for one of its profiles
            caller = await pipeline.act_as_profile(conn, caller, profile_id)
        request.state.caller = caller
        return caller

    @classmethod
    async def _run_idempotent(
        cls,
        request: Request,
        conn: Connection,
        caller: Caller,
        key: str,
        handler: Callable[[Request], Awaitable[Response]],
        ttl: timedelta,
    ) -> Response:
        body = b"" if cls.replay_ignores_body else await request.body()
        print_ = idempotency.fingerprint(request.method, request.url.path, request.url.query, body)
        try:
            async with conn.transaction():
                stored = await idempotency.claim(conn, caller.organization_id, key, print_, ttl)
                if stored is not None:
                    return Response(
                        stored.body,
                        status_code=stored.status,
                        media_type="application/json",
                        headers={
                            "Idempotent-Replayed": "true",
                            "X-Original-Request-Id": stored.request_id or "",
                        },
                    )
                response = await handler(request)
                if not 200 <= response.status_code < 300:
                    raise _RollBack(response)  # roll back: the key stays free for a retry
                await idempotency.record(
                    conn,
                    caller.organization_id,
                    key,
                    response.status_code,
                    bytes(response.body),
                    request.state.request_id,
                )
                return response
        except _RollBack as unsuccessful:
            return unsuccessful.response


class UploadRoute(ApiRoute):
    """A route whose handler streams a large body (a file): its path is in UPLOAD_PATHS.
    `Idempotency-Key` is not used (the body is not kept to compare a retry with): such a
    route must make a repeated upload harmless itself."""

    streams_body = True
    idempotent_methods = frozenset()


def _refuse_nul(request: Request, body: bytes) -> None:
    """U+0000 in a path, query or body string is refused up front: PostgreSQL cannot store it
    in text or JSON (SQLite can), so it is refused the same way on both."""
    found: list[dict[str, str]] = []
    if "\x00" in request.scope["path"]:
        found.append({"field": "", "location": "path"})
    if b"%00" in request.scope.get("query_string", b""):
        for name, value in request.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                found.append({"field": name.replace("\x00", ""), "location": "query"})
    if b"\\u0000" in body:
        with contextlib.suppress(ValueError):  # FastAPI reports the invalid JSON
            found += [{"field": f, "location": "body"} for f in _nul_fields(json.loads(body))]
    if found:
        for detail in found:
            detail |= {"type": "nul_character", "message": "U+0000 is not allowed in text."}
        raise DomainError(
            ErrorCode.validation_error, "The request contains a U+0000 character.", details=found
        )


def _nul_fields(value: Any, path: str = "") -> list[str]:
    """Where U+0000 stands in a parsed JSON value (dotted paths, like validation errors)."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            found.append(where.replace("\x00", ""))
        found += _nul_fields(item, where)
    return found


def _without_sandbox_flag(request: Request, body: bytes) -> tuple[Request, bool]:
    """Take `"sandbox": true|false` out of a JSON object body (every write accepts it), so
    the endpoint's own model never sees it."""
    if b'"sandbox"' not in body:
        return request, False
    try:
        parsed = json.loads(body)
    except ValueError:
        return request, False  # FastAPI reports the invalid JSON
    if not isinstance(parsed, dict) or "sandbox" not in parsed:
        return request, False
    flag = parsed.pop("sandbox")
    if not isinstance(flag, bool):
        raise DomainError(
            ErrorCode.validation_error,
            "sandbox is true or false.",
            details=[{"field": "sandbox", "type": "bool_type"}],
        )
    stripped = json.dumps(parsed).encode()

    async def receive() -> Message:
        return {"type": "http.request", "body": stripped, "more_body": False}

    return Request(request.scope, receive), flag


async def _run_in_sandbox(
    request: Request, conn: Connection, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Validate and answer as if done, and persist nothing: the request's writes, events and
    jobs happen in a transaction that is always rolled back."""
    try:
        async with conn.transaction():
            response = await handler(request)
            raise _RollBack(response)
    except _RollBack as done:
        return done.response


class _RollBack(Exception):
    """Roll the request's transaction back, then answer with `response`."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass(frozen=True, slots=True)
class Context:
    """What a route needs from its request: the caller, the request's one connection, the
    request id for the envelope and the process's runtime (settings, secrets, providers). One
    dependency instead of four: each FastAPI dependency costs time on every request."""

    caller: Caller
    conn: Connection
    request_id: str
    runtime: Runtime

    def ok(self, data: BaseModel | list[Any] | dict[str, Any], status_code: int = 200) -> Response:
        """The success envelope. Routes declare `response_model` for the docs and return
        this already-serialized response, so the model is not validated a second time."""
        return JSONResponse({"data": data, "request_id": self.request_id}, status_code)

    def page(self, page: Page[Any]) -> Response:
        return JSONResponse(
            {
                "data": page.items,
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
                "request_id": self.request_id,
            }
        )


async def current_context(request: Request) -> Context:
    """FastAPI dependency: the authenticated caller and the request's connection, or 401."""
    state = request.state
    caller: Caller | None = state.caller
    if caller is None:
        error: DomainError | None = state.auth_error
        raise error or DomainError(
            ErrorCode.unauthenticated,
            "Send an API key as `Authorization: Bearer <key>` or `x-api-key: <key>`.",
        )
    return Context(caller, state.conn, state.request_id, pipeline_of(request).runtime)


async def admin_context(request: Request) -> Context:
    """FastAPI dependency: as `current_context`, and 403 unless the key's role is admin."""
    context = await current_context(request)
    context.caller.require_admin()
    return context


async def operator_context(request: Request) -> Context:
    """FastAPI dependency: as `admin_context`, for the operator organization's keys only."""
    context = await current_context(request)
    context.caller.require_operator()
    return context


Ctx = Annotated[Context, Depends(current_context)]
"""Any valid API key (reads, and the few writes a member may make)."""
AdminCtx = Annotated[Context, Depends(admin_context)]
"""An admin API key: every route that changes configuration declares this one."""
OperatorCtx = Annotated[Context, Depends(operator_context)]
"""An admin key of the operator organization: managing tenants."""


def validation_error(errors: Any) -> DomainError:
    details = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part != "body"),
            "location": (error.get("loc") or ["body"])[0],
            "type": error.get("type"),
            "message": error.get("msg"),
        }
        for error in errors
    ]
    if any(d["type"] == "json_invalid" for d in details):
        return DomainError(ErrorCode.invalid_json, "The request body is not valid JSON.")
    return DomainError(ErrorCode.validation_error, "The request is invalid.", details=details)


_HTTP_CODES: Mapping[int, ErrorCode] = {
    400: ErrorCode.invalid_json,  # FastAPI: a body it could not decode
    404: ErrorCode.not_found,
    405: ErrorCode.method_not_allowed,
    413: ErrorCode.payload_too_large,
    415: ErrorCode.unsupported_media_type,
}


def http_error(error: HTTPException, request: Request) -> DomainError:
    """Starlette's own errors (unknown path, wrong method…) as ours, with their headers. A
    405's Allow names every method of the path: Starlette's names only the first route's."""
    code = _HTTP_CODES.get(error.status_code, ErrorCode.validation_error)
    detail = error.detail
    message = detail if isinstance(detail, str) else "The request could not be processed."
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return DomainError(code, message, headers=headers)


def _allowed_methods(request: Request) -> str:
    """The methods the app's OpenAPI document lists for the request's path (the public view
    of its routes; FastAPI nests included routers). A literal path (`/webhooks/event-types`)
    names its own methods, not those of a template it also fits (`/webhooks/{webhook_id}`)."""
    path, mount = request.scope["path"], request.scope.get("root_path", "")
    path = path.removeprefix(mount) if path.startswith(mount + "/") else path
    paths = request.app.openapi()["paths"]
    if path in paths:
        return ", ".join(sorted(method.upper() for method in paths[path]))
    methods = {
        method.upper()
        for template, operations in paths.items()
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path)
        for method in operations
    }
    return ", ".join(sorted(methods))


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Invalid request (validation_error, invalid_json, invalid_cursor, …)",
        401: "Missing, wrong or revoked API key",
        403: "The key's role or scope does not allow this",
        404: "Not found (also another organization's object)",
        409: "Conflict with the current state",
        413: "Request body too large",
        422: "Idempotency-Key reused with a different request",
        429: "Rate limited; see Retry-After",
    }.items()
}
"""Error responses every authenticated route documents in OpenAPI."""

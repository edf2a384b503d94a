"""The ASGI application: routers, middleware, error handlers, and the resources they share."""

import asyncio
import contextlib
import gc
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry import TelemetryConfig
from prometheus_client.core import GaugeMetricFamily
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from msgprofiles import __version__
from msgprofiles.api_keys import routes as api_key_routes
from msgprofiles.api_keys.service import REVOCATIONS_CHANNEL, authenticate, known_keys
from msgprofiles.brands import routes as brand_routes
from msgprofiles.campaigns import routes as campaign_routes
from msgprofiles.config import Settings
from msgprofiles.contacts import imports as contact_imports
from msgprofiles.contacts import routes as contact_routes
from msgprofiles.core import idempotency, metrics
from msgprofiles.core.docs import offline_docs
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import (
    UPLOAD_PATHS,
    Pipeline,
    http_error,
    pipeline_of,
    validation_error,
)
from msgprofiles.core.logging import configure_logging, logger
from msgprofiles.core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from msgprofiles.core.ratelimit import RateLimiter
from msgprofiles.core.responses import JSONResponse, domain_error_response
from msgprofiles.core.routing import RouteIndex
from msgprofiles.customers import routes as customer_routes
from msgprofiles.dashboard import console
from msgprofiles.dashboard import setup as setup_page
from msgprofiles.db.database import Database
from msgprofiles.dialects import imiconnect, kirimdev, opentact, plivo, sentdm, telnyx
from msgprofiles.dialects.toolkit import Dialect
from msgprofiles.jobs.runner import Worker, purge_succeeded, queue_summary, release_orphaned
from msgprofiles.numbers import routes as number_routes
from msgprofiles.organizations import routes as organization_routes
from msgprofiles.profiles import routes as profile_routes
from msgprofiles.profiles.service import act_as_profile
from msgprofiles.runtime import open_runtime
from msgprofiles.webhooks import delivery as _delivery  # noqa: F401  (registers its job)
from msgprofiles.webhooks import routes as webhook_routes
from msgprofiles.webhooks.events import purge_events
from msgprofiles.whatsapp import routes as whatsapp_routes
from msgprofiles.workflows import callbacks as _callbacks  # noqa: F401  (registers its job)
from msgprofiles.workflows import routes as workflow_routes

DESCRIPTION = """
The native API of msgprofiles.

* Authenticate with `Authorization: Bearer <api key>` or `x-api-key: <api key>`.
* Successful responses are `{"data": …, "request_id": "req_…"}`; lists add `has_more` and
  `next_cursor` (pass it back as `cursor`; `limit` is 1-100).
* Errors are `{"error": {"code", "message", "details"}, "request_id"}` with a stable `code`.
* POST and PATCH accept an `Idempotency-Key` header (1-255 characters): the same key with the
  same request replays the first response (header `Idempotent-Replayed: true`); the same key
  with a different request is a 422 `idempotency_key_reused`. Keys are kept for 24 hours.
* Every write accepts `"sandbox": true` in its body: the request is validated and answered
  as if done (header `Sandbox: true`), and nothing is persisted or sent.
* Each API key is rate limited; responses carry `RateLimit-Limit`, `RateLimit-Remaining` and
  `RateLimit-Reset`, and a 429 carries `Retry-After`.
"""

DIALECTS: tuple[Dialect, ...] = (
    sentdm.DIALECT,
    kirimdev.DIALECT,
    imiconnect.DIALECT,
    plivo.DIALECT,
    telnyx.DIALECT,
    opentact.DIALECT,
)
"""Every vendor dialect, each a sub-application at its own prefix: adding one is one line."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    rate_limiter = RateLimiter(
        settings.rate_limit, settings.redis_url, settings.auth_failure_rate_limit
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.pipeline = Pipeline(
                runtime=runtime,
                authenticate=authenticate,
                act_as_profile=act_as_profile,
                rate_limiter=rate_limiter,
                idempotency_ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
            )
            # The embedded mode is one process: jobs still marked running are the dead
            # previous process's, and need not wait out its leases.
            embedded = settings.run_worker and runtime.database.dialect == "sqlite"
            if embedded and (released := await release_orphaned(runtime.database)):
                logger.info("orphaned_jobs_released", jobs=released)
            housekeeping = asyncio.create_task(_housekeeping(runtime.database, settings))
            revocations = asyncio.create_task(
                runtime.database.listen(REVOCATIONS_CHANNEL, known_keys.forget)
            )
            stop = asyncio.Event()
            worker = asyncio.create_task(Worker(runtime).run(stop)) if settings.run_worker else None
            # Everything loaded so far lives as long as the process: keep it out of the
            # garbage collector's full passes, which otherwise walk it all and held every
            # request for ~250 ms at a time during a contact import (70 ms frozen).
            gc.freeze()
            try:
                yield
            finally:
                stop.set()
                if worker is not None:
                    await worker
                for task in (housekeeping, revocations):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    # Off, FastAPI skips the check for an OpenTelemetry provider it makes per request (2.5 %
    # of a simple read, measured with py-spy), in the app and in each dialect's.
    telemetry: TelemetryConfig | None = (
        None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False}
    )
    app = FastAPI(
        title="msgprofiles",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # its redirect would be built from the request's Host
        telemetry=telemetry,
    )

    app.include_router(organization_routes.router)
    app.include_router(api_key_routes.router)
    app.include_router(profile_routes.router)
    app.include_router(brand_routes.router)
    app.include_router(campaign_routes.router)
    app.include_router(number_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(customer_routes.router)
    app.include_router(contact_routes.attributes)
    app.include_router(contact_routes.router)
    app.include_router(whatsapp_routes.router)
    app.include_router(workflow_routes.router)
    app.include_router(workflow_routes.checks)
    app.include_router(workflow_routes.whatsapp_accounts)
    app.include_router(setup_page.router)
    app.include_router(console.public)
    app.include_router(console.own_session)
    app.include_router(console.router)
    # Dialects are sub-applications: their routes never slow the native API's matching.
    for dialect in DIALECTS:
        app.mount(dialect.prefix, dialect.create_app(app.state, telemetry))
    offline_docs(app)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/docs")

    @app.get("/health", tags=["Health"])
    async def health(request: Request) -> Response:
        """Liveness and database reachability; no authentication."""
        ok = await pipeline_of(request).runtime.database.ping()
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["Health"], response_class=Response)
    async def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics in the text format: requests by route and status with latency
        histograms, webhook delivery attempts by outcome and commit-to-delivery latency, jobs
        queued and running by kind with the wait of the oldest, database pool use. Open unless
        MSGPROFILES_METRICS_TOKEN is set; then it takes `Authorization: Bearer <token>`."""
        token = settings.metrics_token
        if token is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
            if not hmac.compare_digest(given, token.get_secret_value().encode()):
                raise DomainError(
                    ErrorCode.unauthenticated, "/metrics takes the metrics token as a bearer."
                )
        database = pipeline_of(request).runtime.database
        async with database.connect() as conn:
            summary = await queue_summary(conn)
        return Response(
            metrics.render(_snapshot(summary, database)), media_type=metrics.CONTENT_TYPE
        )

    # Errors raised outside an ApiRoute (unknown paths, wrong methods) get the same envelope.
    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        error = http_error(exc, request)
        path = request.url.path
        for dialect in DIALECTS:  # its bare prefix, which its mount does not reach
            if path == dialect.prefix or path.startswith(dialect.prefix + "/"):
                return dialect.render_error(request, error)
        return domain_error_response(error, _rid(request))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return domain_error_response(validation_error(exc.errors()), _rid(request))

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return domain_error_response(exc, _rid(request))

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    RouteIndex.install(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        uploads=dict.fromkeys(UPLOAD_PATHS, settings.max_import_bytes),
    )
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus what our route class handles for every endpoint: the two ways
    to send the API key, and Idempotency-Key on POST and PATCH."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "The API key."},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    }
    idempotency_key = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": "1-255 printable characters. Replays the first response for a retry of "
        "the same request (24 h); with another request it is a 422.",
    }
    sandbox = {
        "type": "boolean",
        "default": False,
        "description": "Validate and answer as if done, and persist nothing.",
    }
    components = schema["components"].get("schemas", {})
    for path, operations in schema["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            operation["security"] = [{"bearer": []}, {"apiKeyHeader": []}]
            if method in ("post", "patch"):
                operation.setdefault("parameters", []).append(idempotency_key)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            reference = (body or {}).get("schema", {}).get("$ref", "")
            for part in reference.rpartition("/")[2:]:
                if part in components:
                    components[part].setdefault("properties", {})["sandbox"] = sandbox
    app.openapi_schema = schema
    return schema


async def _housekeeping(database: Database, settings: Settings) -> None:
    """Hourly: forget expired idempotency records, old finished jobs, events past their
    retention and uploads abandoned mid-way (each process does it; it is idempotent)."""
    idempotency_ttl = timedelta(seconds=settings.idempotency_ttl_seconds)
    retention = timedelta(days=settings.event_retention_days)
    while True:
        try:
            async with database.connect() as conn:
                keys = await idempotency.purge_expired(conn, idempotency_ttl)
                done = await purge_succeeded(conn, timedelta(days=7))
                abandoned = await contact_imports.sweep_abandoned(conn, timedelta(hours=1))
            purged = await purge_events(database, retention) if retention else 0
            if keys or done or purged or abandoned:
                logger.info(
                    "housekeeping",
                    idempotency_keys_purged=keys,
                    jobs_purged=done,
                    events_purged=purged,
                    abandoned_uploads_removed=abandoned,
                )
        except Exception:
            logger.exception("housekeeping_failed")
        await asyncio.sleep(3600)


def _snapshot(
    summary: list[tuple[str, str, int, float]], database: Database
) -> list[GaugeMetricFamily]:
    jobs = GaugeMetricFamily(
        "msgprofiles_jobs", "Jobs queued or running, by kind.", labels=["kind", "status"]
    )
    waited = GaugeMetricFamily(
        "msgprofiles_jobs_oldest_wait_seconds",
        "How long the oldest due job of each kind has waited for a worker.",
        labels=["kind"],
    )
    for kind, status, count, oldest in summary:
        jobs.add_metric([kind, status], count)
        if status == "queued":
            waited.add_metric([kind], oldest)
    in_use, idle, limit = database.pool_usage()
    pool = GaugeMetricFamily(
        "msgprofiles_database_connections",
        "This process's database connections, by state (limit: the most it opens).",
        labels=["state"],
    )
    for state, value in (("in_use", in_use), ("idle", idle), ("limit", limit)):
        pool.add_metric([state], value)
    return [jobs, waited, pool]


def _rid(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def create_app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `msgprofiles serve --workers N`)."""
    return create_app(Settings())

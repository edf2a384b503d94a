"""What every dialect is made of, so that each one is translation only:

- ids: our prefixed ULIDs as the UUID strings some vendors speak, both ways, losslessly;
- numbered and offset pages with totals, served by the services' counted pages (the native
  API stays keyset);
- an error table per dialect (our `ErrorCode` → the vendor's code), complete or the import
  fails, and one retry policy: `x-should-retry: false` on every 4xx but 429, so a vendor SDK
  never repeats a refused request;
- `Dialect`: a sub-application with its own routes, OpenAPI document, offline docs and error
  envelope, sharing the main app's pipeline. app.py mounts each one in a line.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry import TelemetryConfig
from pydantic import ValidationError
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from ulid import ULID

from msgprofiles.core.docs import offline_docs
from msgprofiles.core.errors import STATUS, DomainError, ErrorCode, not_found
from msgprofiles.core.http import http_error, validation_error
from msgprofiles.core.ids import PREFIXES
from msgprofiles.core.pagination import Page, PageParams
from msgprofiles.core.routing import RouteIndex

# Ids ----------------------------------------------------------------------------------------


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DIGITS = frozenset(_CROCKFORD)
_AS_PYTHON_DIGITS = str.maketrans(_CROCKFORD, "0123456789abcdefghijklmnopqrstuv")


def to_uuid(prefixed_id: str) -> str:
    """`prof_01J…` as the UUID of the same 128 bits. The ULID is read as a number in base 32
    (Crockford's digits turned into Python's): python-ulid's parser took 6 µs, and an
    answer converts several ids. ValueError for what is no ULID."""
    _, _, ulid = prefixed_id.rpartition("_")
    ulid = ulid.upper()
    if len(ulid) != 26 or not _DIGITS.issuperset(ulid):
        raise ValueError(f"{prefixed_id!r} holds no ULID")
    return str(uuid.UUID(int=int(ulid.translate(_AS_PYTHON_DIGITS), 32)))


def from_uuid(prefix: str, value: str, code: ErrorCode, what: str) -> str:
    """The prefixed id a UUID stands for. A string that is no UUID names no object of ours:
    the `code` error (a not-found, or a validation error where the vendor says 400)."""
    assert prefix in PREFIXES, prefix
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise not_found(code, what, value) from None
    return f"{prefix}_{ULID.from_bytes(parsed.bytes)}"


def validated(
    model: Any,
    values: Mapping[str, Any],
    prefix: str = "",
    rename: Callable[[str], str] = str,
) -> Any:
    """`model` (a native input model) built from translated values; its validation errors
    become a 400 naming the field by the vendor's path (`prefix`, each part renamed), never a
    500."""
    try:
        return model.model_validate(values, strict=False)
    except ValidationError as error:
        failure = validation_error(error.errors())
        for detail in failure.details:
            parts = str(detail["field"]).split(".")
            detail["field"] = prefix + ".".join(rename(part) for part in parts)
        raise failure from None


# Pages --------------------------------------------------------------------------------------


def numbered(page: int, page_size: int) -> PageParams:
    """Page `page` (from 1) of `page_size` items, counted."""
    return PageParams(limit=page_size, cursor=None, offset=(page - 1) * page_size)


def offset(offset: int, limit: int) -> PageParams:
    """`limit` items after the first `offset`, counted."""
    return PageParams(limit=limit, cursor=None, offset=offset)


@dataclass(frozen=True, slots=True)
class Totals:
    """What vendors tell about a counted page."""

    total: int
    total_pages: int
    has_more: bool

    @classmethod
    def of(cls, result: Page[object], page_size: int) -> "Totals":
        total = result.total or 0
        return cls(total, -(-total // page_size), result.has_more)


# Errors and retries -------------------------------------------------------------------------

# A request still running under the same Idempotency-Key: retrying is the remedy.
_RETRYABLE_CONFLICTS = frozenset({ErrorCode.idempotency_key_in_progress})


def should_retry(code: ErrorCode, status: int) -> bool:
    """The one retry policy of every dialect: a vendor SDK may repeat a 429, a 5xx or a
    request still in flight; never another 4xx."""
    return status == 429 or status >= 500 or code in _RETRYABLE_CONFLICTS


@dataclass(frozen=True)
class ErrorTable:
    """A dialect's error codes, and the statuses where the vendor differs from ours."""

    dialect: str
    codes: Mapping[ErrorCode, str]
    statuses: Mapping[ErrorCode, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = sorted(code.value for code in set(ErrorCode) - set(self.codes))
        if missing:
            raise TypeError(f"The {self.dialect} error table has no code for: {missing}")

    def code(self, error: DomainError) -> str:
        return self.codes[error.code]

    def status(self, error: DomainError) -> int:
        return self.statuses.get(error.code, STATUS[error.code])

    def headers(self, error: DomainError) -> dict[str, str]:
        """The error's own headers (Retry-After, Allow…), and the retry policy's."""
        headers = dict(error.headers)
        if not should_retry(error.code, self.status(error)):
            headers["x-should-retry"] = "false"
        return headers


# Sub-applications ---------------------------------------------------------------------------

ErrorRenderer = Callable[[Request, DomainError], Response]


@dataclass(frozen=True)
class Dialect:
    prefix: str
    title: str
    description: str
    version: str
    routers: Sequence[APIRouter]
    render_error: ErrorRenderer

    def create_app(self, state: State, telemetry: TelemetryConfig | None = None) -> FastAPI:
        """The dialect as a sub-application sharing the main app's state (its pipeline): its
        own routes, OpenAPI document and docs, and its vendor's envelope for anything that
        fails, unknown paths and undecodable bodies included."""
        app = FastAPI(
            title=self.title,
            description=self.description,
            version=self.version,
            docs_url=None,
            redoc_url=None,
            redirect_slashes=False,  # its redirect would be built from the request's Host
            telemetry=telemetry,
        )
        app.state = state
        for router in self.routers:
            app.include_router(router)
        offline_docs(app)
        render = self.render_error

        @app.exception_handler(HTTPException)
        async def _http_error(request: Request, exc: HTTPException) -> Response:
            return render(request, http_error(exc, request))

        @app.exception_handler(RequestValidationError)
        async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
            return render(request, validation_error(exc.errors()))

        @app.exception_handler(DomainError)
        async def _domain_error(request: Request, exc: DomainError) -> Response:
            return render(request, exc)

        RouteIndex.install(app)
        return app

"""Telnyx's wire (../shared/spec/opentact.md §6, §7.2): `{data}` and `{data, meta}` envelopes,
errors as `{"errors": [{code, title, detail, source: {pointer}}]}` with Telnyx's catalogue codes,
422 for what fails validation, and the shared retry policy."""

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute
from msgprofiles.core.pagination import Page
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable, Totals

# Telnyx's catalogue (developers.telnyx.com, API errors): the code and its title.
MISSING = ("10004", "Missing required parameter")
INVALID = ("10015", "Invalid value")
NOT_FOUND = ("10005", "Resource not found")
UNAUTHENTICATED = ("10009", "Authentication failed")
FORBIDDEN = ("10010", "Authorization failed")
TOO_MANY = ("10011", "Too many requests")
UNEXPECTED = ("10007", "Unexpected error")

_CODES: dict[ErrorCode, str] = dict.fromkeys(ErrorCode, INVALID[0])
_CODES |= {code: NOT_FOUND[0] for code in ErrorCode if code.value.endswith("not_found")}
_CODES |= {
    ErrorCode.not_found: NOT_FOUND[0],
    ErrorCode.unauthenticated: UNAUTHENTICATED[0],
    ErrorCode.invalid_api_key: UNAUTHENTICATED[0],
    ErrorCode.api_key_revoked: UNAUTHENTICATED[0],
    ErrorCode.insufficient_role: FORBIDDEN[0],
    ErrorCode.profile_scope_forbidden: FORBIDDEN[0],
    ErrorCode.rate_limited: TOO_MANY[0],
    ErrorCode.internal_error: UNEXPECTED[0],
}
ERRORS = ErrorTable(
    "Telnyx",
    _CODES,
    statuses={ErrorCode.validation_error: 422, ErrorCode.invalid_phone_number: 422},
)
_TITLES: Mapping[str, str] = dict(
    [MISSING, INVALID, NOT_FOUND, UNAUTHENTICATED, FORBIDDEN, TOO_MANY, UNEXPECTED]
)

# Our field paths where Telnyx names the field otherwise.
_FIELDS: Mapping[str, str] = {
    "messaging.webhook_url": "webhook_url",
    "messaging.failover_url": "webhook_failover_url",
    "messaging.number_pool": "number_pool_settings",
    "messaging.whitelisted_destinations": "whitelisted_destinations",
    "messaging": "",
}


def pointer(field: str) -> str:
    """A field path as a JSON pointer on Telnyx's body: `/number_pool_settings/long_code_weight`."""
    for ours, theirs in _FIELDS.items():
        if field == ours or field.startswith(ours + "."):
            field = theirs + field[len(ours) :]
            break
    field = field.removeprefix("messaging.").strip(".")
    return "/" + field.replace(".", "/") if field else "/"


def _errors(error: DomainError) -> list[dict[str, Any]]:
    code = ERRORS.code(error)
    fields = [d for d in error.details if d.get("field") is not None]
    if not fields:
        return [{"code": code, "title": _TITLES[code], "detail": error.message}]
    errors = []
    for detail in fields:
        kind = MISSING if detail.get("type") == "missing" else (code, _TITLES[code])
        errors.append(
            {
                "code": kind[0],
                "title": kind[1],
                "detail": str(detail.get("message") or error.message),
                "source": {"pointer": pointer(str(detail["field"]))},
            }
        )
    return errors


def error_response(request: Request, error: DomainError) -> Response:
    return JSONResponse(
        {"errors": _errors(error)}, ERRORS.status(error), headers=ERRORS.headers(error)
    )


def data(value: Any) -> Response:
    return JSONResponse({"data": value})


def page(result: Page[Any], page_number: int, page_size: int) -> Response:
    totals = Totals.of(result, page_size)
    meta = {
        "page_number": page_number,
        "page_size": page_size,
        "total_pages": totals.total_pages,
        "total_results": totals.total,
    }
    return JSONResponse({"data": result.items, "meta": meta})


class TelnyxRoute(ApiRoute):
    """`Authorization: Bearer <key>` (the native reading), Telnyx's errors."""

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)

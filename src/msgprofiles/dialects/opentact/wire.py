"""Opentact's wire (../shared/spec/opentact.md §1, §5, §7.3): the `X-Auth-Token` header,
`{success: true, payload}`, and errors as `{success: false, message, status}` where a refused
state change is a 400 like a validation error."""

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response

from msgprofiles.core.errors import STATUS, DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable

_CODES: Mapping[ErrorCode, str] = {code: code.value for code in ErrorCode}
ERRORS = ErrorTable(
    "Opentact",
    _CODES,
    # Opentact answers 400 for whatever it refuses that is neither auth nor a missing object.
    statuses={code: 400 for code, status in STATUS.items() if status in (409, 422)},
)


def error_response(request: Request, error: DomainError) -> Response:
    status = ERRORS.status(error)
    body = {"success": False, "message": error.explained(), "status": status}
    return JSONResponse(body, status, headers=ERRORS.headers(error))


def ok(payload: Any, status_code: int = 200) -> Response:
    return JSONResponse({"success": True, "payload": payload}, status_code)


class OpentactRoute(ApiRoute):
    @classmethod
    def api_key_of(cls, request: Request) -> str | None:
        """`X-Auth-Token` carries the msgprofiles API key (in place of Opentact's JWT)."""
        return request.headers.get("x-auth-token")

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)

"""Kirimdev's wire (../shared/spec/kirimdev.md §1, §7.1): 200 for every success, `{data,
request_id}` and the cursor list envelope (the native ones), and errors as `{"error": {code,
message}, "request_id"}` with msgprofiles' own snake_case codes, which Kirimdev's style shares."""

from collections.abc import Mapping

from fastapi import Request, Response

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable

_CODES: Mapping[ErrorCode, str] = {code: code.value for code in ErrorCode}
ERRORS = ErrorTable("Kirimdev", _CODES)


def error_response(request: Request, error: DomainError) -> Response:
    body = {
        "error": {"code": ERRORS.code(error), "message": error.explained()},
        "request_id": request.state.request_id,
    }
    return JSONResponse(body, ERRORS.status(error), headers=ERRORS.headers(error))


class KirimRoute(ApiRoute):
    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)

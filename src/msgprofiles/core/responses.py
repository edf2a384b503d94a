"""Rendering of the native envelopes. JSON is encoded once, by pydantic-core."""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_json
from starlette.responses import JSONResponse as StarletteJSONResponse

from msgprofiles.core.errors import STATUS, DomainError, ErrorCode


class JSONResponse(StarletteJSONResponse):
    """A JSONResponse (so OpenAPI documents each route's response model) rendered by
    pydantic-core, which also encodes datetimes and models."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


def error_response(
    code: ErrorCode,
    message: str,
    request_id: str,
    *,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {
            "error": {"code": code.value, "message": message, "details": list(details)},
            "request_id": request_id,
        },
        status_code=STATUS[code],
        headers=dict(headers or {}),
    )


def domain_error_response(error: DomainError, request_id: str) -> JSONResponse:
    return error_response(
        error.code, error.message, request_id, details=error.details, headers=error.headers
    )

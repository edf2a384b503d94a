"""IMIconnect's wire (../shared/spec/imiconnect.md §2, §4, §5, §7): the `key` header, the
`{"response": {code, description, transid}}` envelope of writes and errors, string codes and
the HTTP statuses §7 makes binding."""

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable

DESCRIPTIONS: Mapping[str, str] = {
    "1000": "Success",
    "1002": "Partial success",
    "7000": "Invalid JSON",
    "7001": "Authentication failed",
    "7002": "Service Key Missing",
    "7003": "Mandatory parameters missing",
    "7004": "Invalid parameters",
    "7006": "Internal error occurred",
    "7010": "Source ip is not white listed",
    "7012": "Batch size limit(100) exceeded",
    "7014": "Customer not found",
    "7015": "Customer already exists",
    "7016": "Unknown error",
    "7018": "invalid app profile or app profile is not linked to this client",
    "7020": "You have reached maximum transaction limit",
    "7203": "Customer/App not found",
    "7205": "Invalid attribute value",
    "7207": "Batch size limit (100) exceeded",
    "7209": "Customer/App profile already exists",
    "7211": "Profile attribute does not exist",
}
STATUS: Mapping[str, int] = {
    **dict.fromkeys(("1000", "1002"), 200),
    **dict.fromkeys(("7000", "7003", "7004", "7012", "7205", "7207", "7211"), 400),
    **dict.fromkeys(("7001", "7002"), 401),
    "7010": 403,
    **dict.fromkeys(("7014", "7203", "7018", "7212"), 404),
    **dict.fromkeys(("7015", "7209"), 409),
    "7020": 429,
    **dict.fromkeys(("7006", "7016"), 500),
}

# Our conditions as IMIconnect's codes, for a read (writes choose their twins: routes.py).
_CODES: dict[ErrorCode, str] = dict.fromkeys(ErrorCode, "7016")
_CODES |= {
    ErrorCode.validation_error: "7004",
    ErrorCode.invalid_json: "7000",
    ErrorCode.invalid_phone_number: "7205",
    ErrorCode.unauthenticated: "7002",
    ErrorCode.invalid_api_key: "7001",
    ErrorCode.api_key_revoked: "7001",
    ErrorCode.insufficient_role: "7001",
    ErrorCode.contact_not_found: "7014",
    ErrorCode.app_profile_not_found: "7018",
    ErrorCode.device_not_found: "7203",
    ErrorCode.external_id_taken: "7015",
    ErrorCode.app_profile_taken: "7209",
    ErrorCode.rate_limited: "7020",
    ErrorCode.internal_error: "7006",
    ErrorCode.not_found: "7004",
    ErrorCode.method_not_allowed: "7004",
    ErrorCode.payload_too_large: "7012",
    ErrorCode.unsupported_media_type: "7000",
}
ERRORS = ErrorTable("IMIconnect", _CODES)


def envelope(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "response": {
            "code": code,
            "description": DESCRIPTIONS.get(code, "Unknown error"),
            "transid": str(uuid.uuid4()),
            **extra,
        }
    }


def answer(code: str, **extra: Any) -> Response:
    return JSONResponse(envelope(code, **extra), STATUS.get(code, 500))


class ImiError(DomainError):
    """A condition in IMIconnect's own code (a batch too large, a parameter missing, or a
    write's twin of a read code)."""

    def __init__(self, code: str, cause: ErrorCode = ErrorCode.validation_error) -> None:
        super().__init__(cause, DESCRIPTIONS[code])
        self.imi_code = code


def error_response(request: Request, error: DomainError) -> Response:
    code = error.imi_code if isinstance(error, ImiError) else ERRORS.code(error)
    response = answer(code)
    response.headers["x-should-retry"] = "true" if STATUS[code] in (429, 500) else "false"
    return response


class ImiRoute(ApiRoute):
    @classmethod
    def api_key_of(cls, request: Request) -> str | None:
        """IMIconnect's `key` header carries the API key."""
        return request.headers.get("key")

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)

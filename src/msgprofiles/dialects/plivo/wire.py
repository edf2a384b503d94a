"""Plivo's wire (../shared/spec/plivo.md §1, §2, §5, §10): HTTP Basic with the auth id in the
path, `api_id` in every answer, errors as `{"api_id", "error": "<text>"}` (the SDK shows only
that text) with the statuses its exceptions are chosen by, offset pages with `meta`."""

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute
from msgprofiles.core.pagination import Page
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable, to_uuid

# The SDK refuses any other auth id before sending (§1): `MA` or `SA` and 18 more characters.
AUTH_ID = re.compile(r"[MS]A.{18}")

_CODES: Mapping[ErrorCode, str] = {code: code.value for code in ErrorCode}
ERRORS = ErrorTable(
    "Plivo",
    _CODES,
    statuses={
        # Plivo calls these validation errors (400, the SDK's ValidationError).
        ErrorCode.primary_brand_undeletable: 400,
        ErrorCode.brand_incomplete: 400,
        ErrorCode.brand_conflict: 400,
        ErrorCode.brand_required: 400,
        ErrorCode.webhook_url_not_allowed: 400,
    },
)

# Our field names where Plivo's differ, for error texts.
FIELD_NAMES: Mapping[str, str] = {
    "alias": "profile_alias",
    "legal_name": "company_name",
    "tax_id": "ein",
    "tax_id_country": "ein_issuing_country",
    "name": "campaign_alias",
}


def api_id(request: Request) -> str:
    """The request's id as the UUID Plivo answers with."""
    try:
        return to_uuid(request.state.request_id)
    except ValueError:  # a caller's own X-Request-Id that is no ULID
        return str(uuid.uuid5(uuid.NAMESPACE_URL, request.state.request_id))


def _plivo_name(field: str) -> str:
    head, dot, rest = field.partition(".")
    return FIELD_NAMES.get(head, head) + dot + rest


def error_response(request: Request, error: DomainError) -> Response:
    body = {"api_id": api_id(request), "error": error.explained(_plivo_name)}
    return JSONResponse(body, ERRORS.status(error), headers=ERRORS.headers(error))


def answer(request: Request, body: Mapping[str, Any], status_code: int = 200) -> Response:
    return JSONResponse({"api_id": api_id(request), **body}, status_code)


def meta(request: Request, page: Page[Any], limit: int, offset: int) -> dict[str, Any]:
    """Plivo's `meta`: `next` and `previous` are this server's relative URLs (the dialect's
    mount included), `limit` before `offset`, null at either end."""
    path = request.url.path  # the whole path, the mount's prefix included
    if not path.endswith("/"):
        path += "/"

    def at(start: int) -> str:
        return f"{path}?limit={limit}&offset={start}"

    return {
        "limit": limit,
        "offset": offset,
        "next": at(offset + limit) if page.has_more else None,
        "previous": at(max(offset - limit, 0)) if offset > 0 else None,
        "total_count": page.total or 0,
    }


def refuse(message: str, field: str | None = None) -> DomainError:
    """A 400 (the SDK's ValidationError) for a rule of Plivo's own."""
    details = [{"field": field, "message": "invalid"}] if field else []
    return DomainError(ErrorCode.validation_error, message, details=details)


class PlivoRoute(ApiRoute):
    @classmethod
    def api_key_of(cls, request: Request) -> str | None:
        """HTTP Basic: the password is the API key; the username is an auth id the SDK
        accepts and must equal the path's (else no key is valid: 401)."""
        authorization = request.headers.get("authorization")
        if authorization is None:
            return None
        scheme, _, encoded = authorization.partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        username, colon, password = decoded.partition(":")
        path_auth_id = request.path_params.get("auth_id")
        if scheme.lower() != "basic" or not colon or not AUTH_ID.fullmatch(username):
            return ""
        if path_auth_id is not None and path_auth_id != username:
            return ""
        return password

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)

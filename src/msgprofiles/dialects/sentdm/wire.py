"""Sent.dm's wire: the `{success, data, error, meta}` envelope, its error codes and statuses,
and the route class that gives every Sent.dm route our pipeline (auth, `x-profile-id`, rate
limits, `Idempotency-Key`, `sandbox`) with these shapes."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Request, Response
from pydantic import BaseModel, Field

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable
from msgprofiles.dialects.toolkit import validated as validated  # the routes take it from here

# Sent.dm's own number wherever its error catalogue has one (spec, "Corrections"); our other
# conditions get numbers from 101 up, which Sent's catalogue does not use.
_CODES: Mapping[ErrorCode, str] = {
    ErrorCode.validation_error: "VALIDATION_001",  # refined by the kind of failure below
    ErrorCode.invalid_json: "VALIDATION_001",
    ErrorCode.invalid_phone_number: "VALIDATION_002",
    ErrorCode.unknown_event_type: "VALIDATION_006",
    ErrorCode.invalid_idempotency_key: "VALIDATION_007",
    ErrorCode.invalid_cursor: "VALIDATION_101",
    ErrorCode.completion_prerequisites_unmet: "VALIDATION_102",
    ErrorCode.brand_conflict: "VALIDATION_103",
    ErrorCode.unauthenticated: "AUTH_001",
    ErrorCode.invalid_api_key: "AUTH_002",
    ErrorCode.insufficient_role: "AUTH_004",
    ErrorCode.operator_only: "AUTH_101",
    ErrorCode.profile_scope_forbidden: "AUTH_102",
    ErrorCode.webhook_subscription_not_found: "RESOURCE_008",
    ErrorCode.brand_not_found: "RESOURCE_009",
    ErrorCode.profile_not_found: "RESOURCE_014",
    ErrorCode.not_found: "RESOURCE_101",
    ErrorCode.organization_not_found: "RESOURCE_102",
    ErrorCode.api_key_not_found: "RESOURCE_103",
    ErrorCode.event_not_found: "RESOURCE_104",
    ErrorCode.number_not_found: "RESOURCE_105",
    ErrorCode.campaign_not_found: "RESOURCE_106",
    ErrorCode.completion_not_found: "RESOURCE_107",
    ErrorCode.customer_not_found: "RESOURCE_108",
    ErrorCode.setup_link_not_found: "RESOURCE_109",
    ErrorCode.whatsapp_account_not_found: "RESOURCE_110",
    ErrorCode.contact_not_found: "RESOURCE_111",
    ErrorCode.contact_attribute_not_found: "RESOURCE_112",
    ErrorCode.app_profile_not_found: "RESOURCE_113",
    ErrorCode.device_not_found: "RESOURCE_114",
    ErrorCode.contact_import_not_found: "RESOURCE_115",
    ErrorCode.method_not_allowed: "REQUEST_101",
    ErrorCode.payload_too_large: "REQUEST_102",
    ErrorCode.unsupported_media_type: "REQUEST_103",
    ErrorCode.idempotency_key_in_progress: "CONFLICT_001",
    ErrorCode.api_key_revoked: "CONFLICT_101",
    ErrorCode.last_admin_key: "CONFLICT_102",
    ErrorCode.short_name_taken: "CONFLICT_103",
    ErrorCode.number_taken: "CONFLICT_104",
    ErrorCode.parent_profile_undeletable: "CONFLICT_105",
    ErrorCode.messaging_disabled: "CONFLICT_106",
    ErrorCode.no_sender_available: "CONFLICT_107",
    ErrorCode.brand_locked: "CONFLICT_108",
    ErrorCode.brand_not_registered: "CONFLICT_109",
    ErrorCode.campaign_locked: "CONFLICT_110",
    ErrorCode.primary_brand_undeletable: "CONFLICT_111",
    ErrorCode.webhook_subscription_disabled: "CONFLICT_112",
    ErrorCode.customer_archived: "CONFLICT_113",
    ErrorCode.setup_link_inactive: "CONFLICT_114",
    ErrorCode.external_id_taken: "CONFLICT_115",
    ErrorCode.contact_attribute_exists: "CONFLICT_116",
    ErrorCode.app_profile_taken: "CONFLICT_117",
    ErrorCode.contact_import_finished: "CONFLICT_118",
    ErrorCode.campaign_not_approved: "CONFLICT_119",
    ErrorCode.number_in_use: "CONFLICT_120",
    ErrorCode.rate_limited: "BUSINESS_002",
    ErrorCode.idempotency_key_reused: "BUSINESS_101",
    ErrorCode.destination_not_allowed: "BUSINESS_102",
    ErrorCode.payment_declined: "BUSINESS_103",
    ErrorCode.whatsapp_account_required: "BUSINESS_104",
    ErrorCode.brand_incomplete: "BUSINESS_105",
    ErrorCode.brand_required: "RESOURCE_009",  # campaign calls on a profile without a brand
    ErrorCode.webhook_url_not_allowed: "BUSINESS_107",
    ErrorCode.internal_error: "INTERNAL_001",
}
# Sent.dm's validation numbers by what failed, when every failure is of one kind (pydantic's
# error types): a phone number not in E.164, a required field missing, a value out of range, a
# value not among the allowed.
_VALIDATION_KINDS: Mapping[str, str] = {
    "phone_number": "VALIDATION_002",
    "missing": "VALIDATION_004",
    **dict.fromkeys(
        (
            "greater_than",
            "greater_than_equal",
            "less_than",
            "less_than_equal",
            "too_long",
            "too_short",
            "string_too_long",
            "string_too_short",
            "multiple_of",
        ),
        "VALIDATION_005",
    ),
    "enum": "VALIDATION_006",
    "literal_error": "VALIDATION_006",
}
# Where Sent.dm answers with another status than ours: both a brand and inherit_tcr_brand is
# a 400 (spec §3.2); a campaign call on a profile without a brand is its brand not found.
ERRORS = ErrorTable(
    "Sent.dm",
    _CODES,
    statuses={ErrorCode.brand_conflict: 400, ErrorCode.brand_required: 404},
)
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,255}")


def code_of(error: DomainError) -> str:
    """The Sent.dm code: the table's, or for a validation error the number of its kind."""
    if error.code is ErrorCode.validation_error and error.details:
        kinds = {_VALIDATION_KINDS.get(str(detail.get("type"))) for detail in error.details}
        if len(kinds) == 1 and None not in kinds:
            return str(kinds.pop())
    return ERRORS.code(error)


class SentErrorDetail(BaseModel):
    code: str = Field(examples=["VALIDATION_001"])
    message: str
    details: dict[str, list[str]] | None = Field(description="Messages by field, or null.")
    doc_url: str | None


class SentMeta(BaseModel):
    request_id: str
    timestamp: str
    version: str = "v3"


class SentError(BaseModel):
    success: Literal[False] = False
    data: None = None
    error: SentErrorDetail
    meta: SentMeta


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": SentError, "description": description}
    for status, description in {
        400: "Invalid request (VALIDATION_001 … VALIDATION_007, VALIDATION_1xx)",
        401: "Missing (AUTH_001) or invalid (AUTH_002) x-api-key",
        403: "The key's role (AUTH_004) or scope does not allow this",
        404: "Not found: webhook RESOURCE_008, brand RESOURCE_009, profile RESOURCE_014, …",
        409: "Conflict: CONFLICT_001 (the same Idempotency-Key still in flight), CONFLICT_1xx",
        429: "Rate limited (BUSINESS_002); see Retry-After",
    }.items()
}
"""Error answers every Sent.dm route documents in the dialect's OpenAPI."""


def meta(request_id: str) -> dict[str, str]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"request_id": request_id, "timestamp": now, "version": "v3"}


def ok(request: Request, data: Any, status_code: int = 200) -> Response:
    body = {"success": True, "data": data, "error": None, "meta": meta(request.state.request_id)}
    return JSONResponse(body, status_code)


def no_content() -> Response:
    return Response(status_code=204)


def _details(details: list[dict[str, Any]]) -> dict[str, list[str]] | None:
    """Sent.dm's `{field: [message, …]}` from our detail list."""
    grouped: dict[str, list[str]] = {}
    for detail in details:
        field = str(detail.get("field") or "request")
        message = detail.get("message") or detail.get("type") or "invalid"
        grouped.setdefault(field, []).append(str(message))
    return grouped or None


def error_response(request: Request, error: DomainError) -> Response:
    body = {
        "success": False,
        "data": None,
        "error": {
            "code": code_of(error),
            "message": error.message,
            "details": _details(error.details),
            "doc_url": None,
        },
        "meta": meta(request.state.request_id),
    }
    return JSONResponse(body, ERRORS.status(error), headers=ERRORS.headers(error))


class SentRoute(ApiRoute):
    # The SDK sends Idempotency-Key on PUT (campaign and webhook updates) too.
    idempotent_methods = frozenset({"POST", "PATCH", "PUT"})
    replay_ignores_body = True  # Sent.dm: a repeated key gets the cached answer, whatever
    sandbox_header = "X-Sandbox"

    @classmethod
    def validate_idempotency_key(cls, key: str) -> None:
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise DomainError(
                ErrorCode.invalid_idempotency_key,
                "Idempotency-Key must be 1 to 255 letters, digits, '_' or '-'.",
                details=[{"field": "Idempotency-Key", "message": "must match ^[a-zA-Z0-9_-]+$"}],
            )

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)

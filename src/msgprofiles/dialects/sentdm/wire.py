"""Sent.dm's wire: the `{success, data, error, meta}` envelope, its error codes and statuses,
and the route class that gives every Sent.dm route our pipeline (auth, `x-profile-id`, rate
limits, `Idempotency-Key`, `sandbox`) with these shapes."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ApiRoute, validation_error
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.toolkit import ErrorTable

# Our stable codes in Sent.dm's CATEGORY_NNN form. A code, once published, keeps its meaning.
_CODES: Mapping[ErrorCode, str] = {
    ErrorCode.validation_error: "VALIDATION_001",
    ErrorCode.invalid_json: "VALIDATION_002",
    ErrorCode.invalid_cursor: "VALIDATION_003",
    ErrorCode.invalid_idempotency_key: "VALIDATION_004",
    ErrorCode.unknown_event_type: "VALIDATION_005",
    ErrorCode.invalid_phone_number: "VALIDATION_006",
    ErrorCode.completion_prerequisites_unmet: "VALIDATION_007",
    ErrorCode.brand_conflict: "VALIDATION_008",
    ErrorCode.unauthenticated: "AUTH_001",
    ErrorCode.invalid_api_key: "AUTH_002",
    ErrorCode.insufficient_role: "AUTH_003",
    ErrorCode.operator_only: "AUTH_004",
    ErrorCode.profile_scope_forbidden: "AUTH_005",
    ErrorCode.not_found: "RESOURCE_001",
    ErrorCode.organization_not_found: "RESOURCE_001",
    ErrorCode.api_key_not_found: "RESOURCE_001",
    ErrorCode.profile_not_found: "RESOURCE_001",
    ErrorCode.event_not_found: "RESOURCE_001",
    ErrorCode.number_not_found: "RESOURCE_001",
    ErrorCode.brand_not_found: "RESOURCE_001",
    ErrorCode.campaign_not_found: "RESOURCE_001",
    ErrorCode.completion_not_found: "RESOURCE_001",
    ErrorCode.webhook_subscription_not_found: "RESOURCE_001",
    ErrorCode.method_not_allowed: "REQUEST_001",
    ErrorCode.payload_too_large: "REQUEST_002",
    ErrorCode.unsupported_media_type: "REQUEST_003",
    ErrorCode.api_key_revoked: "CONFLICT_001",
    ErrorCode.last_admin_key: "CONFLICT_002",
    ErrorCode.idempotency_key_in_progress: "CONFLICT_003",
    ErrorCode.short_name_taken: "CONFLICT_004",
    ErrorCode.number_taken: "CONFLICT_005",
    ErrorCode.parent_profile_undeletable: "CONFLICT_006",
    ErrorCode.messaging_disabled: "CONFLICT_007",
    ErrorCode.no_sender_available: "CONFLICT_008",
    ErrorCode.brand_locked: "CONFLICT_009",
    ErrorCode.brand_not_registered: "CONFLICT_010",
    ErrorCode.campaign_locked: "CONFLICT_011",
    ErrorCode.primary_brand_undeletable: "CONFLICT_014",
    ErrorCode.webhook_subscription_disabled: "CONFLICT_015",
    ErrorCode.idempotency_key_reused: "BUSINESS_001",
    ErrorCode.destination_not_allowed: "BUSINESS_002",
    ErrorCode.payment_declined: "BUSINESS_003",
    ErrorCode.whatsapp_account_required: "BUSINESS_004",
    ErrorCode.brand_incomplete: "BUSINESS_005",
    ErrorCode.brand_required: "BUSINESS_006",
    ErrorCode.webhook_url_not_allowed: "BUSINESS_007",
    ErrorCode.rate_limited: "RATE_LIMIT_001",
    ErrorCode.internal_error: "INTERNAL_001",
}
# Where Sent.dm answers with another status than ours (spec §3.2: both a brand and
# inherit_tcr_brand is a 400).
ERRORS = ErrorTable("Sent.dm", _CODES, statuses={ErrorCode.brand_conflict: 400})


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
            "code": ERRORS.code(error),
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

    @classmethod
    def render_error(cls, request: Request, error: DomainError) -> Response:
        return error_response(request, error)


def validated(
    model: Any,
    values: Mapping[str, Any],
    prefix: str = "",
    rename: Callable[[str], str] = str,
) -> Any:
    """`model` built from translated values; its validation errors become a 400 naming the
    field by its Sent.dm path (`prefix`, each part renamed), never a 500."""
    try:
        return model.model_validate(values, strict=False)
    except ValidationError as error:
        failure = validation_error(error.errors())
        for detail in failure.details:
            parts = str(detail["field"]).split(".")
            detail["field"] = prefix + ".".join(rename(part) for part in parts)
        raise failure from None

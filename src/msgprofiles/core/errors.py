"""Domain errors and the one list of stable error codes.

Services raise `DomainError`; the native API and every dialect render it in their own shape.
A code, once published, never changes meaning.
"""

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # 400
    validation_error = "validation_error"
    invalid_json = "invalid_json"
    invalid_cursor = "invalid_cursor"
    invalid_idempotency_key = "invalid_idempotency_key"
    # 401 / 403
    unauthenticated = "unauthenticated"
    invalid_api_key = "invalid_api_key"
    insufficient_role = "insufficient_role"
    operator_only = "operator_only"
    profile_scope_forbidden = "profile_scope_forbidden"
    # 404 / 405 / 413 / 415
    not_found = "not_found"
    organization_not_found = "organization_not_found"
    api_key_not_found = "api_key_not_found"
    profile_not_found = "profile_not_found"
    event_not_found = "event_not_found"
    number_not_found = "number_not_found"
    brand_not_found = "brand_not_found"
    campaign_not_found = "campaign_not_found"
    completion_not_found = "completion_not_found"
    webhook_subscription_not_found = "webhook_subscription_not_found"
    customer_not_found = "customer_not_found"
    setup_link_not_found = "setup_link_not_found"
    whatsapp_account_not_found = "whatsapp_account_not_found"
    contact_not_found = "contact_not_found"
    contact_attribute_not_found = "contact_attribute_not_found"
    app_profile_not_found = "app_profile_not_found"
    device_not_found = "device_not_found"
    contact_import_not_found = "contact_import_not_found"
    method_not_allowed = "method_not_allowed"
    payload_too_large = "payload_too_large"
    unsupported_media_type = "unsupported_media_type"
    # 409 / 422 / 429
    api_key_revoked = "api_key_revoked"
    last_admin_key = "last_admin_key"
    idempotency_key_in_progress = "idempotency_key_in_progress"
    idempotency_key_reused = "idempotency_key_reused"
    unknown_event_type = "unknown_event_type"
    invalid_phone_number = "invalid_phone_number"
    short_name_taken = "short_name_taken"
    number_taken = "number_taken"
    parent_profile_undeletable = "parent_profile_undeletable"
    messaging_disabled = "messaging_disabled"
    destination_not_allowed = "destination_not_allowed"
    no_sender_available = "no_sender_available"
    payment_declined = "payment_declined"
    whatsapp_account_required = "whatsapp_account_required"
    brand_locked = "brand_locked"
    brand_incomplete = "brand_incomplete"
    brand_conflict = "brand_conflict"
    brand_required = "brand_required"
    brand_not_registered = "brand_not_registered"
    completion_prerequisites_unmet = "completion_prerequisites_unmet"
    campaign_locked = "campaign_locked"
    campaign_not_approved = "campaign_not_approved"
    number_in_use = "number_in_use"
    primary_brand_undeletable = "primary_brand_undeletable"
    webhook_url_not_allowed = "webhook_url_not_allowed"
    webhook_subscription_disabled = "webhook_subscription_disabled"
    customer_archived = "customer_archived"
    setup_link_inactive = "setup_link_inactive"
    external_id_taken = "external_id_taken"
    contact_attribute_exists = "contact_attribute_exists"
    app_profile_taken = "app_profile_taken"
    contact_import_finished = "contact_import_finished"
    rate_limited = "rate_limited"
    # 5xx
    internal_error = "internal_error"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.validation_error: 400,
    ErrorCode.invalid_json: 400,
    ErrorCode.invalid_cursor: 400,
    ErrorCode.invalid_idempotency_key: 400,
    ErrorCode.unauthenticated: 401,
    ErrorCode.invalid_api_key: 401,
    ErrorCode.insufficient_role: 403,
    ErrorCode.operator_only: 403,
    ErrorCode.profile_scope_forbidden: 403,
    ErrorCode.not_found: 404,
    ErrorCode.organization_not_found: 404,
    ErrorCode.api_key_not_found: 404,
    ErrorCode.profile_not_found: 404,
    ErrorCode.event_not_found: 404,
    ErrorCode.number_not_found: 404,
    ErrorCode.brand_not_found: 404,
    ErrorCode.campaign_not_found: 404,
    ErrorCode.completion_not_found: 404,
    ErrorCode.webhook_subscription_not_found: 404,
    ErrorCode.customer_not_found: 404,
    ErrorCode.setup_link_not_found: 404,
    ErrorCode.whatsapp_account_not_found: 404,
    ErrorCode.contact_not_found: 404,
    ErrorCode.contact_attribute_not_found: 404,
    ErrorCode.app_profile_not_found: 404,
    ErrorCode.device_not_found: 404,
    ErrorCode.contact_import_not_found: 404,
    ErrorCode.method_not_allowed: 405,
    ErrorCode.payload_too_large: 413,
    ErrorCode.unsupported_media_type: 415,
    ErrorCode.api_key_revoked: 409,
    ErrorCode.last_admin_key: 409,
    ErrorCode.idempotency_key_in_progress: 409,
    ErrorCode.idempotency_key_reused: 422,
    ErrorCode.unknown_event_type: 400,
    ErrorCode.invalid_phone_number: 400,
    ErrorCode.short_name_taken: 409,
    ErrorCode.number_taken: 409,
    ErrorCode.parent_profile_undeletable: 409,
    ErrorCode.messaging_disabled: 409,
    ErrorCode.destination_not_allowed: 422,
    ErrorCode.no_sender_available: 409,
    ErrorCode.payment_declined: 422,
    ErrorCode.whatsapp_account_required: 422,
    ErrorCode.brand_locked: 409,
    ErrorCode.brand_incomplete: 422,
    ErrorCode.brand_conflict: 422,
    ErrorCode.brand_required: 422,
    ErrorCode.brand_not_registered: 409,
    ErrorCode.completion_prerequisites_unmet: 400,
    ErrorCode.campaign_locked: 409,
    ErrorCode.campaign_not_approved: 409,
    ErrorCode.number_in_use: 409,
    ErrorCode.primary_brand_undeletable: 409,
    ErrorCode.webhook_url_not_allowed: 422,
    ErrorCode.webhook_subscription_disabled: 409,
    ErrorCode.customer_archived: 409,
    ErrorCode.setup_link_inactive: 409,
    ErrorCode.external_id_taken: 409,
    ErrorCode.contact_attribute_exists: 409,
    ErrorCode.app_profile_taken: 409,
    ErrorCode.contact_import_finished: 409,
    ErrorCode.rate_limited: 429,
    ErrorCode.internal_error: 500,
}
assert set(STATUS) == set(ErrorCode), "every error code needs a status"


class DomainError(Exception):
    """A failure the caller can act on: a stable code, an HTTP status, a human message."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS[code]
        self.message = message
        self.details = [dict(d) for d in details]
        self.headers = dict(headers or {})

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (from a process pool) with its keyword arguments, which `args` does not hold.
        return _domain_error, (self.code, self.message, self.details, self.headers)

    def explained(self, rename: Callable[[str], str] = str) -> str:
        """The message naming each invalid field (`rename`d), for wires with no `details`:
        `The request is invalid. name: String should have at least 1 character`."""
        fields = [
            f"{rename(str(detail['field']))}: {detail.get('message') or detail.get('type')}"
            for detail in self.details
            if detail.get("field")
        ]
        return " ".join([self.message, "; ".join(fields)]) if fields else self.message


def _domain_error(
    code: ErrorCode, message: str, details: list[dict[str, Any]], headers: dict[str, str]
) -> DomainError:
    return DomainError(code, message, details=details, headers=headers)


def not_found(code: ErrorCode, what: str, object_id: str) -> DomainError:
    return DomainError(code, f"No {what} with id '{object_id}'.")

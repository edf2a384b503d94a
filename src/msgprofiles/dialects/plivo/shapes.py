"""Native objects in Plivo's shapes (spec §4, §7-§9), and Plivo's words for our statuses
and use cases (§10)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgprofiles.brands.schemas import Brand
from msgprofiles.campaigns.schemas import Campaign
from msgprofiles.dialects.toolkit import to_uuid

BRAND_STATUS: Mapping[str, str] = {
    "pending": "PROCESSING",
    "registered": "COMPLETED",
    "rejected": "FAILED",
}
BRAND_STATUS_OF: Mapping[str, list[str]] = {
    plivo: [ours for ours, theirs in BRAND_STATUS.items() if theirs == plivo]
    for plivo in BRAND_STATUS.values()
}
CAMPAIGN_STATUS: Mapping[str, str] = {
    "draft": "PROCESSING",
    "pending_review": "PROCESSING",
    "approved": "ACTIVE",
    "rejected": "FAILED",
}
EXPIRED = "EXPIRED"  # a deleted campaign

# Plivo's use cases and ours (TCR's): only their names differ.
USE_CASE: Mapping[str, str] = {"2FA": "TWO_FA", "STARTER": "SOLE_PROPRIETOR"}
PLIVO_USE_CASE: Mapping[str, str] = {ours: plivo for plivo, ours in USE_CASE.items()}

# Plivo's own names and descriptions of the use cases (GET …/Brand/{id}/usecases/).
USE_CASES: Mapping[str, tuple[str, str]] = {
    "2FA": ("2FA", "Authentication, account verification, or one-time passcode"),
    "ACCOUNT_NOTIFICATION": (
        "Account Notification",
        "Notification sent to account holders about changes in accounts",
    ),
    "CUSTOMER_CARE": (
        "Customer Care",
        "Customer care interactions by the support and other customer-facing teams",
    ),
    "DELIVERY_NOTIFICATION": (
        "Delivery Notification",
        "Updates about the delivery of products and services",
    ),
    "FRAUD_ALERT": ("Fraud Alert", "Notifications of suspicious behavior identified the business"),
    "HIGHER_EDUCATION": (
        "Higher Education",
        "Messages sent by colleges, universities, and other educational institutions",
    ),
    "LOW_VOLUME": (
        "Low Volume",
        "A combination of two to five standard usage cases - for low throughput requirements",
    ),
    "MARKETING": ("Marketing", "Communications related to time-bound events and sales"),
    "MIXED": ("Mixed", "A combination of two to five standard usage cases"),
    "POLLING_VOTING": (
        "Polling Voting",
        "Surveys, polling, and voting campaigns used for non-political purposes",
    ),
    "PUBLIC_SERVICE_ANNOUNCEMENT": (
        "Public Service Announcement",
        "Messages aimed at creating awareness about important topics",
    ),
    "SECURITY_ALERT": (
        "Security Alert",
        "Notifications that alert users about a potential breach of systems",
    ),
    "STARTER": ("Starter", "Messages of a sole proprietor without an EIN"),
}


def timestamp(moment: datetime) -> str:
    """`2023-10-17T20:57:54.164054Z`: microseconds and `Z`, always."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text(value: object) -> str:
    """Plivo's strings are never null: absent is `""`."""
    return "" if value is None else str(value)


def digits(number: str) -> str:
    """Plivo writes numbers without their `+`."""
    return number.removeprefix("+")


def _plivo(record: Brand | Campaign) -> dict[str, Any]:
    return dict((record.vendor_fields or {}).get("plivo") or {})


def brand_type(brand: Brand) -> str:
    """STANDARD with a tax id; STARTER: a sole proprietor without one."""
    return "STANDARD" if brand.tax_id else "STARTER"


def _address(brand: Brand) -> dict[str, str]:
    address = brand.address or {}
    return {k: text(address.get(k)) for k in ("street", "city", "state", "postal_code", "country")}


def _contact(brand: Brand) -> dict[str, str]:
    contact = brand.authorized_contact or {}
    values = {
        k: text(contact.get(k)) for k in ("first_name", "last_name", "email", "title", "seniority")
    }
    values["phone"] = digits(text(contact.get("phone")))
    return values


def profile(brand: Brand, primary_uuid: str | None) -> dict[str, Any]:
    """The brand record as Plivo's profile (§4.1)."""
    return {
        "profile_uuid": to_uuid(brand.id),
        "profile_alias": brand.alias,
        "profile_type": brand.type,
        "primary_profile": primary_uuid or "",
        "customer_type": brand.customer_type,
        "entity_type": text(brand.entity_type),
        "company_name": text(brand.legal_name),
        "doing_business_as": text(brand.doing_business_as),
        "vertical": text(brand.vertical),
        "ein": text(brand.tax_id),
        "ein_issuing_country": text(brand.tax_id_country),
        "stock_symbol": text(brand.stock_symbol),
        "stock_exchange": text(brand.stock_exchange),
        "alt_business_id": text(brand.alt_business_id),
        "alt_business_id_type": text(brand.alt_business_id_type),
        "website": text(brand.website),
        "business_contact_email": text(brand.business_contact_email),
        "plivo_subaccount": text(_plivo(brand).get("plivo_subaccount")),
        "address": _address(brand),
        "authorized_contact": _contact(brand),
        "created_at": timestamp(brand.created_at),
    }


def brand(record: Brand) -> dict[str, Any]:
    """A submitted brand record as Plivo's brand (§7). `identity_status` is TCR's identity
    result, which Plivo has no key for; `vetting_*` is vetting we do not do."""
    return {
        "brand_id": to_uuid(record.id),
        "brand_alias": record.registration_alias or record.alias,
        "brand_type": brand_type(record),
        "profile_uuid": to_uuid(record.id),
        "company_name": text(record.legal_name),
        "ein": text(record.tax_id),
        "ein_issuing_country": text(record.tax_id_country),
        "entity_type": text(record.entity_type),
        "vertical": text(record.vertical),
        "website": text(record.website),
        "registration_status": BRAND_STATUS[record.registration_status],
        "failure_reason": text(record.rejection_reason),
        "identity_status": text(record.identity_status),
        "vetting_score": None,
        "vetting_status": None,
        "secondary_vetting": bool(_plivo(record).get("secondary_vetting", False)),
        "address": _address(record),
        "authorized_contact": _contact(record),
        "created_at": timestamp(record.submitted_at or record.created_at),
    }


def campaign_status(record: Campaign) -> str:
    return EXPIRED if record.deleted_at is not None else CAMPAIGN_STATUS[record.status]


def campaign_fields(record: Campaign) -> dict[str, Any]:
    """What a Plivo campaign says (§8), from the native content and what Plivo keeps."""
    content, kept = record.content, _plivo(record)
    use_cases = [u["use_case"] for u in content["use_cases"]]
    main, *subs = [PLIVO_USE_CASE.get(u, u) for u in use_cases]
    samples = content["use_cases"][0]["sample_messages"]
    return {
        "campaign_alias": kept.get("campaign_alias") or "",
        "vertical": kept.get("vertical", ""),
        "usecase": main,
        "sub_usecases": subs,
        "description": content["description"],
        **{f"sample{i}": text(samples[i - 1] if i <= len(samples) else None) for i in range(1, 6)},
        "message_flow": content["message_flow"],
        "help_message": text(content.get("help_message")),
        "help_keywords": text(content.get("help_keywords")),
        "optin_keywords": text(content.get("optin_keywords")),
        "optin_message": text(content.get("optin_message")),
        "optout_keywords": text(content.get("optout_keywords")),
        "optout_message": text(content.get("optout_message")),
        "terms_and_conditions_link": text(content.get("terms_and_conditions_link")),
        "privacy_policy_link": text(content.get("privacy_policy_link")),
    }


ATTRIBUTES = ("embedded_link", "embedded_phone", "age_gated", "direct_lending")
SUBSCRIBER = ("subscriber_optin", "subscriber_optout", "subscriber_help", "affiliate_marketing")


def campaign(record: Campaign) -> dict[str, Any]:
    fields = campaign_fields(record)
    kept = _plivo(record)
    attributes = {name: bool(record.content.get(name)) for name in ATTRIBUTES}
    attributes |= {name: bool(kept.get(name, False)) for name in SUBSCRIBER}
    return {
        "campaign_id": to_uuid(record.id),
        "brand_id": to_uuid(record.brand_id),
        **fields,
        "sub_usecase": ",".join(fields["sub_usecases"]),
        "registration_status": campaign_status(record),
        "failure_reason": text(record.rejection_reason),
        "campaign_attributes": attributes,
        "mno_metadata": {},
        "campaign_source": "plivo",
        "reseller_id": text(kept.get("reseller_id")),
        "created_at": timestamp(record.created_at),
    }

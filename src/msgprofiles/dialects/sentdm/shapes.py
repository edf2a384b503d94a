"""Our records in Sent.dm's response shapes (../shared/spec/sentdm.md §4-5): ProfileDetail and
Brand in snake_case, BrandCampaign in camelCase, WebhookResponse, event types and events."""

from collections import defaultdict
from datetime import datetime
from typing import Any

import phonenumbers

from msgprofiles.brands.schemas import Brand
from msgprofiles.campaigns.schemas import Campaign
from msgprofiles.dialects.sentdm import events as sent_events
from msgprofiles.dialects.sentdm.formats import envelope
from msgprofiles.dialects.sentdm.schemas import ENTITY_TYPES
from msgprofiles.profiles.schemas import Profile
from msgprofiles.webhooks.schemas import Delivery, Event, EventType, WebhookSubscription

# Sent.dm's profile statuses: SUBMITTED waits for review, COMPLETED is approved (spec §4.4).
PROFILE_STATUSES = {
    "incomplete": "incomplete",
    "submitted": "pending_review",
    "completed": "approved",
    "rejected": "rejected",
}
_SENT_ENTITY_TYPES = {ours: theirs for theirs, ours in ENTITY_TYPES.items()}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _country_code(phone: str | None) -> str | None:
    return phone and str(phonenumbers.parse(phone).country_code)


def brand(record: Brand, *, inherited: bool) -> dict[str, Any]:
    contact = record.authorized_contact or {}
    address = record.address or {}
    names = (contact.get("first_name"), contact.get("last_name"))
    reviewed = record.submitted_to_tcr or record.registration_status == "rejected"
    return {
        "id": record.id,
        "contact": {
            "name": " ".join(n for n in names if n) or None,
            "business_name": record.doing_business_as,
            "email": contact.get("email"),
            "phone": contact.get("phone"),
            "phone_country_code": _country_code(contact.get("phone")),
            "role": contact.get("title"),
        },
        "business": {
            "legal_name": record.legal_name,
            "tax_id": record.tax_id,
            "tax_id_type": record.tax_id_type,
            "entity_type": record.entity_type and _SENT_ENTITY_TYPES[record.entity_type],
            "street": address.get("street"),
            "city": address.get("city"),
            "state": address.get("state"),
            "postal_code": address.get("postal_code"),
            "country": address.get("country"),
            "country_of_registration": record.tax_id_country,
            "url": record.website,
        },
        "compliance": {
            "brand_relationship": record.brand_relationship,
            "vertical": record.vertical,
            "destination_countries": [
                {"id": c["country"], "isMain": c["is_main"]} for c in record.destination_countries
            ],
            "is_tcr_application": record.is_tcr_application,
            "notes": record.notes,
            "phone_number_prefix": record.phone_number_prefix,
            "primary_use_case": None,
        },
        # Sent.dm: null until the brand went to TCR [docs].
        "status": None
        if not reviewed
        else ("INACTIVE" if record.registration_status == "rejected" else "ACTIVE"),
        "identity_status": record.identity_status if reviewed else None,
        "submitted_to_tcr": record.submitted_to_tcr,
        "submitted_at": _iso(record.submitted_at),
        "tcr_brand_id": record.tcr_brand_id,
        "universal_ein": None,
        "csp_id": None,
        "is_inherited": inherited,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
    }


def profile(
    record: Profile, brand_record: Brand | None, *, inherited: bool, email: str | None
) -> dict[str, Any]:
    billing = record.billing_contact
    return {
        "id": record.id,
        "organization_id": record.organization_id,
        "name": record.name,
        "short_name": record.short_name,
        "description": record.description,
        "icon": record.icon_url,
        "email": email,
        "status": PROFILE_STATUSES[record.status],
        "billing_model": record.billing_model,
        "billing_contact": billing and billing.model_dump(mode="json"),
        "brand": brand_record and brand(brand_record, inherited=inherited),
        "inherit_tcr_brand": record.inherit_tcr_brand,
        "inherit_tcr_campaign": record.inherit_tcr_campaign,
        # Sent.dm v3 no longer shares contacts or templates: these read back false.
        "inherit_contacts": False,
        "inherit_templates": False,
        "allow_contact_sharing": False,
        "allow_template_sharing": False,
        "allow_number_change_during_onboarding": record.allow_number_change_during_onboarding,
        "sending_phone_number": record.sending_phone_number,
        "whatsapp_phone_number": record.whatsapp_phone_number,
        "sending_phone_number_profile_id": None,
        "sending_whatsapp_number_profile_id": None,
        "waba_id": record.waba_id,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
    }


def campaign(record: Campaign, organization_id: str) -> dict[str, Any]:
    content = record.content
    submitted = record.status != "draft"
    stamps = {"createdAt": _iso(record.created_at), "updatedAt": _iso(record.updated_at)}
    return {
        "id": record.id,
        "brandId": record.brand_id,
        "customerId": organization_id,
        "name": content["name"],
        "description": content["description"],
        "type": content["type"],
        "status": None
        if not submitted
        else ("ACTIVE" if record.status == "approved" else "SENT_CREATED"),
        "useCases": [
            {
                "id": f"{record.id}-{number}",
                "campaignId": record.id,
                "customerId": organization_id,
                "messagingUseCaseUs": use_case["use_case"],
                "sampleMessages": use_case["sample_messages"],
                **stamps,
            }
            for number, use_case in enumerate(content["use_cases"], 1)
        ],
        "helpKeywords": content.get("help_keywords"),
        "helpMessage": content.get("help_message"),
        "optinKeywords": content.get("optin_keywords"),
        "optinMessage": content.get("optin_message"),
        "optoutKeywords": content.get("optout_keywords"),
        "optoutMessage": content.get("optout_message"),
        "messageFlow": content.get("message_flow"),
        "privacyPolicyLink": content.get("privacy_policy_link"),
        "termsAndConditionsLink": content.get("terms_and_conditions_link"),
        "volume": None if content.get("volume") is None else str(content["volume"]),
        "cost": None,
        "billedDate": None,
        "submittedToTCR": submitted,
        "submittedAt": _iso(record.submitted_at),
        "tcrCampaignId": record.tcr_campaign_id,
        "tcrSyncError": record.rejection_reason,
        "dcaElectionsComplete": record.status == "approved",
        "dcaElectionsCompletedAt": None,
        "hasSubmissionTransaction": submitted,
        **stamps,
    }


def event_filters(event_types: list[str] | None) -> dict[str, list[str]]:
    families: dict[str, list[str]] = defaultdict(list)
    for name in event_types or ():
        families[name.partition(".")[0]].append(name)
    return dict(families)


def webhook(
    record: WebhookSubscription, organization_id: str, secret: str | None = None
) -> dict[str, Any]:
    """Event names and filters as the client sent them; a subscription made natively shows
    its event types, grouped by family."""
    options = record.format_options or {}
    sent_types, sent_filters = options.get("event_types"), options.get("event_filters")
    return {
        "id": record.id,
        "customer_id": record.profile_id or organization_id,  # the owner
        "display_name": record.description,
        "endpoint_url": record.url,
        "event_types": sent_types if sent_types is not None else (record.event_types or []),
        "event_filters": sent_filters
        if sent_filters is not None
        else ({} if sent_types is not None else event_filters(record.event_types)),
        "is_active": record.status == "active",
        "retry_count": record.retry_count,
        "timeout_seconds": record.timeout_seconds,
        "signing_secret": secret,  # shown when made or rotated, never again
        "consecutive_failures": record.consecutive_failures,
        "last_delivery_attempt_at": _iso(record.last_attempt_at),
        "last_successful_delivery_at": _iso(record.last_success_at),
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
    }


def event_types(catalogue: list[EventType]) -> list[dict[str, Any]]:
    """Sent.dm's families first (`messages` as its docs name it), then ours, each with its
    events as sub-types."""
    families: dict[str, list[EventType]] = defaultdict(list)
    for event_type in catalogue:
        families[event_type.type.partition(".")[0]].append(event_type)

    def entry(name: str, description: str, sub_types: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": name,
            "display_name": name.replace("_", " ").replace(".", " ").capitalize(),
            "description": description,
            "event_type": name,
            "is_active": True,
            "sub_types": sub_types,
        }

    sent = [
        entry(
            "messages" if family == "message" else family,
            description,
            [entry(f"{family}.{sub}", f"{family} {sub}".replace("_", " "), []) for sub in subs],
        )
        for family, (description, subs) in sent_events.FAMILIES.items()
    ]
    return sent + [
        entry(
            family,
            f"Events about {family.replace('_', ' ')}s.",
            [entry(t.type, t.description, []) for t in members],
        )
        for family, members in sorted(families.items())
    ]


# Sent.dm's delivery statuses for ours: held (paused) and retrying deliveries are pending.
DELIVERY_STATUSES = {
    "pending": "pending",
    "held": "pending",
    "succeeded": "delivered",
    "failed": "failed",
    "cancelled": "cancelled",
}


def delivery(record: Delivery, event: Event) -> dict[str, Any]:
    last = record.attempts[-1] if record.attempts else None
    shaped = envelope(event.id, event.type, event.created_at, event.data)
    return {
        "id": record.id,
        "event_type": shaped.get("event") or shaped["field"],
        "delivery_status": DELIVERY_STATUSES[record.status],
        "delivery_attempts": len(record.attempts),
        "http_status_code": last and last.status_code,
        "response_body": None,
        "error_message": last and last.error,
        "event_data": shaped,
        "created_at": _iso(record.created_at),
        "processing_started_at": _iso(record.attempts[0].started_at if record.attempts else None),
        "processing_completed_at": _iso(
            record.updated_at if record.status in ("succeeded", "failed") else None
        ),
    }

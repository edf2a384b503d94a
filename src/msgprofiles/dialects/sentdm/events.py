"""Sent.dm's webhook event names (spec, "Corrections"): Sent's own families, which a
subscription may name and which are stored and echoed as sent though msgprofiles produces
none of them (only a test delivers one), next to msgprofiles' families; and `event_filters`,
which narrow a named family to some of its sub-types."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from msgprofiles.core.errors import DomainError, ErrorCode

# Sent's families: description and sub-types. `messages` is the documented name of
# `message` (the SDK's), and both are accepted and echoed as sent.
FAMILIES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "message": (
        "Message status changes, from queued to delivered, read or failed.",
        (
            "queued",
            "routed",
            "sent",
            "delivered",
            "read",
            "failed",
            "received",
            "filtered",
            "blocked",
            "scheduled",
            "cancelled",
        ),
    ),
    "templates": ("WhatsApp template approvals and rejections.", ()),
    "channel": ("Channel registrations.", ("submitted", "activated")),
    "contact": (
        "Contact opt-ins, opt-outs and keywords.",
        ("opt_in", "opt_out", "help", "custom_keyword"),
    ),
    "link": ("Tracked links.", ("clicked", "downloaded", "expired", "revoked")),
    "call": ("Calls.", ("initiated", "answered", "completed", "failed", "recording_ready")),
}
ALIASES: Mapping[str, str] = {"messages": "message"}

# What a test of a Sent event type delivers as its payload (the SDK's required keys).
SPECIMENS: Mapping[str, dict[str, Any]] = {
    "message": {
        "message_id": "00000000-0000-4000-8000-000000000000",
        "message_status": "SENT",
        "channel": "sms",
        "outbound_number": "+15555550100",
        "body": "This is a test message.",
    },
    "templates": {"status": "APPROVED", "whatsapp_template_id": "000000000000000"},
    "channel": {"country": "US", "status": "ACTIVE"},
    "contact": {"opt_out": True, "source": "INBOUND_KEYWORD", "from": "+15555550100"},
    "link": {"url": "https://example.com/"},
    "call": {"call_id": "00000000-0000-4000-8000-000000000000"},
}


def family(name: str) -> str:
    """The singular family of an event name (`messages` and `message.sent`: `message`)."""
    head = name.partition(".")[0]
    return ALIASES.get(head, head)


@dataclass(frozen=True)
class Selection:
    """A Sent.dm subscription's choice: `native` is what it receives of msgprofiles' events
    (None: all), `options` what it sent, kept to echo it back and to name the family in
    `x-webhook-event-type` as subscribed."""

    native: list[str] | None
    options: dict[str, Any]


def select(
    event_types: list[str] | None,
    event_filters: Mapping[str, list[str]] | None,
    ours: Iterable[str],
    listing_path: str,
) -> Selection:
    """Check the names and filters; raise 400 naming every unknown one."""
    ours = sorted(ours)
    our_families = {name.partition(".")[0] for name in ours}
    unknown: list[str] = []

    def known(name: str) -> bool:
        head, _, sub = name.partition(".")
        head = ALIASES.get(head, head)
        if head in FAMILIES:
            return not sub or sub in FAMILIES[head][1]
        return name in ours or (not sub and head in our_families)

    for name in event_types or ():
        if not known(name):
            unknown.append(name)
    subscribed = {family(name) for name in event_types or ()}
    for parent, items in (event_filters or {}).items():
        if not known(parent) or "." in parent:
            unknown.append(parent)
            continue
        if family(parent) not in subscribed:
            raise DomainError(
                ErrorCode.validation_error,
                f"event_filters names {parent!r}, which event_types does not subscribe to.",
                details=[{"field": "event_filters", "message": f"not subscribed: {parent}"}],
            )
        for item in items:
            full = item if "." in item else f"{family(parent)}.{item}"
            if family(full) != family(parent) or not known(full) or "." not in full:
                unknown.append(item)
    if unknown:
        raise DomainError(
            ErrorCode.unknown_event_type,
            f"Unknown event type(s): {', '.join(unknown)}. See GET {listing_path}.",
            details=[
                {"field": "event_types", "message": f"unknown event type: {name}"}
                for name in unknown
            ],
        )
    options: dict[str, Any] = {"event_types": event_types, "event_filters": event_filters}
    if event_types is None:
        return Selection(None, options)
    narrowing = {
        family(parent): {item.rpartition(".")[2] for item in items}
        for parent, items in (event_filters or {}).items()
        if items
    }
    native: set[str] = set()
    for name in event_types:
        head = family(name)
        if head in FAMILIES:
            continue  # Sent's own: msgprofiles produces none
        if "." in name:
            native.add(name)
            continue
        members = [t for t in ours if t.partition(".")[0] == head]
        if head in narrowing:
            members = [t for t in members if t.partition(".")[2] in narrowing[head]]
        native.update(members)
    return Selection(sorted(native), options)


def header_family(event_type: str, options: Mapping[str, Any] | None) -> str:
    """`x-webhook-event-type`: the family as the subscription named it (`messages` or
    `message`, `profile`, …)."""
    head = family(event_type)
    for name in (options or {}).get("event_types") or ():
        if family(name) == head and "." not in name:
            return str(name)
    return head

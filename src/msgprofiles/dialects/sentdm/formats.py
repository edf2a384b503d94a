"""Sent.dm's webhook format, as Sent's documentation describes it: its envelope, and its
`x-webhook-*` headers signed by Sent's recipe next to the Standard Webhooks ones. Registered
with the webhooks domain as `sentdm`; subscriptions made through this dialect use it.

Sent signs `{x-webhook-id}.{x-webhook-timestamp}.{raw body}` with the base64-decoded secret
(after `whsec_`), where `x-webhook-id` is the webhook's (the subscription's) id: the Standard
Webhooks HMAC over another id. The Standard Webhooks headers sign over the event id, so any
Standard Webhooks library verifies the same delivery too."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgprofiles.core.outbound import standard_signature
from msgprofiles.dialects.sentdm import events
from msgprofiles.webhooks.formats import Message, register_format

NAME = "sentdm"


def envelope(message_id: str, message_type: str, created_at: datetime, data: Any) -> dict[str, Any]:
    """`{field, event, sub_type, timestamp, request_id, payload}`: `field` is the singular
    family; `event` and `sub_type` carry the full name and are left out without a sub-type.
    A test (a `ping` that names a type) is shaped as that type, marked `test: true`."""
    test = message_type == "ping" and isinstance(data, Mapping) and "event_type" in data
    if test:
        message_type, data = data["event_type"], data.get("payload", {})
    body: dict[str, Any] = {"field": events.family(message_type)}
    if "." in message_type:
        body |= {"event": message_type, "sub_type": message_type}
    body |= {
        "timestamp": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_id": message_id,
        "payload": data,
    }
    if test:
        body["test"] = True
    return body


def render(message: Message, secrets: list[str], timestamp: int) -> tuple[str, dict[str, str]]:
    shaped = envelope(message.id, message.type, message.created_at, message.data)
    body = json.dumps(shaped)
    headers = standard_signature(secrets, message.id, timestamp, body)
    webhook_id = message.subscription_id or message.id
    named = shaped.get("event") or shaped["field"]
    headers |= {
        "x-webhook-id": webhook_id,
        "x-webhook-timestamp": str(timestamp),
        "x-webhook-signature": standard_signature(secrets, webhook_id, timestamp, body)[
            "webhook-signature"
        ],
        "x-webhook-event-type": events.header_family(named, message.options),
        "x-webhook-event-id": message.id,  # the same on every attempt: the receiver's dedupe key
    }
    return body, headers


register_format(NAME, render)

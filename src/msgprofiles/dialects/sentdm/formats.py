"""Sent.dm's webhook format: its envelope, and its `X-Webhook-*` header names next to the
Standard Webhooks ones. Registered with the webhooks domain as `sentdm`; subscriptions made
through this dialect use it."""

import json
from datetime import datetime

from msgprofiles.core.outbound import standard_signature
from msgprofiles.webhooks.formats import Message, register_format

NAME = "sentdm"


def envelope(
    message_id: str, message_type: str, created_at: datetime, data: object
) -> dict[str, object]:
    """The family in `field`, the event in `event` (its id travels in X-Webhook-Event-ID)."""
    return {
        "field": message_type.partition(".")[0],
        "event": message_type,
        "timestamp": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_id": message_id,
        "payload": data,
    }


def render(message: Message, secrets: list[str], timestamp: int) -> tuple[str, dict[str, str]]:
    body = json.dumps(envelope(message.id, message.type, message.created_at, message.data))
    headers = standard_signature(secrets, message.id, timestamp, body)
    headers |= {
        "x-webhook-event-id": message.id,
        "x-webhook-timestamp": headers["webhook-timestamp"],
        "x-webhook-signature": headers["webhook-signature"],
    }
    if message.subscription_id is not None:
        headers["x-webhook-id"] = message.subscription_id
    return body, headers


register_format(NAME, render)

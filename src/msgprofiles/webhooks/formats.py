"""Payload formats: how an event becomes the body and signature headers of a delivery.

The native format is Standard Webhooks: headers `webhook-id` (the message id, stable across
retries so receivers can de-duplicate), `webhook-timestamp` and `webhook-signature`, body
`{id, type, created_at, data}`. A dialect whose vendor defines its own envelope or headers
registers a format of its own (`register_format`); a subscription names the one it receives."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from msgprofiles.core.outbound import standard_signature


@dataclass(frozen=True, slots=True)
class Message:
    """One thing to tell a receiver: an event, or a workflow's result."""

    id: str
    type: str
    created_at: datetime
    data: object
    subscription_id: str | None = None  # None: a callback to a URL given with a request
    options: Mapping[str, Any] | None = None  # what the subscription's format keeps for it


Render = Callable[[Message, list[str], int], tuple[str, dict[str, str]]]
"""(message, signing secrets, unix timestamp) -> (body, headers)."""

FORMATS: dict[str, Render] = {}


def register_format(name: str, render: Render) -> None:
    """Make `name` a payload format subscriptions may choose (dialects call this at import)."""
    FORMATS[name] = render


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def standard(message: Message, secrets: list[str], timestamp: int) -> tuple[str, dict[str, str]]:
    body = json.dumps(
        {
            "id": message.id,
            "type": message.type,
            "created_at": iso(message.created_at),
            "data": message.data,
        },
        separators=(",", ":"),
    )
    return body, standard_signature(secrets, message.id, timestamp, body)


register_format("standard", standard)

"""Plivo's status callbacks (spec §10): the request's `url` gets a JSON POST for each status
change of the brand, campaign or number link it made, with the object's Plivo ids and its new
Plivo status, signed with the organization's callback secret (Standard Webhooks headers)."""

import json
from typing import Any

from msgprofiles.core.outbound import standard_signature
from msgprofiles.dialects.plivo import shapes
from msgprofiles.dialects.toolkit import to_uuid
from msgprofiles.webhooks.formats import Message, iso, register_format

NAME = "plivo"


def _body(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = message.data  # type: ignore[assignment]
    kind = message.type.partition(".")[0]
    if kind == "brand":
        return {
            "brand_id": to_uuid(data["id"]),
            "brand_alias": data.get("registration_alias") or data["alias"],
            "registration_status": shapes.BRAND_STATUS[data["registration_status"]],
            "failure_reason": shapes.text(data.get("rejection_reason")),
        }
    if kind == "campaign":
        deleted = data.get("deleted_at") is not None
        return {
            "campaign_id": to_uuid(data["id"]),
            "brand_id": to_uuid(data["brand_id"]),
            "registration_status": (
                shapes.EXPIRED if deleted else shapes.CAMPAIGN_STATUS[data["status"]]
            ),
            "failure_reason": shapes.text(data.get("rejection_reason")),
        }
    assert kind == "number", message.type
    request = (
        "RELEASE"
        if message.type == "number.released"
        else ("LINK" if data["profile_id"] else "UNLINK")
    )
    options = message.options or {}
    return {
        "campaign_id": options.get("campaign_id", ""),
        "number": shapes.digits(data["number"]),
        "request": request,
        "status": "COMPLETED",
    }


def render(message: Message, secrets: list[str], timestamp: int) -> tuple[str, dict[str, str]]:
    body = json.dumps(
        {
            **_body(message),
            "event": message.type,
            "event_id": message.id,
            "timestamp": iso(message.created_at),
        },
        separators=(",", ":"),
    )
    return body, standard_signature(secrets, message.id, timestamp, body)


register_format(NAME, render)

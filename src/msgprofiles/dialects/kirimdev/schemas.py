"""Kirimdev's request bodies where they differ from the native ones: webhook subscriptions
take `events` from Kirimdev's list."""

from typing import Literal

from pydantic import AnyHttpUrl, Field

from msgprofiles.core.schemas import InputModel

Event = Literal[
    "conversation.assigned",
    "conversation.closed",
    "contact.created",
    "contact.updated",
    "customer.created",
    "customer.updated",
    "customer.archived",
    "customer.onboarded",
    "customer.setup_link.created",
    "customer.setup_link.consumed",
    "message.received",
    "message.status",
]
"""Kirimdev's event names (spec §5). msgprofiles produces the `customer.*` ones; the others
are kept on the subscription and never delivered."""


class SubscriptionCreate(InputModel):
    url: AnyHttpUrl
    description: str | None = Field(default=None, max_length=500)
    events: list[Event] = Field(min_length=1, max_length=20)


class SubscriptionUpdate(InputModel):
    not_null = frozenset({"url", "events"})

    url: AnyHttpUrl | None = None
    description: str | None = Field(default=None, max_length=500)
    events: list[Event] | None = Field(default=None, min_length=1, max_length=20)

"""Events: every state change, written in the transaction of the change (the outbox), and
fanned out there to a delivery (and its job) for each subscription that wants it.

Domains describe their event types once with `register_event_type` and call `emit` before
their commit: if the change commits the event will be delivered, if it rolls back nothing is
sent."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Integer, bindparam, delete, exists, insert, select, tuple_, update

from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.tenancy import fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Database, Row, prepare
from msgprofiles.db.types import UTCDateTime
from msgprofiles.jobs.runner import enqueue
from msgprofiles.webhooks import callbacks
from msgprofiles.webhooks.models import (
    events,
    webhook_deliveries,
    webhook_delivery_attempts,
    webhook_subscriptions,
)
from msgprofiles.webhooks.schemas import Event, EventType

DELIVER_JOB = "webhook.deliver"

EVENT_TYPES: dict[str, str] = {}


def register_event_type(event_type: str, description: str) -> None:
    EVENT_TYPES[event_type] = description


register_event_type("ping", "A test event, sent by POST /v1/webhook_subscriptions/{id}/test.")
register_event_type(
    "webhook_subscription.disabled",
    "A subscription was disabled after its deliveries failed for several days.",
)

_insert_event = prepare(insert(events))
_insert_delivery = prepare(insert(webhook_deliveries))
_subscribers = prepare(
    select(
        webhook_subscriptions.c.id,
        webhook_subscriptions.c.profile_id,
        webhook_subscriptions.c.event_types,
        webhook_subscriptions.c.status,
    ).where(
        webhook_subscriptions.c.organization_id == bindparam("org"),
        webhook_subscriptions.c.deleted_at.is_(None),
        webhook_subscriptions.c.status != "disabled",
    )
)
_get = prepare(
    select(events).where(
        events.c.organization_id == bindparam("org"), events.c.id == bindparam("evt")
    )
)


def catalogue() -> list[EventType]:
    return [EventType(type=name, description=text) for name, text in sorted(EVENT_TYPES.items())]


def _sees(subscription: Row, profile_id: str | None) -> bool:
    """A profile's own subscription sees only that profile's events."""
    return subscription["profile_id"] is None or subscription["profile_id"] == profile_id


def wants(subscription: Row, event_type: str, profile_id: str | None) -> bool:
    """Whether the subscription receives such an event: one it sees, of a type it lists (if
    it lists any)."""
    event_types = subscription["event_types"]
    return _sees(subscription, profile_id) and (event_types is None or event_type in event_types)


async def emit(
    conn: Connection,
    organization_id: str,
    event_type: str,
    data: BaseModel | Mapping[str, Any],
    *,
    profile_id: str | None = None,
    only_subscription: str | None = None,
) -> str:
    """Record an event and queue its deliveries, inside the caller's transaction.
    `profile_id`: the profile the event concerns (its own subscriptions receive it too)."""
    assert conn.in_transaction, "an event is written in the transaction of its change"
    assert event_type in EVENT_TYPES, f"unregistered event type {event_type!r}"
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)
    event_id = new_id("evt")
    now = utcnow()
    await conn.execute(
        _insert_event,
        {
            "organization_id": organization_id,
            "id": event_id,
            "type": event_type,
            "profile_id": profile_id,
            "data": payload,
            "created_at": now,
        },
    )
    if event_type in callbacks.STATUS_CHANGES and only_subscription is None:
        await callbacks.notify(conn, organization_id, event_id, event_type, payload, now)
    for subscription in await conn.fetch_all(_subscribers, {"org": organization_id}):
        if only_subscription is not None:
            if subscription["id"] != only_subscription:
                continue
        elif not wants(subscription, event_type, profile_id):
            continue
        await create_delivery(conn, organization_id, subscription, event_id)
    return event_id


async def emit_many(
    conn: Connection, organization_id: str, event_type: str, items: Sequence[BaseModel]
) -> None:
    """`emit` for many events of one type at once (bulk writes): the events in one statement,
    then a delivery of each to every subscription that wants it."""
    assert conn.in_transaction, "an event is written in the transaction of its change"
    assert event_type not in callbacks.STATUS_CHANGES, "status changes are emitted one by one"
    assert event_type in EVENT_TYPES, f"unregistered event type {event_type!r}"
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "organization_id": organization_id,
            "id": new_id("evt"),
            "type": event_type,
            "profile_id": None,
            "data": item.model_dump(mode="json"),
            "created_at": now,
        }
        for item in items
    ]
    await conn.execute_many(_insert_event, rows)
    subscribers = await conn.fetch_all(_subscribers, {"org": organization_id})
    for subscription in subscribers:
        if wants(subscription, event_type, None):
            for row in rows:
                await create_delivery(conn, organization_id, subscription, row["id"])


async def create_delivery(
    conn: Connection, organization_id: str, subscription: Row, event_id: str
) -> str:
    """A delivery of one event to one subscription: queued now, or held while it is paused."""
    now = utcnow()
    delivery_id = new_id("whdel")
    held = subscription["status"] == "paused"
    await conn.execute(
        _insert_delivery,
        {
            "organization_id": organization_id,
            "id": delivery_id,
            "subscription_id": subscription["id"],
            "event_id": event_id,
            "status": "held" if held else "pending",
            "attempts": 0,
            "next_attempt_at": None if held else now,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not held:
        await enqueue(conn, organization_id, DELIVER_JOB, {"delivery_id": delivery_id})
    return delivery_id


def _to_model(row: Row) -> Event:
    return Event(id=row["id"], type=row["type"], created_at=row["created_at"], data=row["data"])


async def list_events(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    *,
    event_type: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Page[Event]:
    statement = select(events).where(events.c.organization_id == caller.organization_id)
    if caller.profile_id is not None:
        statement = statement.where(events.c.profile_id == caller.profile_id)
    if event_type is not None:
        statement = statement.where(events.c.type == event_type)
    if created_after is not None:
        statement = statement.where(events.c.created_at >= created_after)
    if created_before is not None:
        statement = statement.where(events.c.created_at < created_before)
    result = await fetch_page(conn, statement, events.c.id, page)
    return result.map(_to_model)


async def _event_row(conn: Connection, caller: Caller, event_id: str) -> Row:
    """An event within the caller's reach (a profile-scoped caller: its profile's), or 404."""
    return await fetch_owned(conn, caller, _get, ErrorCode.event_not_found, "event", evt=event_id)


async def get_event(conn: Connection, caller: Caller, event_id: str) -> Event:
    return _to_model(await _event_row(conn, caller, event_id))


async def redeliver(
    conn: Connection, caller: Caller, event_id: str, subscription_id: str | None
) -> list[str]:
    """Deliver an event again: to one subscription, or to every one that wants its type."""
    async with conn.transaction():
        event = await _event_row(conn, caller, event_id)
        targets = [
            s
            for s in await conn.fetch_all(_subscribers, {"org": caller.organization_id})
            if (
                # even when named, a profile's subscription gets no other profile's event
                s["id"] == subscription_id and _sees(s, event["profile_id"])
                if subscription_id
                else wants(s, event["type"], event["profile_id"])
            )
        ]
        if subscription_id and not targets:
            raise not_found(
                ErrorCode.webhook_subscription_not_found, "active subscription", subscription_id
            )
        return [await create_delivery(conn, caller.organization_id, s, event_id) for s in targets]


def check_event_types(event_types: list[str] | None) -> None:
    unknown = sorted(set(event_types or ()) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(
            ErrorCode.unknown_event_type,
            f"Unknown event type(s): {', '.join(unknown)}. See GET /v1/event_types.",
            details=[{"field": "event_types", "value": name} for name in unknown],
        )


_d = webhook_deliveries
_in_flight = exists().where(
    _d.c.organization_id == events.c.organization_id,
    _d.c.event_id == events.c.id,
    (_d.c.status == "pending") | (_d.c.status == "held"),  # prepare() has no expanding IN
)
_expired = prepare(
    select(events.c.organization_id, events.c.id)
    .where(events.c.created_at < bindparam("cutoff", type_=UTCDateTime), ~_in_flight)
    .order_by(events.c.created_at)
    .limit(bindparam("batch", type_=Integer))
)


async def purge_events(database: Database, older_than: timedelta, batch: int = 500) -> int:
    """Forget events older than the retention, with their deliveries and attempts, a batch
    per transaction (SQLite's one writer is never held for long). An event whose delivery is
    still under way, or held for a paused subscription, stays until that delivery ends."""
    cutoff = utcnow() - older_than
    purged = 0
    while True:
        async with database.connect() as conn, conn.transaction():
            expired = await conn.fetch_all(_expired, {"cutoff": cutoff, "batch": batch})
            keys = [(row["organization_id"], row["id"]) for row in expired]
            if not keys:
                return purged
            deliveries = select(_d.c.organization_id, _d.c.id).where(
                tuple_(_d.c.organization_id, _d.c.event_id).in_(keys)
            )
            a = webhook_delivery_attempts
            await conn.execute(
                delete(a).where(tuple_(a.c.organization_id, a.c.delivery_id).in_(deliveries))
            )
            await conn.execute(
                delete(_d).where(tuple_(_d.c.organization_id, _d.c.event_id).in_(keys))
            )
            purged += await conn.execute(
                delete(events).where(tuple_(events.c.organization_id, events.c.id).in_(keys))
            )
        if len(keys) < batch:
            return purged


async def redact_events(conn: Connection, organization_id: str, prefix: str, object_id: str) -> int:
    """Erasure: the events of type `prefix…` about `object_id` (their `data.id`, or the
    `data.contact_id` of an object that belongs to it) keep only their own object's id.
    How many were redacted."""
    about = events.c.data["id"].as_string() == object_id
    belongs = events.c.data["contact_id"].as_string() == object_id
    rows = await conn.fetch_all(
        select(events.c.id, events.c.data).where(
            events.c.organization_id == organization_id,
            events.c.type.startswith(prefix),
            about | belongs,
        )
    )
    for row in rows:
        await conn.execute(
            update(events)
            .where(events.c.organization_id == organization_id, events.c.id == row["id"])
            .values(data={"id": row["data"].get("id")})
        )
    return len(rows)


async def events_about(
    conn: Connection, organization_id: str, prefix: str, object_id: str
) -> list[dict[str, Any]]:
    """The events of type `prefix…` about `object_id` (or an object that belongs to it)."""
    about = events.c.data["id"].as_string() == object_id
    belongs = events.c.data["contact_id"].as_string() == object_id
    rows = await conn.fetch_all(
        select(events.c.id, events.c.type, events.c.created_at, events.c.data)
        .where(
            events.c.organization_id == organization_id,
            events.c.type.startswith(prefix),
            about | belongs,
        )
        .order_by(events.c.id)
    )
    return [dict(row) for row in rows]

"""Webhook subscriptions: where events go, signed with a secret shown once and stored
encrypted. Rotating the secret keeps the old one signing for a grace period."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update

from msgprofiles.core.auth import Caller
from msgprofiles.core.crypto import SecretBox, new_signing_secret
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.outbound import check_url
from msgprofiles.core.pagination import Page, PageParams, escape_like, fetch_page
from msgprofiles.core.tenancy import fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import enqueue
from msgprofiles.profiles.service import require_profile
from msgprofiles.webhooks import events as event_log
from msgprofiles.webhooks.models import (
    events,
    webhook_deliveries,
    webhook_delivery_attempts,
    webhook_subscriptions,
)
from msgprofiles.webhooks.schemas import (
    Delivery,
    DeliveryAttempt,
    Ping,
    RotateSecret,
    SigningSecret,
    WebhookSubscription,
    WebhookSubscriptionCreate,
    WebhookSubscriptionUpdate,
    WebhookSubscriptionWithSecret,
)

_s, _d = webhook_subscriptions, webhook_deliveries
_this = (_s.c.organization_id == bindparam("org")) & (_s.c.id == bindparam("sub"))
_get = prepare(select(_s).where(_this, _s.c.deleted_at.is_(None)))
_insert = prepare(insert(_s))
_held = prepare(
    select(_d.c.id).where(
        _d.c.organization_id == bindparam("org"),
        _d.c.subscription_id == bindparam("sub"),
        _d.c.status == "held",
    )
)
_release_held = prepare(
    update(_d)
    .where(_d.c.organization_id == bindparam("org"), _d.c.id == bindparam("delivery"))
    .values(status="pending", next_attempt_at=bindparam("now"), updated_at=bindparam("now"))
)


_to_model = WebhookSubscription.from_row


async def _row(conn: Connection, caller: Caller, subscription_id: str) -> Row:
    """A subscription the caller may see: a profile-scoped caller sees its profile's only."""
    code = ErrorCode.webhook_subscription_not_found
    return await fetch_owned(conn, caller, _get, code, "webhook subscription", sub=subscription_id)


async def create_subscription(
    conn: Connection,
    caller: Caller,
    data: WebhookSubscriptionCreate,
    box: SecretBox,
    allow_private: bool,
) -> WebhookSubscriptionWithSecret:
    event_log.check_event_types(data.event_types)
    await check_url(str(data.url), allow_private)
    profile_id = data.profile_id or caller.profile_id
    if profile_id is not None:
        await require_profile(conn, caller, profile_id)
    secret = new_signing_secret()
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": caller.organization_id,
        "id": new_id("whsub"),
        "profile_id": profile_id,
        "url": str(data.url),
        "description": data.description,
        "event_types": data.event_types,
        "status": "active",
        "secret": box.encrypt(secret),
        "previous_secret": None,
        "previous_secret_expires_at": None,
        "failing_since": None,
        "retry_count": data.retry_count,
        "timeout_seconds": data.timeout_seconds,
        "payload_format": data.payload_format,
        "format_options": data.format_options,
        "consecutive_failures": 0,
        "last_attempt_at": None,
        "last_success_at": None,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
    }
    async with conn.transaction():
        await conn.execute(_insert, row)
    return WebhookSubscriptionWithSecret(**_to_model(row).model_dump(), secret=secret)


async def list_subscriptions(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    status: Literal["active", "paused", "disabled"] | None = None,
    search: str | None = None,
) -> Page[WebhookSubscription]:
    statement = select(_s).where(
        _s.c.organization_id == caller.organization_id, _s.c.deleted_at.is_(None)
    )
    if caller.profile_id is not None:
        statement = statement.where(_s.c.profile_id == caller.profile_id)
    if status is not None:
        statement = statement.where(_s.c.status == status)
    if search:
        pattern = "%" + escape_like(search.lower()) + "%"
        statement = statement.where(
            _s.c.url.ilike(pattern, escape="\\") | _s.c.description.ilike(pattern, escape="\\")
        )
    result = await fetch_page(conn, statement, _s.c.id, page)
    return result.map(_to_model)


async def get_subscription(
    conn: Connection, caller: Caller, subscription_id: str
) -> WebhookSubscription:
    return _to_model(await _row(conn, caller, subscription_id))


async def update_subscription(
    conn: Connection,
    caller: Caller,
    subscription_id: str,
    data: WebhookSubscriptionUpdate,
    allow_private: bool,
) -> WebhookSubscription:
    changes = data.changes()
    if "url" in changes:
        changes["url"] = str(changes["url"])
    if "event_types" in changes:
        event_log.check_event_types(changes["event_types"])
    if "url" in changes:
        await check_url(changes["url"], allow_private)
    async with conn.transaction():
        row = await _row(conn, caller, subscription_id)
        if changes.get("status") and row["status"] == "disabled":
            raise DomainError(
                ErrorCode.webhook_subscription_disabled,
                "This subscription was disabled after failing deliveries; resume it first.",
            )
        if not changes:
            return _to_model(row)
        return await _apply(conn, caller, row, changes)


async def _apply(
    conn: Connection, caller: Caller, row: Row, changes: dict[str, Any]
) -> WebhookSubscription:
    changes["updated_at"] = utcnow()
    await conn.execute(
        update(_s)
        .where(_s.c.organization_id == caller.organization_id, _s.c.id == row["id"])
        .values(**changes)
    )
    if changes.get("status") == "active" and row["status"] != "active":
        await _release(conn, caller, row["id"])
    return _to_model({**row, **changes})


async def _release(conn: Connection, caller: Caller, subscription_id: str) -> None:
    """Queue the deliveries held while the subscription was paused."""
    now = utcnow()
    params = {"org": caller.organization_id, "sub": subscription_id, "now": now}
    for held in await conn.fetch_all(_held, params):
        await conn.execute(_release_held, {**params, "delivery": held["id"]})
        await enqueue(
            conn, caller.organization_id, event_log.DELIVER_JOB, {"delivery_id": held["id"]}
        )


async def set_status(
    conn: Connection, caller: Caller, subscription_id: str, status: Literal["active", "paused"]
) -> WebhookSubscription:
    """Pause (deliveries are held) or resume (held deliveries are sent; a disabled
    subscription comes back, failing history forgotten)."""
    async with conn.transaction():
        row = await _row(conn, caller, subscription_id)
        if row["status"] == "disabled" and status == "paused":
            raise DomainError(
                ErrorCode.webhook_subscription_disabled, "Resume a disabled subscription first."
            )
        if row["status"] == status:
            return _to_model(row)
        changes: dict[str, Any] = {"status": status}
        if status == "active":
            changes["failing_since"] = None
        model = await _apply(conn, caller, row, changes)
        return model


async def delete_subscription(
    conn: Connection, caller: Caller, subscription_id: str
) -> WebhookSubscription:
    """Delete: nothing more is sent (queued deliveries are cancelled); history stays."""
    async with conn.transaction():
        row = await _row(conn, caller, subscription_id)
        now = utcnow()
        await conn.execute(
            update(_s)
            .where(_s.c.organization_id == caller.organization_id, _s.c.id == row["id"])
            .values(deleted_at=now, updated_at=now)
        )
        return _to_model({**row, "updated_at": now})


async def rotate_secret(
    conn: Connection, caller: Caller, subscription_id: str, data: RotateSecret, box: SecretBox
) -> SigningSecret:
    secret = new_signing_secret()
    expires = utcnow() + timedelta(hours=data.grace_period_hours)
    async with conn.transaction():
        row = await _row(conn, caller, subscription_id)
        await conn.execute(
            update(_s)
            .where(_s.c.organization_id == caller.organization_id, _s.c.id == row["id"])
            .values(
                secret=box.encrypt(secret),
                previous_secret=row["secret"],
                previous_secret_expires_at=expires,
                updated_at=utcnow(),
            )
        )
    return SigningSecret(secret=secret, previous_secret_expires_at=expires)


async def send_test(
    conn: Connection,
    caller: Caller,
    subscription_id: str,
    sample: Mapping[str, Any] | None = None,
) -> Ping:
    """A `ping` event delivered to this subscription only, carrying `sample` (a payload
    format may shape it as the event type the sample names)."""
    async with conn.transaction():
        row = await _row(conn, caller, subscription_id)
        if row["status"] == "disabled":
            raise DomainError(
                ErrorCode.webhook_subscription_disabled, "Resume this subscription first."
            )
        event_id = await event_log.emit(
            conn,
            caller.organization_id,
            "ping",
            {"subscription_id": subscription_id, **(sample or {})},
            profile_id=row["profile_id"],
            only_subscription=subscription_id,
        )
        delivery = await conn.fetch_one(
            select(_d.c.id).where(
                _d.c.organization_id == caller.organization_id, _d.c.event_id == event_id
            )
        )
        assert delivery is not None
        return Ping(event_id=event_id, delivery_id=delivery["id"])


async def list_deliveries(
    conn: Connection,
    caller: Caller,
    subscription_id: str,
    page: PageParams,
    *,
    search: str | None = None,
) -> Page[Delivery]:
    """The subscription's deliveries, newest first; `search` is a part of the event type."""
    await _row(conn, caller, subscription_id)
    statement = (
        select(_d, events.c.type)
        .join(
            events,
            (events.c.organization_id == _d.c.organization_id) & (events.c.id == _d.c.event_id),
        )
        .where(
            _d.c.organization_id == caller.organization_id, _d.c.subscription_id == subscription_id
        )
    )
    if search:
        pattern = "%" + escape_like(search.lower()) + "%"
        statement = statement.where(events.c.type.ilike(pattern, escape="\\"))
    result = await fetch_page(conn, statement, _d.c.id, page)
    ids = [r["id"] for r in result.items]
    attempts: dict[str, list[DeliveryAttempt]] = {i: [] for i in ids}
    if ids:
        a = webhook_delivery_attempts
        for attempt in await conn.fetch_all(
            select(a)
            .where(a.c.organization_id == caller.organization_id, a.c.delivery_id.in_(ids))
            .order_by(a.c.delivery_id, a.c.attempt)
        ):
            attempts[attempt["delivery_id"]].append(DeliveryAttempt.model_validate(dict(attempt)))
    items = [
        Delivery(
            id=r["id"],
            subscription_id=r["subscription_id"],
            event_id=r["event_id"],
            event_type=r["type"],
            status=r["status"],
            attempts=attempts[r["id"]],
            next_attempt_at=r["next_attempt_at"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in result.items
    ]
    return Page(items, result.has_more, result.next_cursor, result.total)

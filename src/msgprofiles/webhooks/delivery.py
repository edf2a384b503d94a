"""Sending one delivery: the `webhook.deliver` job.

The body and signature headers are the subscription's payload format (`formats`); the POST,
its SSRF check, timeout and retry schedule are `core.outbound`'s. A 2xx is success; anything
else is retried on the schedule (about a day by default), then the delivery is failed. A
subscription whose deliveries have all failed for `webhook_disable_after_days` is disabled,
and an event says so."""

import time
from datetime import timedelta

from sqlalchemy import bindparam, func, insert, select, update

from msgprofiles.core import metrics
from msgprofiles.core.outbound import post_signed, retry_delay, signing_secrets
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import Retry, handler
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import events as event_log
from msgprofiles.webhooks.formats import FORMATS, Message
from msgprofiles.webhooks.models import (
    events,
    webhook_deliveries,
    webhook_delivery_attempts,
    webhook_subscriptions,
)
from msgprofiles.webhooks.schemas import WebhookSubscription

_d, _s, _e = webhook_deliveries, webhook_subscriptions, events
_load = prepare(
    select(
        _d.c.id,
        _d.c.status,
        _d.c.attempts,
        _d.c.subscription_id,
        _e.c.id.label("event_id"),
        _e.c.type,
        _e.c.created_at.label("event_created_at"),
        _e.c.data,
        _s.c.url,
        _s.c.status.label("subscription_status"),
        _s.c.deleted_at,
        _s.c.secret,
        _s.c.previous_secret,
        _s.c.previous_secret_expires_at,
        _s.c.failing_since,
        _s.c.last_success_at,
        _s.c.retry_count,
        _s.c.timeout_seconds,
        _s.c.payload_format,
        _s.c.format_options,
    )
    .join(_e, (_e.c.organization_id == _d.c.organization_id) & (_e.c.id == _d.c.event_id))
    .join(
        _s,
        (_s.c.organization_id == _d.c.organization_id) & (_s.c.id == _d.c.subscription_id),
    )
    .where(_d.c.organization_id == bindparam("org"), _d.c.id == bindparam("delivery"))
)
_this_delivery = (_d.c.organization_id == bindparam("org")) & (_d.c.id == bindparam("delivery"))
_set_delivery = prepare(
    update(_d)
    .where(_this_delivery)
    .values(
        status=bindparam("status"),
        attempts=bindparam("attempts"),
        next_attempt_at=bindparam("next_at"),
        updated_at=bindparam("now"),
    )
)
_insert_attempt = prepare(insert(webhook_delivery_attempts))
_this_subscription = (_s.c.organization_id == bindparam("org")) & (_s.c.id == bindparam("sub"))
_record_success = prepare(
    update(_s)
    .where(_this_subscription)
    .values(
        failing_since=None,
        consecutive_failures=0,
        last_attempt_at=bindparam("now"),
        last_success_at=bindparam("now"),
    )
)
_record_failure = prepare(
    update(_s)
    .where(_this_subscription)
    .values(
        failing_since=func.coalesce(_s.c.failing_since, bindparam("now")),
        consecutive_failures=_s.c.consecutive_failures + 1,
        last_attempt_at=bindparam("now"),
    )
)
_disable = prepare(
    update(_s)
    .where(_this_subscription, _s.c.status != "disabled")
    .values(status="disabled", updated_at=bindparam("now"))
)
_get_subscription = prepare(select(_s).where(_this_subscription))
_SECOND = timedelta(seconds=1)


@handler(event_log.DELIVER_JOB)
async def deliver(context: Runtime, job: Row) -> None:
    organization_id = job["organization_id"]
    params = {"org": organization_id, "delivery": job["payload"]["delivery_id"]}
    async with context.database.connect() as conn:
        row = await conn.fetch_one(_load, params)
    if row is None or row["status"] not in ("pending", "held"):
        return  # already settled: a job may run twice
    if row["deleted_at"] is not None or row["subscription_status"] == "disabled":
        await _settle(context, row, organization_id, "cancelled", row["attempts"], None)
        return
    if row["subscription_status"] == "paused":
        await _settle(context, row, organization_id, "held", row["attempts"], None)
        return

    settings = context.settings
    now = utcnow()
    secrets = signing_secrets(
        context.secrets, row["secret"], row["previous_secret"], row["previous_secret_expires_at"]
    )
    message = Message(
        row["event_id"],
        row["type"],
        row["event_created_at"],
        row["data"],
        subscription_id=row["subscription_id"],
        options=row["format_options"],
    )
    body, headers = FORMATS[row["payload_format"]](message, secrets, int(time.time()))
    attempt = row["attempts"] + 1
    sent = await post_signed(
        context.http,
        row["url"],
        body,
        headers,
        timeout_seconds=row["timeout_seconds"] or settings.webhook_timeout_seconds,
        allow_private=settings.allow_private_webhooks,
    )
    status_code, error, latency = sent.status_code, sent.error, sent.latency_ms

    schedule = settings.webhook_retry_schedule
    if row["retry_count"] is not None:  # the subscription's own count, paced like the default
        schedule = (schedule + schedule[-1:] * row["retry_count"])[: row["retry_count"]]
    delay = None if error is None else retry_delay(schedule, attempt)
    next_at = None if delay is None else utcnow() + delay
    status = "succeeded" if error is None else ("pending" if delay else "failed")
    async with context.database.connect() as conn, conn.transaction():
        await conn.execute(
            _insert_attempt,
            {
                "organization_id": organization_id,
                "delivery_id": row["id"],
                "attempt": attempt,
                "started_at": now,
                "status_code": status_code,
                "latency_ms": latency,
                "error": error,
                "next_retry_at": next_at,
            },
        )
        await conn.execute(
            _set_delivery,
            {**params, "status": status, "attempts": attempt, "next_at": next_at, "now": utcnow()},
        )
        await _track_health(conn, context, organization_id, row, failed=error is not None)
    metrics.delivery_attempts.labels(
        "succeeded" if error is None else ("retrying" if delay else "failed")
    ).inc()
    if error is None:
        metrics.commit_to_delivery.observe((utcnow() - row["event_created_at"]).total_seconds())
    if delay is not None:
        raise Retry(delay, error or "")


async def _settle(
    context: Runtime,
    row: Row,
    organization_id: str,
    status: str,
    attempts: int,
    next_at: object,
) -> None:
    async with context.database.connect() as conn:
        await conn.execute(
            _set_delivery,
            {
                "org": organization_id,
                "delivery": row["id"],
                "status": status,
                "attempts": attempts,
                "next_at": next_at,
                "now": utcnow(),
            },
        )


async def _track_health(
    conn: Connection, context: Runtime, organization_id: str, row: Row, *, failed: bool
) -> None:
    """Keep the subscription's health (failures in a row, last attempt and success) and
    disable it once it has failed for the configured days."""
    params = {"org": organization_id, "sub": row["subscription_id"], "now": utcnow()}
    if not failed:
        # A healthy subscription's row is written at most once a second: every delivery to
        # it would otherwise update that one row, and concurrent ones queue on its lock.
        last = row["last_success_at"]
        if row["failing_since"] is not None or last is None or params["now"] - last >= _SECOND:
            await conn.execute(_record_success, params)
        return
    await conn.execute(_record_failure, params)
    since = row["failing_since"]
    limit = timedelta(days=context.settings.webhook_disable_after_days)
    if (
        since is not None
        and params["now"] - since >= limit
        and await conn.execute(_disable, params)
    ):
        subscription = await conn.fetch_one(_get_subscription, params)
        assert subscription is not None
        await event_log.emit(
            conn,
            organization_id,
            "webhook_subscription.disabled",
            WebhookSubscription.from_row(subscription),
        )

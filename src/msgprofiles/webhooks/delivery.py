"""Sending one delivery: the `webhook.deliver` job.

Deliveries follow Standard Webhooks: headers `webhook-id` (the event id, stable across retries
so receivers can de-duplicate), `webhook-timestamp` and `webhook-signature`, body
`{id, type, created_at, data}`. A 2xx is success; anything else, or no answer within the
timeout, is retried on `settings.webhook_retry_schedule` with ±20 % jitter (about a day by
default), then the delivery is failed. A subscription whose deliveries have all failed for
`webhook_disable_after_days` is disabled, and an event says so."""

import asyncio
import ipaddress
import json
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import bindparam, func, insert, select, update
from standardwebhooks import Webhook

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import JobContext, Retry, handler
from msgprofiles.webhooks import events as event_log
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
        _s.c.retry_count,
        _s.c.timeout_seconds,
        _s.c.payload_format,
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


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_url(url: str, allow_private: bool) -> None:
    """Refuse URLs that are not http(s), or that point at this network (SSRF): private,
    loopback and link-local addresses, unless the operator allows them."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError(ErrorCode.webhook_url_not_allowed, "Webhook URLs must be http(s).")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except OSError as error:
        raise DomainError(
            ErrorCode.webhook_url_not_allowed, f"The host {parts.hostname!r} does not resolve."
        ) from error
    if not all(_is_public(str(info[4][0])) for info in infos):
        raise DomainError(
            ErrorCode.webhook_url_not_allowed,
            "Webhook URLs may not point at private, loopback or link-local addresses.",
        )


def signature_headers(
    secrets: list[str], message_id: str, timestamp: float, body: str
) -> dict[str, str]:
    moment = datetime.fromtimestamp(int(timestamp), UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signatures,
    }


def signing_secrets(
    context: JobContext, secret: str, previous: str | None, previous_expires_at: datetime | None
) -> list[str]:
    """The secrets to sign with: the current one, and the previous one during its grace."""
    secrets = [context.secrets.decrypt(secret)]
    if previous and previous_expires_at and previous_expires_at > utcnow():
        secrets.append(context.secrets.decrypt(previous))
    return secrets


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def message_body(message_id: str, message_type: str, created_at: datetime, data: object) -> str:
    """The JSON every delivery carries: `{id, type, created_at, data}`."""
    return json.dumps(
        {"id": message_id, "type": message_type, "created_at": _iso(created_at), "data": data},
        separators=(",", ":"),
    )


def sentdm_body(message_id: str, message_type: str, created_at: datetime, data: object) -> str:
    """Sent.dm's envelope: the family in `field`, the event in `event` (its id travels in the
    X-Webhook-Event-ID header)."""
    return json.dumps(sentdm_envelope(message_id, message_type, created_at, data))


def sentdm_envelope(
    message_id: str, message_type: str, created_at: datetime, data: object
) -> dict[str, object]:
    return {
        "field": message_type.partition(".")[0],
        "event": message_type,
        "timestamp": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_id": message_id,
        "payload": data,
    }


FORMATS: dict[str, Callable[[str, str, datetime, object], str]] = {
    "standard": message_body,
    "sentdm": sentdm_body,
}


@dataclass(frozen=True)
class Sent:
    status_code: int | None
    error: str | None  # None: delivered (2xx)
    latency_ms: int


async def post_signed(
    context: JobContext,
    url: str,
    secrets: list[str],
    message_id: str,
    body: str,
    *,
    timeout_seconds: float | None = None,
    subscription_id: str | None = None,
) -> Sent:
    """POST `body` to `url` signed the Standard Webhooks way; never raises. The same id,
    time and signature also go out under the X-Webhook-* names Sent.dm receivers read."""
    headers = signature_headers(secrets, message_id, time.time(), body)
    headers["x-webhook-event-id"] = message_id
    headers["x-webhook-timestamp"] = headers["webhook-timestamp"]
    headers["x-webhook-signature"] = headers["webhook-signature"]
    if subscription_id is not None:
        headers["x-webhook-id"] = subscription_id
    headers["content-type"] = "application/json"
    headers["user-agent"] = "msgprofiles-webhooks/1"
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        await check_url(url, context.settings.allow_private_webhooks)
        response = await context.http.post(
            url,
            content=body,
            headers=headers,
            timeout=timeout_seconds or context.settings.webhook_timeout_seconds,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except DomainError as refused:
        error = refused.message
    except Exception as failure:  # timeouts, refused connections, TLS errors
        error = f"{type(failure).__name__}: {failure}"[:500]
    return Sent(status_code, error, int((time.perf_counter() - started) * 1000))


def retry_delay(schedule: list[float], attempt: int) -> timedelta | None:
    """Delay before the retry that follows `attempt` (1-based), or None when out of retries."""
    if attempt > len(schedule):
        return None
    return timedelta(seconds=schedule[attempt - 1] * random.uniform(0.8, 1.2))


@handler(event_log.DELIVER_JOB)
async def deliver(context: JobContext, job: Row) -> None:
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
        context, row["secret"], row["previous_secret"], row["previous_secret_expires_at"]
    )
    body = FORMATS[row["payload_format"]](
        row["event_id"], row["type"], row["event_created_at"], row["data"]
    )
    attempt = row["attempts"] + 1
    sent = await post_signed(
        context,
        row["url"],
        secrets,
        row["event_id"],
        body,
        timeout_seconds=row["timeout_seconds"],
        subscription_id=row["subscription_id"],
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
    if delay is not None:
        raise Retry(delay, error or "")


async def _settle(
    context: JobContext,
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
    conn: Connection, context: JobContext, organization_id: str, row: Row, *, failed: bool
) -> None:
    """Keep the subscription's health (failures in a row, last attempt and success) and
    disable it once it has failed for the configured days."""
    params = {"org": organization_id, "sub": row["subscription_id"], "now": utcnow()}
    if not failed:
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

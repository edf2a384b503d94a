"""Status callbacks: a URL given with one request (a brand or campaign submission, a number
link) that is told of each later status change of that object, as vendors like Plivo offer.

A callback is kept per object (the latest request's URL wins). `emit` calls `notify` for the
event types that are status changes: the event joins the object's queue of messages to send,
in the transaction of the change. One job at a time sends an object's queue, oldest first
(workflows/callbacks.py: signed with the organization's callback secret, retried on the webhook
schedule), so a receiver never hears PROCESSING after COMPLETED. The messages travel in the
queue, so the events' retention does not bound them."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from msgprofiles.core.outbound import check_url
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, prepare
from msgprofiles.jobs.runner import enqueue
from msgprofiles.webhooks.formats import FORMATS, iso
from msgprofiles.webhooks.models import status_callbacks

SEND_JOB = "status_callback.send"

STATUS_CHANGES: set[str] = set()
"""The event types a status callback is told of (domains add theirs)."""

_t = status_callbacks
_this = (_t.c.organization_id == bindparam("org")) & (_t.c.object_id == bindparam("obj"))
# Locked: a change and the sender of the object's queue take their turns.
_get = prepare(select(_t).where(_this).with_for_update())
_insert = prepare(insert(_t))
_update = prepare(
    update(_t)
    .where(_this)
    .values(
        url=bindparam("url"),
        payload_format=bindparam("fmt"),
        format_options=bindparam("options"),
        updated_at=bindparam("now"),
    )
)
_set_pending = prepare(update(_t).where(_this).values(pending=bindparam("pending")))
_delete = prepare(delete(_t).where(_this))


def tells_callbacks(*event_types: str) -> None:
    """Mark event types as status changes of their object (`data.id`)."""
    STATUS_CHANGES.update(event_types)


@dataclass(frozen=True, slots=True)
class Callback:
    """A checked callback URL (`checked`), the format its POSTs take, and what that format
    needs to know beyond the event (e.g. the campaign a number was linked to)."""

    url: str
    payload_format: str
    options: Mapping[str, Any] | None = None


async def checked(
    url: str,
    allow_private: bool,
    payload_format: str = "standard",
    options: Mapping[str, Any] | None = None,
) -> Callback:
    """A callback URL refused as a webhook URL is refused (SSRF): the routes check it before
    the service changes anything."""
    assert payload_format in FORMATS, payload_format
    await check_url(url, allow_private)
    return Callback(url, payload_format, options)


async def register(
    conn: Connection, organization_id: str, object_id: str, callback: Callback
) -> None:
    """Send the object's status changes to the callback from now on (messages still queued
    go there too), in the caller's transaction."""
    now = utcnow()
    options = dict(callback.options) if callback.options else None
    params = {
        "org": organization_id,
        "obj": object_id,
        "url": callback.url,
        "fmt": callback.payload_format,
        "options": options,
        "now": now,
    }
    if not await conn.execute(_update, params):
        await conn.execute(
            _insert,
            {
                "organization_id": organization_id,
                "object_id": object_id,
                "url": callback.url,
                "payload_format": callback.payload_format,
                "format_options": options,
                "pending": [],
                "created_at": now,
                "updated_at": now,
            },
        )


async def forget(conn: Connection, organization_id: str, object_id: str) -> None:
    """The object's status changes go to no callback any more (a later request named none);
    what was queued for the earlier one is dropped with it."""
    await conn.execute(_delete, {"org": organization_id, "obj": object_id})


async def notify(
    conn: Connection,
    organization_id: str,
    event_id: str,
    event_type: str,
    data: Mapping[str, Any],
    created_at: datetime,
) -> None:
    """Queue the event for the object's callback, if a request named one; the first message
    of an empty queue starts its sender."""
    object_id = data.get("id")
    if not isinstance(object_id, str):
        return
    params = {"org": organization_id, "obj": object_id}
    callback = await conn.fetch_one(_get, params)
    if callback is None:
        return
    message = {"id": event_id, "type": event_type, "created_at": iso(created_at), "data": data}
    pending = [*(callback["pending"] or []), message]
    await conn.execute(_set_pending, {**params, "pending": pending})
    if len(pending) == 1:
        await enqueue(conn, organization_id, SEND_JOB, {"object_id": object_id})


@dataclass(frozen=True, slots=True)
class Due:
    """The oldest message of an object's queue, and where it goes."""

    url: str
    payload_format: str
    options: Mapping[str, Any] | None
    message: Mapping[str, Any]


async def next_due(conn: Connection, organization_id: str, object_id: str) -> Due | None:
    """The message to send next for the object (None: nothing queued, or no callback)."""
    callback = await conn.fetch_one(_get, {"org": organization_id, "obj": object_id})
    if callback is None or not callback["pending"]:
        return None
    return Due(
        callback["url"],
        callback["payload_format"],
        callback["format_options"],
        callback["pending"][0],
    )


async def sent(conn: Connection, organization_id: str, object_id: str, message_id: str) -> None:
    """The oldest message went (or was given up on): take it off the queue and, in the same
    transaction, start sending the next one."""
    params = {"org": organization_id, "obj": object_id}
    async with conn.transaction():
        callback = await conn.fetch_one(_get, params)
        if callback is None or not callback["pending"]:
            return
        pending = list(callback["pending"])
        if pending[0]["id"] != message_id:
            return  # already taken off by another run of the job
        del pending[0]
        await conn.execute(_set_pending, {**params, "pending": pending})
        if pending:
            await enqueue(conn, organization_id, SEND_JOB, {"object_id": object_id})

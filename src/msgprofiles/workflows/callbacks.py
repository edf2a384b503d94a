"""Sending status callbacks (webhooks/callbacks.py queues them, per object): the oldest
message of an object's queue in the format the request's dialect asked for, signed with the
organization's callback secret (as completion callbacks are), POSTed through `core.outbound`
and retried on the webhook schedule; then the next one."""

import time
from datetime import datetime

from msgprofiles.core.logging import logger
from msgprofiles.core.outbound import post_signed, retry_delay
from msgprofiles.db.database import Row
from msgprofiles.jobs.runner import Retry, handler
from msgprofiles.organizations.service import callback_signing_secrets
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import callbacks
from msgprofiles.webhooks.formats import FORMATS, Message


@handler(callbacks.SEND_JOB)
async def send(context: Runtime, job: Row) -> None:
    org, object_id = job["organization_id"], job["payload"]["object_id"]
    async with context.database.connect() as conn:
        due = await callbacks.next_due(conn, org, object_id)
        if due is None:
            return
        secrets = await callback_signing_secrets(conn, org, context.secrets)
    queued = due.message
    message = Message(
        queued["id"],
        queued["type"],
        datetime.fromisoformat(queued["created_at"]),
        queued["data"],
        options=due.options,
    )
    body, headers = FORMATS[due.payload_format](message, secrets, int(time.time()))
    settings = context.settings
    outcome = await post_signed(
        context.http,
        due.url,
        body,
        headers,
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_private=settings.allow_private_webhooks,
    )
    if outcome.error is not None:
        delay = retry_delay(settings.webhook_retry_schedule, job["attempts"])
        if delay is not None:
            raise Retry(delay, outcome.error)
        # Out of retries: the message is given up, so that the ones after it still go.
        logger.warning(
            "status_callback_failed",
            object_id=object_id,
            event_id=queued["id"],
            error=outcome.error,
        )
    async with context.database.connect() as conn:
        await callbacks.sent(conn, org, object_id, queued["id"])

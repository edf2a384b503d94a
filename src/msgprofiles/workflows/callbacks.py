"""Sending a status callback (webhooks/callbacks.py queues them): the event in the format the
request's dialect asked for, signed with the organization's callback secret (as completion
callbacks are), POSTed through `core.outbound` and retried on the webhook schedule."""

import time
from datetime import datetime

from msgprofiles.core.outbound import post_signed, retry_delay, signing_secrets
from msgprofiles.db.database import Row
from msgprofiles.jobs.runner import Retry, handler
from msgprofiles.organizations.service import callback_secrets, ensure_callback_secret
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import callbacks
from msgprofiles.webhooks.formats import FORMATS, Message


@handler(callbacks.SEND_JOB)
async def send(context: Runtime, job: Row) -> None:
    org, payload = job["organization_id"], job["payload"]
    async with context.database.connect() as conn:
        stored = await callback_secrets(conn, org)
        if stored is None or stored["callback_secret"] is None:
            async with conn.transaction():
                await ensure_callback_secret(conn, org, context.secrets)
            stored = await callback_secrets(conn, org)
    assert stored is not None
    secrets = signing_secrets(
        context.secrets,
        stored["callback_secret"],
        stored["previous_callback_secret"],
        stored["previous_callback_secret_expires_at"],
    )
    sent_message = payload["message"]
    message = Message(
        sent_message["id"],
        sent_message["type"],
        datetime.fromisoformat(sent_message["created_at"]),
        sent_message["data"],
        options=payload["options"],
    )
    body, headers = FORMATS[payload["format"]](message, secrets, int(time.time()))
    settings = context.settings
    sent = await post_signed(
        context.http,
        payload["url"],
        body,
        headers,
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_private=settings.allow_private_webhooks,
    )
    if sent.error is not None:
        delay = retry_delay(settings.webhook_retry_schedule, job["attempts"])
        if delay is None:  # the job ends failed, with the last error
            raise CallbackFailed(f"{payload['url']}: {sent.error}")
        raise Retry(delay, sent.error)


class CallbackFailed(Exception):
    """Every attempt of a status callback failed."""

"""Signed HTTP POSTs to URLs our callers give us: webhook deliveries, completion callbacks and
every later per-object callback go out through `post_signed`, with one SSRF check, one timeout
and one retry schedule.

A 2xx is success; anything else, or no answer within the timeout, is a failure the caller
retries on `retry_delay` (the operator's `webhook_retry_schedule`, ±20 % jitter). Redirects are
never followed: a receiver cannot bounce a signed request onward."""

import asyncio
import ipaddress
import random
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from msgprofiles.core.crypto import SecretBox
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.time import utcnow

USER_AGENT = "msgprofiles-webhooks/1"


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


def signing_secrets(
    box: SecretBox, secret: str, previous: str | None, previous_expires_at: datetime | None
) -> list[str]:
    """The stored (encrypted) secrets to sign with, decrypted: the current one, and the
    previous one during its grace period."""
    secrets = [box.decrypt(secret)]
    if previous and previous_expires_at and previous_expires_at > utcnow():
        secrets.append(box.decrypt(previous))
    return secrets


def standard_signature(
    secrets: list[str], message_id: str, timestamp: int, body: str
) -> dict[str, str]:
    """Standard Webhooks headers: `webhook-id`, `webhook-timestamp` and one `v1,…` signature
    per secret in `webhook-signature`."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


@dataclass(frozen=True)
class Sent:
    status_code: int | None
    error: str | None  # None: delivered (2xx)
    latency_ms: int


async def post_signed(
    http: httpx.AsyncClient,
    url: str,
    body: str,
    headers: Mapping[str, str],
    *,
    timeout_seconds: float,
    allow_private: bool,
) -> Sent:
    """POST `body` with its signature `headers` to `url`; never raises. The URL is checked
    again at send time: its name may resolve elsewhere than when it was saved."""
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        await check_url(url, allow_private)
        response = await http.post(
            url,
            content=body,
            headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
            timeout=timeout_seconds,
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

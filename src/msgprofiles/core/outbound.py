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
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from standardwebhooks import Webhook

from msgprofiles.core.crypto import SecretBox
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.time import utcnow

USER_AGENT = "msgprofiles-webhooks/1"


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, 6to4, NAT64, Teredo): a
    request to it reaches them."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64:
        carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in carried if address is not None]


def is_allowed(address: str) -> bool:
    """Only globally routable addresses, judged with what they wrap: no private, loopback,
    link-local, shared (100.64.0.0/10, cloud metadata) or reserved space, however spelled."""
    ip = ipaddress.ip_address(address.partition("%")[0])  # an IPv6 zone names an interface
    return all(
        candidate.is_global and not candidate.is_multicast for candidate in (ip, *_embedded(ip))
    )


async def _getaddrinfo(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (the outside world: tests stand a resolver in)."""
    try:
        return [str(ipaddress.ip_address(host))]  # an address already: no resolver thread
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Target:
    """A URL resolved once and judged: where to connect, and how to name the host there."""

    url: str  # the URL with the checked address in place of the host name
    host_header: str
    server_name: str | None  # for TLS: the certificate is checked against the URL's name


async def resolve(url: str, allow_private: bool) -> Target:
    """Resolve the URL's host once and refuse it if any address it has is not allowed (SSRF),
    unless the operator allows private targets. The request then goes to the address that was
    checked, so a name that answers differently the next time (DNS rebinding) gains nothing."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError(ErrorCode.webhook_url_not_allowed, "Webhook URLs must be http(s).")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await _getaddrinfo(host, port)
    except OSError as error:
        raise DomainError(
            ErrorCode.webhook_url_not_allowed, f"The host {host!r} does not resolve."
        ) from error
    if not addresses:
        raise DomainError(ErrorCode.webhook_url_not_allowed, f"The host {host!r} has no address.")
    if not allow_private and not all(is_allowed(address) for address in addresses):
        raise DomainError(
            ErrorCode.webhook_url_not_allowed,
            "Webhook URLs may only point at public addresses (not private, loopback, "
            "link-local or shared ones).",
        )
    address = addresses[0]
    userinfo, at, host_and_port = parts.netloc.rpartition("@")
    literal = f"[{address}]" if ":" in address else address
    netloc = userinfo + at + (f"{literal}:{parts.port}" if parts.port else literal)
    return Target(
        url=urlunsplit(parts._replace(netloc=netloc)),
        host_header=host_and_port,
        server_name=host if parts.scheme == "https" else None,
    )


async def check_url(url: str, allow_private: bool) -> None:
    """Refuse URLs that are not http(s), or that point at this network (SSRF), when they are
    saved; `post_signed` checks them again when sending. Where the operator allows private
    targets, a name need not resolve yet."""
    parts = urlsplit(url)
    if allow_private and parts.scheme in ("http", "https") and parts.hostname:
        return
    await resolve(url, allow_private)


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


def http_client() -> aiohttp.ClientSession:
    """The client `post_signed` sends with, one per process: aiohttp, which takes a tenth of
    httpx's CPU per request (measured: 75 against 650 µs; the worker spent 45 % in httpx).
    It keeps no cookies: one receiver's cookie must not reach another tenant's deliveries to
    the same host."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())


_MAX_ANSWER_BYTES = 65536
"""Read of a receiver's answer, so that its connection can be reused; a longer answer closes
it instead."""


async def post_signed(
    http: aiohttp.ClientSession,
    url: str,
    body: str,
    headers: Mapping[str, str],
    *,
    timeout_seconds: float,
    allow_private: bool,
) -> Sent:
    """POST `body` with its signature `headers` to `url`; never raises. The URL is resolved
    and checked again at send time (its name may point elsewhere than when it was saved), and
    the request goes to the address checked."""
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        target = await resolve(url, allow_private)
        async with http.post(
            target.url,
            data=body.encode(),
            headers={
                **headers,
                "host": target.host_header,
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            },
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            allow_redirects=False,
            server_hostname=target.server_name,
        ) as response:
            status_code = response.status
            await response.content.read(_MAX_ANSWER_BYTES)
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

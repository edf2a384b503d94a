"""Kirimdev's webhook format (spec §7.2): the Standard Webhooks body `{id, type, created_at,
data}` with `X-Kirim-Event` and `X-Kirim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
`<t>.<raw body>`, keyed with the UTF-8 bytes of the secret string exactly as it was shown
(prefix included), one `v1=` per valid secret during a rotation; the Standard Webhooks
headers as well."""

import hashlib
import hmac

from msgprofiles.webhooks.formats import Message, register_format, standard

NAME = "kirimdev"


def kirim_signature(secrets: list[str], timestamp: int, body: str) -> str:
    signed = f"{timestamp}.{body}".encode()
    values = [
        "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets
    ]
    return ",".join([f"t={timestamp}", *values])


def render(message: Message, secrets: list[str], timestamp: int) -> tuple[str, dict[str, str]]:
    body, headers = standard(message, secrets, timestamp)
    headers |= {
        "x-kirim-event": message.type,
        "x-kirim-signature": kirim_signature(secrets, timestamp, body),
    }
    return body, headers


register_format(NAME, render)

"""Encryption at rest for secrets the service must use again (webhook signing secrets).

Secrets shown once and only checked later (API keys) are hashed instead, never encrypted."""

import base64
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open_recent(self, token: str, max_age_seconds: int) -> str | None:
        """What `encrypt` sealed at most `max_age_seconds` ago; None if it is older, or was
        not sealed with this key, or was changed (a session cookie)."""
        try:
            return self._fernet.decrypt(token.encode(), ttl=max_age_seconds).decode()
        except (InvalidToken, ValueError):
            return None

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise RuntimeError(
                "a stored secret cannot be decrypted: MSGPROFILES_SECRET_KEY differs from the "
                "key it was encrypted with"
            ) from error


def load_secret_box(secret_key: str | None, data_dir: Path) -> SecretBox:
    """The configured key, or one generated once into `data_dir/secret.key` (mode 0600)."""
    if secret_key:
        return SecretBox(secret_key)
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key())
    return SecretBox(path.read_bytes().strip())

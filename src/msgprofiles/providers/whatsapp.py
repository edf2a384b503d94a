"""WhatsApp (Meta's Cloud API): the phone numbers of a WhatsApp Business Account."""

import asyncio
from dataclasses import dataclass
from typing import Protocol


class WhatsAppRefused(Exception):
    pass


class WhatsApp(Protocol):
    async def register_phone(self, waba_id: str, phone_number_id: str | None) -> None:
        """Register the account's phone for sending; WhatsAppRefused when Meta will not.
        Registering twice is harmless."""
        ...


SANDBOX_BANNED_WABA = "waba-sandbox-banned"


@dataclass
class SandboxWhatsApp:
    """Registers every account but SANDBOX_BANNED_WABA, which it refuses."""

    latency: float = 0.0

    async def register_phone(self, waba_id: str, phone_number_id: str | None) -> None:
        await asyncio.sleep(self.latency)
        if waba_id == SANDBOX_BANNED_WABA:
            raise WhatsAppRefused("Meta has restricted this WhatsApp Business Account.")

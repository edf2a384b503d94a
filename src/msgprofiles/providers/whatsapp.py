"""WhatsApp (Meta's Cloud API): the phone numbers of a WhatsApp Business Account."""

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class WhatsAppRefused(Exception):
    pass


@dataclass(frozen=True)
class Signup:
    """What Embedded Signup hands back: the business's account and its phone number."""

    waba_id: str
    phone_number_id: str
    phone_number: str | None
    name: str | None


class WhatsApp(Protocol):
    async def register_phone(self, waba_id: str, phone_number_id: str | None) -> None:
        """Register the account's phone for sending; WhatsAppRefused when Meta will not.
        Registering twice is harmless."""
        ...

    async def complete_signup(self, reference: str, fields: Mapping[str, str]) -> Signup:
        """Finish an Embedded Signup: in production `fields` carry the authorization code
        Meta's popup returned, exchanged here for the account and phone number ids; the
        sandbox takes them from its form. WhatsAppRefused when the signup fails."""
        ...


SANDBOX_BANNED_WABA = "waba-sandbox-banned"
SANDBOX_REFUSED_PHONE_NUMBER_ID = "000000"


@dataclass
class SandboxWhatsApp:
    """Registers every account but SANDBOX_BANNED_WABA, which it refuses."""

    latency: float = 0.0

    async def register_phone(self, waba_id: str, phone_number_id: str | None) -> None:
        await asyncio.sleep(self.latency)
        if waba_id == SANDBOX_BANNED_WABA:
            raise WhatsAppRefused("Meta has restricted this WhatsApp Business Account.")

    async def complete_signup(self, reference: str, fields: Mapping[str, str]) -> Signup:
        """The form's `phone_number`, `phone_number_id` and `name`, each invented from
        `reference` when left out (the same reference, the same account); the phone number
        id SANDBOX_REFUSED_PHONE_NUMBER_ID is refused, as a cancelled signup would be."""
        digits = str(int(hashlib.sha256(reference.encode()).hexdigest(), 16))
        phone_number_id = fields.get("phone_number_id") or digits[:15]
        if phone_number_id == SANDBOX_REFUSED_PHONE_NUMBER_ID:
            raise WhatsAppRefused("The signup was cancelled before it finished.")
        return Signup(
            waba_id=f"sandbox-waba-{digits[15:27]}",
            phone_number_id=phone_number_id,
            phone_number=fields.get("phone_number") or f"+1555{digits[27:34]}",
            name=fields.get("name") or None,
        )

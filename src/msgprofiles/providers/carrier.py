"""The carrier (messaging network) a profile's numbers are connected to for sending."""

import asyncio
from dataclasses import dataclass
from typing import Protocol


class ConnectionRefused(Exception):
    pass


class Carrier(Protocol):
    async def connect_number(self, number: str, tcr_campaign_id: str | None) -> None:
        """Route the number's traffic for the profile (under its 10DLC campaign, if any);
        ConnectionRefused when the carrier will not. Connecting twice is harmless."""
        ...


SANDBOX_REFUSED_NUMBER = "+15005550001"
SANDBOX_UNAVAILABLE_NUMBER = "+15005550002"


@dataclass
class SandboxCarrier:
    """Connects every number but SANDBOX_REFUSED_NUMBER, which it refuses, and
    SANDBOX_UNAVAILABLE_NUMBER, for which the carrier never answers (an outage)."""

    latency: float = 0.0

    async def connect_number(self, number: str, tcr_campaign_id: str | None) -> None:
        await asyncio.sleep(self.latency)
        if number == SANDBOX_UNAVAILABLE_NUMBER:
            raise ConnectionError("The carrier's API is unreachable.")
        if number == SANDBOX_REFUSED_NUMBER:
            raise ConnectionRefused(f"The carrier refused to connect {number}.")

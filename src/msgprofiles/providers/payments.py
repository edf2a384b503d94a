"""Payment processor: turns card details into a reusable token. Card data passes through
memory on its way here and is never stored or logged by msgprofiles."""

import secrets
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Card:
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    postal_code: str = field(repr=False)


@dataclass(frozen=True)
class PaymentMethod:
    token: str
    brand: str
    last4: str


class PaymentDeclined(Exception):
    pass


class PaymentProcessor(Protocol):
    async def tokenize(self, card: Card) -> PaymentMethod:
        """A token for the card, or PaymentDeclined."""
        ...


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


SANDBOX_DECLINED = "4000000000000002"


class SandboxPaymentProcessor:
    """Accepts every valid card but SANDBOX_DECLINED, which it declines."""

    async def tokenize(self, card: Card) -> PaymentMethod:
        if card.number == SANDBOX_DECLINED:
            raise PaymentDeclined("The card was declined.")
        return PaymentMethod(
            token=f"pm_sandbox_{secrets.token_hex(12)}",
            brand=card_brand(card.number),
            last4=card.number[-4:],
        )

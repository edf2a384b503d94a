"""The outside world behind small interfaces, each with a deterministic sandbox that tests,
`sandbox: true` requests and the default configuration use."""

from dataclasses import dataclass, field

from msgprofiles.providers.carrier import Carrier, SandboxCarrier
from msgprofiles.providers.payments import PaymentProcessor, SandboxPaymentProcessor
from msgprofiles.providers.tcr import SandboxTcrRegistry, TcrRegistry
from msgprofiles.providers.whatsapp import SandboxWhatsApp, WhatsApp


@dataclass(frozen=True)
class Providers:
    payments: PaymentProcessor = field(default_factory=SandboxPaymentProcessor)
    tcr: TcrRegistry = field(default_factory=SandboxTcrRegistry)
    carrier: Carrier = field(default_factory=SandboxCarrier)
    whatsapp: WhatsApp = field(default_factory=SandboxWhatsApp)

    @classmethod
    def sandboxes(cls, latency: float = 0.0) -> "Providers":
        """Every sandbox, answering after `latency` seconds (background calls only)."""
        return cls(
            tcr=SandboxTcrRegistry(latency),
            carrier=SandboxCarrier(latency),
            whatsapp=SandboxWhatsApp(latency),
        )

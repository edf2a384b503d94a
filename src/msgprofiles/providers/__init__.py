"""The outside world behind small interfaces, each with a deterministic sandbox that tests,
`sandbox: true` requests and the default configuration use."""

from dataclasses import dataclass, field

from msgprofiles.providers.payments import PaymentProcessor, SandboxPaymentProcessor
from msgprofiles.providers.tcr import SandboxTcrRegistry, TcrRegistry


@dataclass(frozen=True)
class Providers:
    payments: PaymentProcessor = field(default_factory=SandboxPaymentProcessor)
    tcr: TcrRegistry = field(default_factory=SandboxTcrRegistry)

"""The Campaign Registry (TCR), where US 10DLC brands and their campaigns are registered."""

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Literal, Protocol

IdentityStatus = Literal["SELF_DECLARED", "UNVERIFIED", "VERIFIED", "VETTED_VERIFIED"]


@dataclass(frozen=True)
class BrandSubmission:
    brand_id: str
    entity_type: str
    legal_name: str
    tax_id: str | None
    country: str


@dataclass(frozen=True)
class BrandRegistration:
    tcr_brand_id: str
    identity_status: IdentityStatus


@dataclass(frozen=True)
class CampaignSubmission:
    campaign_id: str
    tcr_brand_id: str
    description: str
    use_cases: tuple[str, ...]


class RegistrationRejected(Exception):
    pass


class TcrRegistry(Protocol):
    async def register_brand(self, brand: BrandSubmission) -> BrandRegistration:
        """Register a brand; RegistrationRejected when the registry refuses it."""
        ...

    async def register_campaign(self, campaign: CampaignSubmission) -> str:
        """Register a campaign of a registered brand and return its TCR campaign id;
        RegistrationRejected when the campaign is refused in review."""
        ...


SANDBOX_UNVERIFIED_TAX_ID = "000000000"
SANDBOX_REJECTED_TAX_ID = "999999999"
SANDBOX_REJECTED_CAMPAIGN = "SANDBOX-REJECT"


def _sandbox_id(prefix: str, of: str) -> str:
    return prefix + hashlib.sha256(of.encode()).hexdigest()[:6].upper()


@dataclass
class SandboxTcrRegistry:
    """Deterministic outcomes: an INDIVIDUAL brand is SELF_DECLARED; tax id 000000000 is
    UNVERIFIED; tax id 999999999 is rejected; any other brand is VERIFIED. A campaign whose
    description contains SANDBOX-REJECT is rejected; others are approved. TCR ids derive from
    our ids, so a retried registration gets the same one. `latency` (seconds) imitates the
    registry's response time."""

    latency: float = 0.0

    async def register_brand(self, brand: BrandSubmission) -> BrandRegistration:
        await asyncio.sleep(self.latency)
        if brand.tax_id == SANDBOX_REJECTED_TAX_ID:
            raise RegistrationRejected("The registry could not match this tax id.")
        tcr_brand_id = _sandbox_id("B", brand.brand_id)
        if brand.entity_type == "INDIVIDUAL":
            return BrandRegistration(tcr_brand_id, "SELF_DECLARED")
        if brand.tax_id == SANDBOX_UNVERIFIED_TAX_ID:
            return BrandRegistration(tcr_brand_id, "UNVERIFIED")
        return BrandRegistration(tcr_brand_id, "VERIFIED")

    async def register_campaign(self, campaign: CampaignSubmission) -> str:
        await asyncio.sleep(self.latency)
        if SANDBOX_REJECTED_CAMPAIGN in campaign.description:
            raise RegistrationRejected("The campaign's description does not match its use case.")
        return _sandbox_id("C", campaign.campaign_id)

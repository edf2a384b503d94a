"""The Campaign Registry (TCR), where US 10DLC brands are registered."""

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


class RegistrationRejected(Exception):
    pass


class TcrRegistry(Protocol):
    async def register_brand(self, brand: BrandSubmission) -> BrandRegistration:
        """Register a brand; RegistrationRejected when the registry refuses it."""
        ...


SANDBOX_UNVERIFIED_TAX_ID = "000000000"
SANDBOX_REJECTED_TAX_ID = "999999999"


class SandboxTcrRegistry:
    """Deterministic outcomes: an INDIVIDUAL brand is SELF_DECLARED; tax id 000000000 is
    UNVERIFIED; tax id 999999999 is rejected; any other brand is VERIFIED. The TCR brand id
    is derived from the brand id, so a retried registration gets the same one."""

    async def register_brand(self, brand: BrandSubmission) -> BrandRegistration:
        if brand.tax_id == SANDBOX_REJECTED_TAX_ID:
            raise RegistrationRejected("The registry could not match this tax id.")
        tcr_brand_id = "B" + hashlib.sha256(brand.brand_id.encode()).hexdigest()[:6].upper()
        if brand.entity_type == "INDIVIDUAL":
            return BrandRegistration(tcr_brand_id, "SELF_DECLARED")
        if brand.tax_id == SANDBOX_UNVERIFIED_TAX_ID:
            return BrandRegistration(tcr_brand_id, "UNVERIFIED")
        return BrandRegistration(tcr_brand_id, "VERIFIED")

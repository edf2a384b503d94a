"""Who is calling: the `Caller` every service receives, and the role rules routes enforce."""

from dataclasses import dataclass
from typing import Literal

from msgprofiles.core.errors import DomainError, ErrorCode

Role = Literal["admin", "member"]


@dataclass(frozen=True, slots=True)
class Caller:
    organization_id: str
    role: Role
    key_id: str | None = None  # None for the command line acting as the organization
    profile_id: str | None = None  # set for keys scoped to one profile
    is_operator: bool = False

    def reaches(self, profile_id: str | None) -> bool:
        """Whether an object of that profile (None: of the organization) is within this key's
        reach: a profile-scoped key reaches only its own profile's."""
        return self.profile_id is None or self.profile_id == profile_id

    def require_admin(self) -> None:
        if self.role != "admin":
            raise DomainError(ErrorCode.insufficient_role, "This action needs an admin API key.")

    def require_organization_scope(self) -> None:
        """Organization-wide settings and keys are out of reach of profile-scoped keys."""
        if self.profile_id is not None:
            raise DomainError(
                ErrorCode.profile_scope_forbidden,
                "This API key is scoped to one profile; use an organization key.",
            )

    def require_operator(self) -> None:
        if not self.is_operator or self.profile_id is not None:
            raise DomainError(
                ErrorCode.operator_only,
                "Only API keys of the operator organization can manage organizations.",
            )
        self.require_admin()

"""Customer onboarding across domains: a setup link opened → Embedded Signup (the WhatsApp
provider) → a WhatsApp account the customer owns → the link consumed and the customer active.

The link is consumed first, in the same transaction as the account: of two submissions of one
link, the second finds it consumed (PostgreSQL: it waits on the first's row lock) and rolls
back, so one link makes one account."""

from dataclasses import dataclass

from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError
from msgprofiles.core.ids import new_id
from msgprofiles.customers import service as customers
from msgprofiles.customers.service import OpenedLink
from msgprofiles.organizations.service import get_organization
from msgprofiles.providers.whatsapp import WhatsAppRefused
from msgprofiles.runtime import Runtime
from msgprofiles.whatsapp import service as whatsapp


@dataclass(frozen=True)
class Setup:
    """What the hosted page shows for a token: its link (None: no such link), the names,
    and why it cannot be used, if it cannot."""

    link: OpenedLink | None
    organization_name: str = ""
    problem: str | None = None  # link_invalid, link_expired, link_revoked, link_consumed, …


@dataclass(frozen=True)
class Outcome:
    setup: Setup
    account_id: str | None = None
    problem: str | None = None


class _AlreadyConsumed(Exception):
    pass


async def open_setup(runtime: Runtime, token: str) -> Setup:
    async with runtime.database.connect() as conn:
        link = await customers.open_link(conn, token)
        if link is None:
            return Setup(None, problem="link_invalid")
        organization = await get_organization(conn, _caller(link))
    return Setup(link, organization.name, _problem(link))


def _caller(link: OpenedLink) -> Caller:
    """The organization acting on its own customer's behalf (the page has no API key)."""
    return Caller(organization_id=link.organization_id, role="admin")


def _problem(link: OpenedLink) -> str | None:
    if link.status != "active":
        return f"link_{link.status}"
    if link.customer_status == "archived":
        return "customer_archived"
    return None


async def complete_setup(runtime: Runtime, token: str, fields: dict[str, str]) -> Outcome:
    """Finish the signup with the provider and record its account; a refused signup leaves
    the link active, to try again."""
    setup = await open_setup(runtime, token)
    link = setup.link
    if link is None or setup.problem is not None:
        return Outcome(setup, problem=setup.problem)
    try:
        signup = await runtime.providers.whatsapp.complete_signup(link.id, fields)
    except WhatsAppRefused:
        return Outcome(setup, problem="signup_refused")
    caller, account_id = _caller(link), new_id("wa")
    try:
        async with runtime.database.connect() as conn, conn.transaction():
            if not await customers.consume_link(conn, caller, link, account_id):
                raise _AlreadyConsumed
            await whatsapp.connect_account(conn, caller, link.customer_id, signup, account_id)
    except _AlreadyConsumed:
        return Outcome(setup, problem="link_consumed")
    except DomainError:  # the phone number is connected already
        return Outcome(setup, problem="account_taken")
    return Outcome(setup, account_id=account_id)

"""POST /v1/send_checks: the one question before each message, with every reason for a no."""

import pytest
from sqlalchemy import update

from msgprofiles.campaigns.models import campaigns
from msgprofiles.profiles.models import profiles
from msgprofiles.whatsapp.models import whatsapp_accounts
from tests.conftest import Org
from tests.factories import content, make_brand, make_profile, onboarded_account

US, CANADA = "+14155550123", "+16135550123"


async def check(org: Org, key: str | None = None, **body: object) -> dict:
    r = await org.post("/v1/send_checks", body, key=key)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def codes(result: dict) -> list[str]:
    return [reason["code"] for reason in result["reasons"]]


async def sender(org: Org, database, *, ready: bool) -> dict:
    """A profile with its own brand and a campaign; `ready`: completed, campaign approved."""
    brand = await make_brand(org)
    profile = await make_profile(org, brand_id=brand["id"])
    assert (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).status_code == 201
    if ready:
        async with database.connect() as conn, conn.transaction():
            await conn.execute(
                update(profiles).where(profiles.c.id == profile["id"]).values(status="completed")
            )
            await conn.execute(
                update(campaigns)
                .where(campaigns.c.profile_id == profile["id"])
                .values(status="approved")
            )
    return profile


async def test_a_ready_profile_may_send_and_each_obstacle_is_named(org: Org, database):
    profile = await sender(org, database, ready=True)
    allowed = await check(org, profile_id=profile["id"], to=US, channel="sms")
    assert allowed == {"object": "send_check", "allowed": True, "reasons": []}
    assert (await check(org, org.member_key, profile_id=profile["id"], to=US, channel="sms"))[
        "allowed"
    ], "any key may ask"

    await org.patch(
        f"/v1/profiles/{profile['id']}",
        {"messaging": {"enabled": False, "whitelisted_destinations": ["CA"]}},
    )
    refused = await check(org, profile_id=profile["id"], to=US, channel="sms")
    assert refused["allowed"] is False
    assert codes(refused) == ["messaging_disabled", "destination_not_allowed"]
    assert all(reason["message"] for reason in refused["reasons"])
    assert "destination_not_allowed" not in codes(
        await check(org, profile_id=profile["id"], to=CANADA, channel="sms")
    )


async def test_an_unfinished_profile_is_told_what_is_missing(org: Org, database):
    profile = await sender(org, database, ready=False)
    sms = await check(org, profile_id=profile["id"], to=US, channel="sms")
    assert codes(sms) == ["profile_not_completed", "campaign_not_approved"]
    abroad = await check(org, profile_id=profile["id"], to=CANADA, channel="sms")
    assert codes(abroad) == ["profile_not_completed"], "10DLC campaigns are for the US"
    whatsapp = await check(org, profile_id=profile["id"], to=US, channel="whatsapp")
    assert codes(whatsapp) == ["profile_not_completed"]


async def test_a_customers_number_follows_its_customer_and_its_account(org: Org, client, database):
    customer, account = await onboarded_account(org, client)
    ask = {"phone_number_id": account["phone_number_id"], "to": US, "channel": "whatsapp"}
    assert (await check(org, **ask))["allowed"] is True

    await org.patch(f"/v1/customers/{customer['id']}", {"status": "suspended"})
    assert codes(await check(org, **ask)) == ["customer_suspended"]
    await org.patch(f"/v1/customers/{customer['id']}", {"status": "active"})
    async with database.connect() as conn, conn.transaction():
        await conn.execute(
            update(whatsapp_accounts)
            .where(whatsapp_accounts.c.id == account["id"])
            .values(status="disconnected")
        )
    assert codes(await check(org, **ask)) == ["account_disconnected"]
    await org.delete(f"/v1/customers/{customer['id']}")
    archived = await check(org, **ask)
    assert codes(archived) == ["customer_suspended", "account_disconnected"]
    assert "archived" in archived["reasons"][0]["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"to": US, "channel": "sms"}, 400),
        ({"profile_id": "prof_x", "to": "4155550123", "channel": "sms"}, 400),
        ({"profile_id": "prof_x", "to": US, "channel": "fax"}, 400),
        ({"profile_id": "prof_01JNOSUCHPROFILE0000000000", "to": US, "channel": "sms"}, 404),
        ({"phone_number_id": "123456789", "to": US, "channel": "whatsapp"}, 404),
    ],
)
async def test_unusable_questions_are_refused(org: Org, body: dict, status: int):
    assert (await org.post("/v1/send_checks", body)).status_code == status


async def test_another_tenants_senders_are_not_found(org: Org, other_org: Org, client, database):
    profile = await sender(org, database, ready=True)
    _, account = await onboarded_account(org, client)
    for body in (
        {"profile_id": profile["id"], "to": US, "channel": "sms"},
        {"phone_number_id": account["phone_number_id"], "to": US, "channel": "whatsapp"},
    ):
        assert (await other_org.post("/v1/send_checks", body)).status_code == 404


async def test_a_contact_that_opted_out_is_not_sent_to(org: Org, database):
    profile = await sender(org, database, ready=True)
    r = await org.post("/v1/contacts", {"name": "Quiet", "msisdn": US})
    contact = r.json()["data"]
    stop = {"status": "opted_out", "source": "inbound_keyword"}
    await org.client.put(
        f"/v1/contacts/{contact['id']}/consent/sms", json=stop, headers=org.headers()
    )
    refused = await check(org, profile_id=profile["id"], to=US, channel="sms")
    assert codes(refused) == ["contact_opted_out"]
    whatsapp = await check(org, profile_id=profile["id"], to=US, channel="whatsapp")
    assert whatsapp["allowed"] is True, "the opt-out is for SMS only"
    others = await check(org, profile_id=profile["id"], to="+14155550999", channel="sms")
    assert others["allowed"] is True, "only that contact's number"


async def test_a_daily_spend_limit_refuses_once_reached(org: Org, database):
    profile = await sender(org, database, ready=True)
    ask = {"profile_id": profile["id"], "to": US, "channel": "sms"}
    assert (await check(org, **ask, spent_today="500.00"))["allowed"], "no limit set"
    limited = await org.patch(
        f"/v1/profiles/{profile['id']}",
        {"messaging": {"daily_spend_limit": "25.50", "daily_spend_limit_enabled": True}},
    )
    assert limited.status_code == 200, limited.text
    assert (await check(org, **ask, spent_today="25.49"))["allowed"]
    assert codes(await check(org, **ask, spent_today="25.50")) == ["daily_spend_limit_reached"]
    assert (await check(org, **ask))["allowed"], "without the day's spend nothing is refused"
    await org.patch(
        f"/v1/profiles/{profile['id']}", {"messaging": {"daily_spend_limit_enabled": False}}
    )
    assert (await check(org, **ask, spent_today="99.00"))["allowed"], "a limit turned off"
    bad = await org.post("/v1/send_checks", {**ask, "spent_today": "lots"})
    assert bad.status_code == 400 and "spent_today" in bad.text

"""WhatsApp: a profile's own credentials, or its organization's account; the seed's 422."""

from sqlalchemy import select

from msgprofiles.organizations.models import organizations
from msgprofiles.profiles.models import profiles
from tests.conftest import WHATSAPP, create_org

OWN = {"waba_id": "waba-own", "phone_number_id": "pn-own", "access_token": "EAAG-own-secret"}


async def test_without_credentials_a_profile_inherits_the_organizations_account(
    client, operator_key
):
    org = await create_org(client, operator_key)
    shown = (await org.get("/v1/organization")).json()["data"]["whatsapp_business_account"]
    assert shown == {"waba_id": WHATSAPP["waba_id"], "phone_number_id": "pn-test"}
    r = await org.post("/v1/profiles", {"name": "Inherits"})
    assert r.status_code == 201
    data = r.json()["data"]
    assert (data["waba_id"], data["whatsapp_phone_number_id"], data["whatsapp_inherited"]) == (
        "waba-test",
        "pn-test",
        True,
    )


async def test_own_credentials_are_kept_encrypted_and_never_shown(client, operator_key, database):
    org = await create_org(client, operator_key, whatsapp=False)
    r = await org.post("/v1/profiles", {"name": "Own", "whatsapp_business_account": OWN})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert (data["waba_id"], data["whatsapp_inherited"]) == ("waba-own", False)
    assert OWN["access_token"] not in r.text
    assert OWN["access_token"] not in (await org.get(f"/v1/profiles/{data['id']}")).text
    async with database.connect() as conn:
        token = await conn.fetch_value(
            select(profiles.c.whatsapp_access_token).where(profiles.c.id == data["id"])
        )
        stored_org = await conn.fetch_value(
            select(organizations.c.whatsapp_business_account).where(organizations.c.id == org.id)
        )
    assert token and OWN["access_token"] not in token
    assert stored_org is None


async def test_without_an_account_to_inherit_a_profile_is_sms_only(client, operator_key):
    org = await create_org(client, operator_key, whatsapp=False)
    r = await org.post("/v1/profiles", {"name": "Texts"})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert (data["waba_id"], data["whatsapp_phone_number_id"]) == (None, None)
    assert data["whatsapp_inherited"] is False
    await org.patch("/v1/organization", {"whatsapp_business_account": WHATSAPP})
    later = (await org.post("/v1/profiles", {"name": "Now"})).json()["data"]
    assert (later["waba_id"], later["whatsapp_inherited"]) == ("waba-test", True)


async def test_sentdm_profiles_still_need_a_whatsapp_account(client, operator_key):
    """Sent.dm's profiles always have the WhatsApp channel: its dialect keeps the 422."""
    org = await create_org(client, operator_key, whatsapp=False)
    r = await client.post(
        "/dialects/sentdm/v3/profiles", json={"name": "Nowhere"}, headers=org.headers()
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "BUSINESS_104"
    assert [p["name"] for p in (await org.get("/v1/profiles")).json()["data"]] == ["Acme"]


async def test_the_organizations_token_is_encrypted_and_never_shown(client, operator_key, database):
    org = await create_org(client, operator_key)
    body = (await org.get("/v1/organization")).text
    assert WHATSAPP["access_token"] not in body
    async with database.connect() as conn:
        stored = await conn.fetch_value(
            select(organizations.c.whatsapp_business_account).where(organizations.c.id == org.id)
        )
    assert stored["waba_id"] == "waba-test"
    assert WHATSAPP["access_token"] not in stored["access_token"]
    cleared = await org.patch("/v1/organization", {"whatsapp_business_account": None})
    assert cleared.json()["data"]["whatsapp_business_account"] is None

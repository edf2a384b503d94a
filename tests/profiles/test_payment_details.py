"""Card details are handed to the payment processor and kept nowhere."""

from pathlib import Path

import pytest
from sqlalchemy import text

from msgprofiles.db.metadata import metadata
from tests.conftest import Org

CARD = "4242424242424242"
CONTACT = {"name": "Billing", "email": "billing@example.com"}


def card(number: str = CARD, expiry: str = "12/39", cvc: str = "123") -> dict:
    return {"card_number": number, "expiry": expiry, "cvc": cvc, "zip_code": "94107"}


async def everything_stored(database) -> str:
    """Every byte the database holds for us, as text."""
    url = database.url
    if url.get_backend_name() == "sqlite":
        files = [Path(url.database), Path(url.database + "-wal")]
        return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    parts = []
    async with database.connect() as conn:
        for table in metadata.sorted_tables:
            rows = await conn.fetch_all(
                text(f"SELECT row_to_json(t)::text AS r FROM {table.name} t")
            )
            parts += [r["r"] for r in rows]
    return "\n".join(parts)


async def test_a_card_becomes_a_token_and_is_kept_nowhere(org: Org, database, capsys):
    r = await org.post(
        "/v1/profiles",
        {
            "name": "Billed",
            "billing_model": "profile",
            "billing_contact": CONTACT,
            "payment_details": card(),
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["payment_method"] == {"brand": "visa", "last4": "4242"}
    assert CARD not in r.text and "payment_details" not in r.text
    profile_id = r.json()["data"]["id"]
    updated = await org.patch(
        f"/v1/profiles/{profile_id}", {"payment_details": card("5555555555554444", cvc="9876")}
    )
    assert updated.json()["data"]["payment_method"] == {"brand": "mastercard", "last4": "4444"}
    events = (await org.get("/v1/events", params={"limit": 100})).text
    stored = await everything_stored(database)
    logs = capsys.readouterr().out
    for secret in (CARD, "5555555555554444"):
        assert secret not in stored and secret not in logs and secret not in events
    assert "pm_sandbox_" in stored, "the processor's token is what is kept"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (card("4242424242424241"), "payment_details.card_number"),
        (card("4242"), "payment_details.card_number"),
        (card(expiry="13/30"), "payment_details.expiry"),
        (card(expiry="01/20"), "payment_details.expiry"),
        (card(expiry="2030-01"), "payment_details.expiry"),
        (card(cvc="12"), "payment_details.cvc"),
        ({**card(), "zip_code": "1"}, "payment_details.zip_code"),
    ],
)
async def test_invalid_cards_are_refused_without_echoing_them(org: Org, details, field):
    r = await org.post(
        "/v1/profiles",
        {
            "name": "Billed",
            "billing_model": "profile",
            "billing_contact": CONTACT,
            "payment_details": details,
        },
    )
    assert r.status_code == 400, r.text
    assert any(d["field"] == field for d in r.json()["error"]["details"])
    assert details["card_number"] not in r.text


async def test_cards_need_a_profile_billing_model_and_a_willing_processor(org: Org):
    r = await org.post("/v1/profiles", {"name": "Org billed", "payment_details": card()})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "payment_details"
    declined = await org.post(
        "/v1/profiles",
        {
            "name": "Declined",
            "billing_model": "profile",
            "billing_contact": CONTACT,
            "payment_details": card("4000000000000002"),
        },
    )
    assert declined.status_code == 422
    assert declined.json()["error"]["code"] == "payment_declined"
    names = [p["name"] for p in (await org.get("/v1/profiles")).json()["data"]]
    assert "Declined" not in names and "Org billed" not in names

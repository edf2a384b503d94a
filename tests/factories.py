"""Small factories for the tests: each makes one resource through the API, as a user would,
and returns it as the API shows it."""

import re
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select

from msgprofiles.profiles.models import profiles
from tests.conftest import Org, Receiver


async def make_profile(org: Org, **fields: object) -> dict:
    r = await org.post("/v1/profiles", {"name": "Sales", **fields})
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def count_profiles(database, org: Org) -> int:
    async with database.connect() as conn:
        return await conn.fetch_value(
            select(func.count()).select_from(profiles).where(profiles.c.organization_id == org.id)
        )


def brand_body(**fields: object) -> dict:
    return {
        "alias": "Acme US",
        "customer_type": "DIRECT",
        "entity_type": "PRIVATE",
        "legal_name": "Acme Inc.",
        "vertical": "TECHNOLOGY",
        "tax_id": "12-3456789",
        "website": "https://acme.example.com",
        "address": {
            "street": "1 Main St",
            "city": "Austin",
            "state": "tx",
            "postal_code": "73301",
            "country": "US",
        },
        "authorized_contact": {
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@acme.example.com",
            "title": "Ms.",
            "seniority": "ceo",
            "phone": "+15125550100",
        },
        **fields,
    }


async def make_brand(org: Org, **fields: object) -> dict:
    r = await org.post("/v1/brands", brand_body(**fields))
    assert r.status_code == 201, r.text
    return r.json()["data"]


SAMPLE = "Acme: your order 1234 has shipped. Reply STOP to opt out."


def content(**fields: object) -> dict:
    return {
        "name": "Order updates",
        "description": "Shipping and delivery notifications for orders placed at acme.example.",
        "use_cases": [{"use_case": "DELIVERY_NOTIFICATION", "sample_messages": [SAMPLE]}],
        "message_flow": "Customers tick an opt-in box at checkout on acme.example/checkout.",
        "optout_message": "Acme: you are unsubscribed. Reply STOP again to confirm.",
        **fields,
    }


async def branded_profile(org: Org, **fields: object) -> dict:
    brand = await make_brand(org)
    return await make_profile(org, brand_id=brand["id"], **fields)


async def make_number(org: Org, number: str, type: str = "long_code", **fields: object) -> dict:
    r = await org.post("/v1/numbers", {"number": number, "type": type, **fields})
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def subscribe(org: Org, receiver: Receiver, **fields: object) -> dict:
    r = await org.post("/v1/webhook_subscriptions", {"url": receiver.url, **fields})
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def make_customer(org: Org, **fields: object) -> dict:
    r = await org.post("/v1/customers", {"name": "Bakery Bros", **fields})
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def make_link(org: Org, customer_id: str, **fields: object) -> dict:
    r = await org.post(f"/v1/customers/{customer_id}/setup_links", fields)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def event_types(org: Org) -> list[str]:
    listed = (await org.get("/v1/events", params={"limit": 100})).json()["data"]
    return [e["type"] for e in listed]


# The hosted setup page, as a customer's browser uses it.


def path_of(link: dict) -> str:
    return urlsplit(link["setup_url"]).path


async def open_page(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, str]:
    """The page and its form's CSRF value (its cookie stays in the client)."""
    page = await client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return page, match.group(1) if match else ""


def visitor_of(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client of its own, with its own cookies, like a customer's browser."""
    return httpx.AsyncClient(transport=client._transport, base_url="http://test")


async def onboarded_account(org: Org, client) -> tuple[dict, dict]:
    """A customer that connected a WhatsApp account through its setup link."""
    customer = await make_customer(org)
    link = await make_link(org, customer["id"])
    async with visitor_of(client) as visitor:
        _, csrf = await open_page(visitor, path_of(link))
        assert (await visitor.post(path_of(link), data={"csrf_token": csrf})).status_code == 200
    [account] = (await org.get(f"/v1/customers/{customer['id']}")).json()["data"][
        "whatsapp_accounts"
    ]
    return customer, account

import pytest

from tests.conftest import Org
from tests.factories import brand_body, make_brand


async def events_of(org: Org, event_type: str) -> list[dict]:
    return (await org.get("/v1/events", params={"type": event_type})).json()["data"]


async def test_the_first_brand_is_primary_and_stays(org: Org):
    primary = await make_brand(org)
    secondary = await make_brand(org, alias="Acme CA")
    assert (primary["type"], secondary["type"]) == ("PRIMARY", "SECONDARY")
    r = await org.delete(f"/v1/brands/{primary['id']}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "primary_brand_undeletable"
    assert (await org.delete(f"/v1/brands/{secondary['id']}")).status_code == 200
    assert (await org.get(f"/v1/brands/{secondary['id']}")).status_code == 404
    assert (await make_brand(org, alias="Third"))["type"] == "SECONDARY"


async def test_a_brand_keeps_its_details_normalized(org: Org):
    brand = await make_brand(
        org,
        authorized_contact={
            "first_name": "Bo",
            "last_name": "Kim",
            "email": "bo@acme.example.com",
            "seniority": "admin",
            "phone": "+15125550101",
        },
    )
    assert brand["tax_id"] == "123456789" and brand["address"]["state"] == "TX"
    assert brand["authorized_contact"]["seniority"] == "OTHER", "unknown titles are kept as OTHER"
    assert brand["registration_status"] == "not_submitted" and brand["identity_status"] is None
    assert (await org.get(f"/v1/brands/{brand['id']}")).json()["data"] == brand
    assert (await events_of(org, "brand.created"))[0]["data"]["id"] == brand["id"]
    ceo = await make_brand(org, alias="Second")
    assert ceo["authorized_contact"]["seniority"] == "CEO"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"entity_type": "PUBLIC"}, "stock_symbol"),
        ({"entity_type": "PUBLIC", "stock_symbol": "ACME"}, "stock_exchange"),
        (
            {"entity_type": "PUBLIC", "stock_symbol": "ACME", "stock_exchange": "MOON"},
            "stock_exchange",
        ),
        ({"tax_id": "1234"}, "tax_id"),
        ({"entity_type": "PRIVATE_PROFIT"}, "entity_type"),
        ({"vertical": "SPACE"}, "vertical"),
        ({"customer_type": "AGENCY"}, "customer_type"),
        ({"address": {}}, "address.street"),
        (
            {
                "address": {
                    "street": "1",
                    "city": "A",
                    "state": "ZZ",
                    "postal_code": "73301",
                    "country": "US",
                }
            },
            "address",
        ),
        (
            {
                "authorized_contact": {
                    "first_name": "A",
                    "last_name": "B",
                    "email": "x",
                    "phone": "+15125550100",
                }
            },
            "authorized_contact.email",
        ),
        ({"alt_business_id_type": "SSN"}, "alt_business_id_type"),
        ({"website": "acme"}, "website"),
    ],
)
async def test_invalid_brands_are_refused_and_nothing_is_created(org: Org, fields, field):
    r = await org.post("/v1/brands", brand_body(**fields))
    assert r.status_code == 400, r.text
    assert any(d["field"] == field for d in r.json()["error"]["details"]), r.json()
    assert (await org.get("/v1/brands")).json()["data"] == []


async def test_lenient_cases_a_registry_accepts(org: Org):
    person = await make_brand(org, entity_type="INDIVIDUAL", tax_id=None, legal_name="Ann Lee")
    assert person["tax_id"] is None
    public = await make_brand(
        org, entity_type="PUBLIC", stock_symbol="ACME", stock_exchange="NASDAQ"
    )
    assert public["stock_exchange"] == "NASDAQ"
    foreign = await make_brand(
        org,
        tax_id="AB123",
        tax_id_country="GB",
        address={
            "street": "1 High St",
            "city": "London",
            "state": "LND",
            "postal_code": "EC1A 1BB",
            "country": "GB",
        },
    )
    assert foreign["tax_id"] == "AB123", "only US tax ids are held to the EIN format"


async def test_lists_filter_by_entity_type_vertical_and_type(org: Org):
    await make_brand(org)
    await make_brand(org, alias="NGO", entity_type="NON_PROFIT", vertical="NGO")

    async def listed(**params: str) -> list[str]:
        return [b["alias"] for b in (await org.get("/v1/brands", params=params)).json()["data"]]

    assert await listed(entity_type="NON_PROFIT") == ["NGO"]
    assert await listed(vertical="TECHNOLOGY") == ["Acme US"]
    assert await listed(type="PRIMARY") == ["Acme US"]
    assert await listed(type="SECONDARY") == ["NGO"]
    assert (await org.get("/v1/brands", params={"type": "TERTIARY"})).status_code == 400


async def test_submission_freezes_the_brand_and_tcr_verifies_it(org: Org, worker):

    brand = await make_brand(org)
    r = await org.post(f"/v1/brands/{brand['id']}/submit")
    assert r.status_code == 202 and r.json()["data"]["registration_status"] == "pending"
    assert r.json()["data"]["submitted_at"]
    locked = await org.patch(f"/v1/brands/{brand['id']}", {"legal_name": "Other Inc."})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "brand_locked"
    renamed = await org.patch(f"/v1/brands/{brand['id']}", {"alias": "Acme (TCR)"})
    assert renamed.status_code == 200, "the alias is ours, not the registry's"
    again = await org.post(f"/v1/brands/{brand['id']}/submit")
    assert again.status_code == 409
    assert (await events_of(org, "brand.submitted"))[0]["data"]["id"] == brand["id"]

    await worker.run_until_idle()
    done = (await org.get(f"/v1/brands/{brand['id']}")).json()["data"]
    assert done["registration_status"] == "registered" and done["identity_status"] == "VERIFIED"
    assert done["tcr_brand_id"].startswith("B") and len(done["tcr_brand_id"]) == 7
    assert (await events_of(org, "brand.verified"))[0]["data"]["tcr_brand_id"] == done[
        "tcr_brand_id"
    ]
    still = await org.patch(f"/v1/brands/{brand['id']}", {"vertical": "RETAIL"})
    assert still.status_code == 409, "a registered brand stays frozen"


@pytest.mark.parametrize(
    ("fields", "status", "identity", "event"),
    [
        ({"tax_id": "000000000"}, "registered", "UNVERIFIED", "brand.unverified"),
        (
            {"entity_type": "INDIVIDUAL", "tax_id": None},
            "registered",
            "SELF_DECLARED",
            "brand.verified",
        ),
        ({"tax_id": "999999999"}, "rejected", None, "brand.rejected"),
    ],
)
async def test_the_sandbox_registrys_documented_outcomes(
    org: Org, worker, fields, status, identity, event
):
    brand = await make_brand(org, **fields)
    await org.post(f"/v1/brands/{brand['id']}/submit")
    await worker.run_until_idle()
    done = (await org.get(f"/v1/brands/{brand['id']}")).json()["data"]
    assert (done["registration_status"], done["identity_status"]) == (status, identity)
    assert (await events_of(org, event))[0]["data"]["id"] == brand["id"]
    if status == "rejected":
        assert done["rejection_reason"]
        fixed = await org.patch(f"/v1/brands/{brand['id']}", {"tax_id": "12-3456789"})
        assert fixed.status_code == 200, "a rejected brand can be fixed"
        assert (await org.post(f"/v1/brands/{brand['id']}/submit")).status_code == 202


async def test_a_company_brand_needs_its_tax_id_to_be_submitted(org: Org):
    brand = await make_brand(org, tax_id=None)
    r = await org.post(f"/v1/brands/{brand['id']}/submit")
    assert r.status_code == 422 and r.json()["error"]["code"] == "brand_incomplete"
    assert (await org.get(f"/v1/brands/{brand['id']}")).json()["data"][
        "registration_status"
    ] == "not_submitted"


async def test_brands_are_private_to_their_organization_and_admins_write(org: Org, other_org: Org):
    theirs = await make_brand(other_org)
    for response in (
        await org.get(f"/v1/brands/{theirs['id']}"),
        await org.patch(f"/v1/brands/{theirs['id']}", {"alias": "x"}),
        await org.delete(f"/v1/brands/{theirs['id']}"),
        await org.post(f"/v1/brands/{theirs['id']}/submit"),
    ):
        assert response.status_code == 404
    assert (await org.get("/v1/brands")).json()["data"] == []
    member = await org.post("/v1/brands", brand_body(), key=org.member_key)
    assert member.status_code == 403


async def test_a_profile_scoped_key_does_not_see_the_organizations_brands(org: Org, client):
    from tests.factories import make_profile

    brand = await make_brand(org)
    profile = await make_profile(org)
    key = (await org.post("/v1/api_keys", {"name": "scoped", "profile_id": profile["id"]})).json()
    headers = {"x-api-key": key["data"]["secret"]}
    for path in ("/v1/brands", f"/v1/brands/{brand['id']}"):
        r = await client.get(path, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "profile_scope_forbidden"

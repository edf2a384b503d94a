"""The Sent.dm brand sections on the same record: compliance fields, and drafts whose KYC is
completed before submission."""

import pytest

from msgprofiles.brands import service as brands
from msgprofiles.brands.schemas import BrandFields
from msgprofiles.core.auth import Caller
from msgprofiles.profiles import service as profiles
from msgprofiles.profiles.schemas import ProfileCreate, ProfileUpdate
from msgprofiles.providers import Providers
from tests.conftest import Org
from tests.factories import brand_body, make_brand


async def test_compliance_fields_are_kept_and_can_change(org: Org):
    brand = await make_brand(
        org,
        brand_relationship="SMALL_ACCOUNT",
        destination_countries=[{"country": "us", "is_main": True}, {"country": "CA"}],
        notes="Onboarded by the sales team.",
        phone_number_prefix="+1",
        tax_id_type="us_ein",
    )
    assert brand["destination_countries"] == [
        {"country": "US", "is_main": True},
        {"country": "CA", "is_main": False},
    ]
    assert brand["is_tcr_application"] is True, "a native brand is made for TCR by default"
    assert (brand["brand_relationship"], brand["phone_number_prefix"]) == ("SMALL_ACCOUNT", "+1")
    r = await org.patch(
        f"/v1/brands/{brand['id']}", {"is_tcr_application": False, "destination_countries": []}
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["is_tcr_application"] is False
    assert r.json()["data"]["destination_countries"] == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"brand_relationship": "HUGE_ACCOUNT"}, "brand_relationship"),
        ({"destination_countries": [{"country": "XX"}]}, "destination_countries.0.country"),
        ({"destination_countries": [{"is_main": True}]}, "destination_countries.0.country"),
        ({"phone_number_prefix": "1"}, "phone_number_prefix"),
        ({"is_tcr_application": None}, "is_tcr_application"),
        ({"tax_id": "12345", "tax_id_type": "us_ein", "tax_id_country": None}, "tax_id"),
    ],
)
async def test_invalid_compliance_fields_are_refused(org: Org, fields, field):
    r = await org.post("/v1/brands", brand_body(**fields))
    assert r.status_code == 400, r.text
    assert any(d["field"] == field for d in r.json()["error"]["details"]), r.json()


def caller(org: Org) -> Caller:
    return Caller(organization_id=org.id, role="admin")


async def test_a_draft_names_everything_tcr_still_needs(org: Org, database):
    draft = BrandFields(
        vertical="RETAIL",
        entity_type="PUBLIC",
        brand_relationship="BASIC_ACCOUNT",
        authorized_contact={"first_name": "Ann"},  # type: ignore[arg-type]
        address={"city": "Austin", "state": "tx", "country": "US"},  # type: ignore[arg-type]
        is_tcr_application=False,
    )
    async with database.connect() as conn:
        brand = await brands.create_brand(conn, caller(org), draft, draft=True)
    assert brand.alias == "Ann", "a draft gets a label from the best name it has"
    assert brand.legal_name is None and brand.address == {
        "street": None,
        "city": "Austin",
        "state": "TX",
        "postal_code": None,
        "country": "US",
    }
    assert (await org.get(f"/v1/brands/{brand.id}")).json()["data"]["alias"] == "Ann"

    r = await org.post(f"/v1/brands/{brand.id}/submit")
    assert r.status_code == 422 and r.json()["error"]["code"] == "brand_incomplete"
    assert {d["field"] for d in r.json()["error"]["details"]} == {
        "legal_name",
        "address.street",
        "address.postal_code",
        "authorized_contact.last_name",
        "authorized_contact.email",
        "authorized_contact.phone",
        "tax_id",
        "stock_symbol",
        "stock_exchange",
    }
    fixed = await org.patch(
        f"/v1/brands/{brand.id}",
        {
            "legal_name": "Acme Inc.",
            "tax_id": "12-3456789",
            "stock_symbol": "ACME",
            "stock_exchange": "NYSE",
            "address": brand_body()["address"],
            "authorized_contact": brand_body()["authorized_contact"],
        },
    )
    assert fixed.status_code == 200, fixed.text
    assert (await org.post(f"/v1/brands/{brand.id}/submit")).status_code == 202


async def test_a_profile_creates_and_changes_its_brand_with_it(org: Org, database, app):
    providers: Providers = app.state.pipeline.runtime.providers
    draft = BrandFields(vertical="TECHNOLOGY", legal_name="Acme Inc.")
    async with database.connect() as conn:
        profile = await profiles.create_profile(
            conn,
            caller(org),
            ProfileCreate(name="Support"),
            providers.payments,
            app.state.pipeline.runtime.secrets,
            brand=draft,
        )
    assert profile.brand_id is not None
    brand = (await org.get(f"/v1/brands/{profile.brand_id}")).json()["data"]
    assert (brand["legal_name"], brand["type"]) == ("Acme Inc.", "PRIMARY")

    async with database.connect() as conn:
        await profiles.update_profile(
            conn,
            caller(org),
            profile.id,
            ProfileUpdate(),
            providers.payments,
            brand=BrandFields(legal_name="Acme Holdings"),
        )
    changed = (await org.get(f"/v1/brands/{profile.brand_id}")).json()["data"]
    assert changed["legal_name"] == "Acme Holdings" and changed["vertical"] == "TECHNOLOGY"
    assert len((await org.get("/v1/brands")).json()["data"]) == 1, "the same brand, changed"


async def test_a_profile_brand_is_refused_with_inheritance_or_after_submission(
    org: Org, database, app
):
    from msgprofiles.core.errors import DomainError

    payments = app.state.pipeline.runtime.providers.payments
    full = BrandFields.model_validate(
        {k: v for k, v in brand_body().items() if k != "customer_type"}, strict=False
    )
    async with database.connect() as conn:
        with pytest.raises(DomainError) as refused:
            await profiles.create_profile(
                conn,
                caller(org),
                ProfileCreate(name="Heir", inherit_tcr_brand=True),
                payments,
                app.state.pipeline.runtime.secrets,
                brand=full,
            )
        assert refused.value.code == "brand_conflict"
        profile = await profiles.create_profile(
            conn,
            caller(org),
            ProfileCreate(name="Own"),
            payments,
            app.state.pipeline.runtime.secrets,
            brand=full,
        )
    assert (await org.get("/v1/brands")).json()["data"][0]["id"] == profile.brand_id
    assert (await org.post(f"/v1/brands/{profile.brand_id}/submit")).status_code == 202
    async with database.connect() as conn:
        with pytest.raises(DomainError) as locked:
            await profiles.update_profile(
                conn,
                caller(org),
                profile.id,
                ProfileUpdate(),
                payments,
                brand=BrandFields(legal_name="Renamed"),
            )
    assert locked.value.code == "brand_locked"

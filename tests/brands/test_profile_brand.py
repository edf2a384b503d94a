"""A profile uses its own brand, or with inherit_tcr_brand its parent's; never both."""

from tests.conftest import Org
from tests.factories import make_brand, make_profile


async def test_a_profile_links_its_own_brand_or_inherits(org: Org, other_org: Org):
    brand = await make_brand(org)
    own = await make_profile(org, brand_id=brand["id"])
    assert own["brand_id"] == brand["id"] and own["inherit_tcr_brand"] is False
    inheriting = await make_profile(org, name="Inherits", inherit_tcr_brand=True)
    assert inheriting["brand_id"] is None

    both = await org.post(
        "/v1/profiles", {"name": "Both", "brand_id": brand["id"], "inherit_tcr_brand": True}
    )
    assert both.status_code == 422 and both.json()["error"]["code"] == "brand_conflict"
    r = await org.patch(f"/v1/profiles/{own['id']}", {"inherit_tcr_brand": True})
    assert r.status_code == 422
    switched = await org.patch(
        f"/v1/profiles/{own['id']}", {"brand_id": None, "inherit_tcr_brand": True}
    )
    assert switched.status_code == 200 and switched.json()["data"]["brand_id"] is None

    theirs = await make_brand(other_org)
    for body in ({"name": "x", "brand_id": theirs["id"]}, {"name": "x", "brand_id": "brand_x"}):
        r = await org.post("/v1/profiles", body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "brand_not_found"

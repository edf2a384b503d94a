import pytest

from tests.conftest import Org
from tests.factories import make_number, make_profile


async def test_numbers_belong_to_one_profile_at_a_time(org: Org):
    sales = await make_profile(org, name="Sales")
    support = await make_profile(org, name="Support")
    number = await make_number(org, "+1 (415) 555-0130", profile_id=sales["id"])
    assert number["number"] == "+14155550130" and number["country"] == "US"
    assert number["health"] == "healthy"
    in_sales = (await org.get(f"/v1/profiles/{sales['id']}/numbers")).json()["data"]
    assert [n["id"] for n in in_sales] == [number["id"]]
    moved = await org.patch(f"/v1/numbers/{number['id']}", {"profile_id": support["id"]})
    assert moved.json()["data"]["profile_id"] == support["id"]
    assert (await org.get(f"/v1/profiles/{sales['id']}/numbers")).json()["data"] == []
    unassigned = await org.patch(f"/v1/numbers/{number['id']}", {"profile_id": None})
    assert unassigned.json()["data"]["profile_id"] is None
    unhealthy = await org.patch(f"/v1/numbers/{number['id']}", {"health": "unhealthy"})
    assert unhealthy.json()["data"]["health"] == "unhealthy"
    released = await org.delete(f"/v1/numbers/{number['id']}")
    assert released.status_code == 200
    assert (await org.get(f"/v1/numbers/{number['id']}")).status_code == 404
    types = [e["type"] for e in (await org.get("/v1/events", params={"limit": 100})).json()["data"]]
    for event_type in ("number.created", "number.updated", "number.released"):
        assert event_type in types
    again = await make_number(org, "+14155550130")  # a released number can come back
    assert again["id"] != number["id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"number": "+14155550131", "type": "toll_free"}, "invalid_phone_number"),
        ({"number": "+18005550123", "type": "long_code"}, "invalid_phone_number"),
        ({"number": "4155550131", "type": "long_code"}, "invalid_phone_number"),
        ({"number": "12345", "type": "short_code"}, "invalid_phone_number"),
        ({"number": "12a45", "type": "short_code", "country": "US"}, "invalid_phone_number"),
        ({"number": "+14155550131", "type": "long_code", "country": "GB"}, "invalid_phone_number"),
        ({"number": "+14155550131", "type": "landline"}, "validation_error"),
        ({"number": "+14155550131", "type": "long_code", "health": "ok"}, "validation_error"),
        (
            {"number": "+14155550131", "type": "long_code", "profile_id": "prof_nope"},
            "profile_not_found",
        ),
    ],
)
async def test_invalid_numbers_are_refused(org: Org, body, code):
    r = await org.post("/v1/numbers", body)
    assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == code, r.text
    assert (await org.get("/v1/numbers")).json()["data"] == []


async def test_a_number_is_listed_once_per_organization(org: Org, other_org: Org):
    await make_number(org, "+18005550199", "toll_free")
    await make_number(org, "55555", "short_code", country="US")
    r = await org.post("/v1/numbers", {"number": "+18005550199", "type": "toll_free"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "number_taken"
    theirs = await make_number(other_org, "+18005550199", "toll_free")  # another tenant's
    assert (await org.get(f"/v1/numbers/{theirs['id']}")).status_code == 404
    assert (await org.delete(f"/v1/numbers/{theirs['id']}")).status_code == 404
    assert len((await org.get("/v1/numbers")).json()["data"]) == 2

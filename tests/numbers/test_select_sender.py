"""The number pool, statistically and rule by rule, with a seeded random source."""

import random
from collections import Counter

import pytest

from tests.conftest import Org
from tests.factories import make_number, make_profile


@pytest.fixture
def seeded(app):
    previous = app.state.pipeline.runtime.random
    app.state.pipeline.runtime.random = random.Random(20261124)
    yield
    app.state.pipeline.runtime.random = previous


async def pool_profile(org: Org, **pool: object) -> dict:
    return await make_profile(org, messaging={"number_pool": {"enabled": True, **pool}})


async def select(org: Org, profile: dict, to: str, **kw: str):  # type: ignore[no-untyped-def]
    return await org.post(f"/v1/profiles/{profile['id']}/select_sender", {"to": to}, **kw)


async def test_weights_split_long_codes_and_toll_free(org: Org, seeded):
    profile = await pool_profile(org, long_code_weight=3, toll_free_weight=1)
    for number in ("+14155550140", "+12125550141"):
        await make_number(org, number, profile_id=profile["id"])
    await make_number(org, "+18005550142", "toll_free", profile_id=profile["id"])
    draws = Counter()
    for n in range(800):
        r = await select(org, profile, f"+1415555{n % 100:04d}")
        draws[r.json()["data"]["type"]] += 1
    share = draws["long_code"] / 800
    assert 0.70 <= share <= 0.80, draws  # 3:1 is 0.75


async def test_a_zero_weight_type_is_never_chosen_while_the_other_has_numbers(org: Org, seeded):
    profile = await pool_profile(org, long_code_weight=0, toll_free_weight=5)
    await make_number(org, "+14155550143", profile_id=profile["id"])
    await make_number(org, "+18005550144", "toll_free", profile_id=profile["id"])
    types = {(await select(org, profile, "+12125550100")).json()["data"]["type"] for _ in range(50)}
    assert types == {"toll_free"}


async def test_unhealthy_numbers_are_skipped_when_asked(org: Org, seeded):
    profile = await pool_profile(org)
    good = await make_number(org, "+14155550145", profile_id=profile["id"])
    await make_number(org, "+14155550146", profile_id=profile["id"], health="unhealthy")
    chosen = {
        (await select(org, profile, "+12125550100")).json()["data"]["number_id"] for _ in range(40)
    }
    assert chosen == {good["id"]}
    await org.patch(
        f"/v1/profiles/{profile['id']}", {"messaging": {"number_pool": {"skip_unhealthy": False}}}
    )
    chosen = {
        (await select(org, profile, "+12125550100")).json()["data"]["number_id"] for _ in range(40)
    }
    assert len(chosen) == 2


async def test_sticky_sender_keeps_a_recipients_number(org: Org, seeded):
    profile = await pool_profile(org, sticky_sender=True)
    for n in range(5):
        await make_number(org, f"+1415555015{n}", profile_id=profile["id"])
    first = (await select(org, profile, "+12125550177")).json()["data"]
    assert first["sticky"] is False
    for _ in range(10):
        again = (await select(org, profile, "+12125550177")).json()["data"]
        assert again["number_id"] == first["number_id"] and again["sticky"] is True
    others = {
        (await select(org, profile, f"+1212555{n:04d}")).json()["data"]["number_id"]
        for n in range(200, 230)
    }
    assert len(others) > 1, "other recipients still spread over the pool"
    await org.patch(f"/v1/numbers/{first['number_id']}", {"health": "unhealthy"})
    moved = (await select(org, profile, "+12125550177")).json()["data"]
    assert moved["number_id"] != first["number_id"], "an unhealthy sticky number is left"


async def test_geomatch_prefers_the_area_code_then_the_country(org: Org, seeded):
    profile = await pool_profile(org, geomatch=True)
    sf = await make_number(org, "+14155550160", profile_id=profile["id"])
    await make_number(org, "+12125550161", profile_id=profile["id"])
    uk = await make_number(org, "+442071838750", profile_id=profile["id"])
    for _ in range(20):
        data = (await select(org, profile, "+14155559999")).json()["data"]
        assert (data["number_id"], data["matched"]) == (sf["id"], "area_code")
    data = (await select(org, profile, "+447400123456")).json()["data"]
    assert (data["number_id"], data["matched"]) == (uk["id"], "country")
    data = (await select(org, profile, "+33612345678")).json()["data"]
    assert data["matched"] == "none"


async def test_destinations_outside_the_whitelist_are_refused(org: Org, seeded):
    profile = await make_profile(org, messaging={"whitelisted_destinations": ["US"]})
    await make_number(org, "+14155550170", profile_id=profile["id"])
    assert (await select(org, profile, "+14155550100")).status_code == 200
    r = await select(org, profile, "+447400123456")
    assert r.status_code == 422 and r.json()["error"]["code"] == "destination_not_allowed"


async def test_without_a_pool_the_profiles_own_number_sends(org: Org, seeded):
    profile = await make_profile(org, sending_phone_number="+14155550181")
    await make_number(org, "+14155550180", profile_id=profile["id"])
    own = await make_number(org, "+14155550181", profile_id=profile["id"])
    chosen = {
        (await select(org, profile, "+12125550100")).json()["data"]["number_id"] for _ in range(20)
    }
    assert chosen == {own["id"]}


@pytest.mark.parametrize(
    ("messaging", "to", "status", "code"),
    [
        ({}, "+12125550100", 409, "no_sender_available"),
        ({"enabled": False}, "+12125550100", 409, "messaging_disabled"),
        ({}, "2125550100", 400, "validation_error"),
        ({}, "+1999", 400, "validation_error"),
    ],
)
async def test_when_no_sender_can_be_chosen(org: Org, messaging, to, status, code):
    profile = await make_profile(org, messaging=messaging)
    r = await select(org, profile, to)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text


async def test_members_may_select_senders(org: Org):
    profile = await pool_profile(org)
    await make_number(org, "+14155550190", profile_id=profile["id"])
    r = await select(org, profile, "+12125550100", key=org.member_key)
    assert r.status_code == 200

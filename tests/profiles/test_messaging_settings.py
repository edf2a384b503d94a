"""The messaging settings Telnyx and Opentact users rely on, natively: alpha sender, a daily
spend limit, the URL shortener, MMS and encoding switches, and what each vendor keeps — stored,
validated, merged on PATCH and evented; and the profile filters the dialects list with."""

import pytest

from tests.conftest import Org
from tests.factories import make_profile

SETTINGS = {
    "alpha_sender": "ACME",
    "daily_spend_limit": "269.00",
    "daily_spend_limit_enabled": True,
    "url_shortener_settings": {"domain": "acme.link", "prefix": "go"},
    "mms_fall_back_to_sms": True,
    "mms_transcoding": True,
    "mobile_only": True,
    "smart_encoding": True,
    "vendor_settings": {"telnyx": {"webhook_api_version": "2", "redaction_level": 1}},
}


async def test_settings_are_kept_merged_and_evented(org: Org):
    created = await make_profile(org, name="Texts", messaging=SETTINGS)
    messaging = created["messaging"]
    assert {k: messaging[k] for k in SETTINGS} == {
        **SETTINGS,
        "url_shortener_settings": {
            "domain": "acme.link",
            "prefix": "go",
            "replace_blacklist_only": False,
            "send_webhooks": False,
        },
    }
    assert created["created_by"] == created["updated_by"] and created["created_by"].startswith(
        "key_"
    )

    patched = await org.patch(
        f"/v1/profiles/{created['id']}",
        {
            "messaging": {
                "alpha_sender": None,
                "url_shortener_settings": None,
                "smart_encoding": False,
                "vendor_settings": {"telnyx": {"redaction_level": 2}, "opentact": {"x": 1}},
            }
        },
    )
    assert patched.status_code == 200, patched.text
    after = patched.json()["data"]["messaging"]
    assert after["alpha_sender"] is None and after["url_shortener_settings"] is None
    assert after["smart_encoding"] is False and after["mobile_only"] is True, "the rest stays"
    assert after["daily_spend_limit"] == "269.00"
    assert after["vendor_settings"] == {
        "telnyx": {"webhook_api_version": "2", "redaction_level": 2},
        "opentact": {"x": 1},
    }, "each vendor's settings change key by key"
    events = (await org.get("/v1/events", params={"type": "profile.updated"})).json()["data"]
    assert events[0]["data"]["messaging"]["vendor_settings"]["opentact"] == {"x": 1}


@pytest.mark.parametrize(
    ("messaging", "field"),
    [
        ({"alpha_sender": "!!"}, "messaging.alpha_sender"),
        ({"alpha_sender": "TWELVECHARSX"}, "messaging.alpha_sender"),
        ({"alpha_sender": "12345"}, "messaging.alpha_sender"),
        ({"daily_spend_limit": "1.234"}, "messaging.daily_spend_limit"),
        ({"daily_spend_limit": "-5"}, "messaging.daily_spend_limit"),
        ({"daily_spend_limit_enabled": True}, "messaging"),
        (
            {"url_shortener_settings": {"domain": "not a domain"}},
            "messaging.url_shortener_settings",
        ),
        ({"url_shortener_settings": {}}, "messaging.url_shortener_settings.domain"),
        ({"vendor_settings": {"telnyx": "2"}}, "messaging.vendor_settings.telnyx"),
    ],
)
async def test_invalid_settings_are_refused_by_name_and_change_nothing(
    org: Org, messaging: dict, field: str
):
    created = await org.post("/v1/profiles", {"name": "Bad", "messaging": messaging})
    assert created.status_code == 400, created.text
    assert any(d["field"].startswith(field) for d in created.json()["error"]["details"])
    profile = await make_profile(org, name="Kept")
    patched = await org.patch(f"/v1/profiles/{profile['id']}", {"messaging": messaging})
    assert patched.status_code == 400, patched.text
    assert any(d["field"].startswith(field) for d in patched.json()["error"]["details"])
    assert (await org.get(f"/v1/profiles/{profile['id']}")).json()["data"] == profile


async def test_profiles_are_found_by_exact_name_or_part_of_it(org: Org):
    for name in ("Alerts", "Sales alerts", "Sales"):
        await make_profile(org, name=name)
    exact = (await org.get("/v1/profiles", params={"name": "Sales"})).json()["data"]
    assert [p["name"] for p in exact] == ["Sales"]
    part = (await org.get("/v1/profiles", params={"name_contains": "ALERT"})).json()["data"]
    assert sorted(p["name"] for p in part) == ["Alerts", "Sales alerts"]
    both = {"name": "Sales alerts", "name_contains": "Sales"}
    assert [p["name"] for p in (await org.get("/v1/profiles", params=both)).json()["data"]] == [
        "Sales alerts"
    ]
    literal = (await org.get("/v1/profiles", params={"name_contains": "%"})).json()["data"]
    assert literal == [], "a wildcard is a character like the others"

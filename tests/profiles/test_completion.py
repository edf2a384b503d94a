"""Completion: prerequisites, the Status Logic, submissions through the providers, and the
signed callback."""

import json

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from msgprofiles.jobs.models import jobs
from msgprofiles.providers.carrier import SANDBOX_REFUSED_NUMBER, SANDBOX_UNAVAILABLE_NUMBER
from msgprofiles.providers.tcr import SANDBOX_REJECTED_TAX_ID
from msgprofiles.providers.whatsapp import SANDBOX_BANNED_WABA
from msgprofiles.workflows.completion import status_logic
from tests.conftest import Org, Receiver, create_org
from tests.factories import content, make_brand, make_profile

NUMBER = "+15125550142"


async def ready_profile(org: Org, brand: dict | None = None, **fields: object) -> dict:
    """A profile meeting every prerequisite: its details, its own TCR brand and a campaign."""
    brand = brand or await make_brand(org)
    details = {
        "short_name": "SALES",
        "description": "Order updates for Acme's shoppers.",
        "brand_id": brand["id"],
        "sending_phone_number": NUMBER,
    }
    profile = await make_profile(org, **(details | fields))
    r = await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())
    assert r.status_code == 201, r.text
    return profile


async def complete(org: Org, profile_id: str, url: str, **extra: object) -> dict:
    r = await org.post(f"/v1/profiles/{profile_id}/complete", {"web_hook_url": url, **extra})
    assert r.status_code in (200, 202), r.text
    return r.json()["data"]


async def finished(org: Org, worker, profile_id: str) -> dict:
    """Run jobs until the completion and its callback are settled."""

    async def state() -> dict:
        return (await org.get(f"/v1/profiles/{profile_id}/completion")).json()["data"]

    settled = {"succeeded", "failed"}
    current: dict = {}

    async def check() -> bool:
        nonlocal current
        current = await state()
        return current["status"] in settled and current["callback"]["status"] in settled

    async def loop() -> None:
        while not await check():
            await worker.run_until_idle()

    import asyncio

    async with asyncio.timeout(15):
        await loop()
    return current


async def jobs_of(database, org: Org, kind: str) -> int:
    async with database.connect() as conn:
        return await conn.fetch_value(
            select(func.count()).where(jobs.c.organization_id == org.id, jobs.c.kind == kind)
        )


@pytest.mark.parametrize(
    ("channels", "tcr", "inherits", "main", "expected"),
    [
        ((False, False), True, True, False, "submitted"),  # no SMS, no WhatsApp
        ((False, False), False, False, False, "submitted"),
        ((True, False), True, False, False, "submitted"),  # TCR, own registration
        ((False, True), True, False, True, "submitted"),
        ((True, True), False, False, True, "submitted"),  # non-TCR, main destination
        ((True, False), False, True, True, "submitted"),
        ((True, False), True, True, True, "completed"),  # TCR, inheriting both
        ((False, True), False, False, False, "completed"),  # non-TCR, no main destination
    ],
)
def test_the_status_logic_table_first_match_wins(channels, tcr, inherits, main, expected):
    sms, whatsapp = channels
    outcome = status_logic(
        has_sms=sms,
        has_whatsapp=whatsapp,
        tcr_application=tcr,
        inherits_registration=inherits,
        main_destination=main,
    )
    assert outcome == expected


async def test_completion_submits_everything_and_posts_a_signed_result(
    org: Org, worker, receiver: Receiver
):
    profile = await ready_profile(org)
    started = await complete(org, profile["id"], receiver.url)
    assert started["status"] == "running" and started["callback"]["status"] == "waiting"
    secret = started["callback_secret"]
    assert secret.startswith("whsec_"), "the first completion shows the signing secret once"

    done = await finished(org, worker, profile["id"])
    assert (done["status"], done["outcome"], done["error"]) == ("succeeded", "submitted", None)
    assert done["callback"] == {"status": "succeeded", "attempts": 1, "last_error": None}
    assert done["callback_secret"] is None

    [(headers, body)] = receiver.requests
    payload = Webhook(secret).verify(body, headers)
    assert headers["webhook-id"] == started["id"]
    assert payload["type"] == "profile.completed"
    assert payload["data"] | {"timestamp": None} == {
        "completion_id": started["id"],
        "profile_id": profile["id"],
        "success": True,
        "status": "submitted",  # a TCR application with its own registration waits for review
        "error": None,
        "timestamp": None,
    }

    after = (await org.get(f"/v1/profiles/{profile['id']}")).json()["data"]
    assert after["status"] == "submitted"
    brand = (await org.get(f"/v1/brands/{profile['brand_id']}")).json()["data"]
    assert brand["registration_status"] == "registered" and brand["tcr_brand_id"]
    campaigns = (await org.get(f"/v1/profiles/{profile['id']}/campaigns")).json()["data"]
    assert [c["status"] for c in campaigns] == ["approved"]
    event = (await org.get("/v1/events", params={"type": "profile.completed"})).json()["data"][0]
    assert event["data"]["profile"]["status"] == "submitted"
    assert event["data"]["completion"]["id"] == started["id"]


async def test_calling_again_joins_the_run_and_a_completed_profile_is_a_no_op(
    org: Org, worker, database, receiver: Receiver
):
    brand = await make_brand(org, is_tcr_application=False)
    profile = await make_profile(
        org, short_name="HELP", description="Support.", brand_id=brand["id"]
    )
    first = await complete(org, profile["id"], receiver.url)
    again = await complete(org, profile["id"], receiver.url + "?again")
    assert again["id"] == first["id"] and again["callback_secret"] is None
    assert await jobs_of(database, org, "profile.complete") == 1

    done = await finished(org, worker, profile["id"])
    assert done["outcome"] == "completed", "WhatsApp inherited, non-TCR, no main destination"
    r = await org.post(f"/v1/profiles/{profile['id']}/complete", {"web_hook_url": receiver.url})
    assert r.status_code == 200 and r.json()["data"]["id"] == first["id"]
    assert await jobs_of(database, org, "profile.complete") == 1, "nothing started"
    assert len(receiver.requests) == 1


async def no_phone_org(client, operator_key) -> Org:
    """An organization whose WhatsApp account has no phone: profiles get no WhatsApp channel."""
    org = await create_org(client, operator_key, "No phone", whatsapp=False)
    account = {"waba_id": "waba-nophone", "access_token": "EAAG-x"}
    r = await org.patch("/v1/organization", {"whatsapp_business_account": account})
    assert r.status_code == 200, r.text
    return org


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("no channels", "submitted"),
        ("TCR, own registration", "submitted"),
        ("non-TCR, main destination", "submitted"),
        ("non-TCR, no main destination", "completed"),
        ("TCR, inheriting brand and campaigns", "completed"),
    ],
)
async def test_each_row_of_the_status_logic(
    org: Org, client, operator_key, worker, receiver: Receiver, row, expected
):
    if row == "no channels":
        org = await no_phone_org(client, operator_key)
        brand = await make_brand(org)
        profile = await ready_profile(org, brand, sending_phone_number=None)
    elif row == "TCR, own registration":
        profile = await ready_profile(org)
    elif row.startswith("non-TCR"):
        main = row == "non-TCR, main destination"
        destinations = [{"country": "DE", "is_main": main}, {"country": "FR"}]
        brand = await make_brand(org, is_tcr_application=False, destination_countries=destinations)
        profile = await make_profile(
            org,
            short_name="EUROPE",
            description="European customers.",
            brand_id=brand["id"],
            sending_phone_number=NUMBER,
        )
    else:
        parent = (await org.get("/v1/profiles", params={"limit": 100})).json()["data"][-1]
        assert parent["is_parent"]
        brand = await make_brand(org)
        r = await org.patch(f"/v1/profiles/{parent['id']}", {"brand_id": brand["id"]})
        assert r.status_code == 200, r.text
        await org.post(f"/v1/profiles/{parent['id']}/campaigns", content())
        profile = await make_profile(
            org,
            short_name="HEIR",
            description="Uses the parent's registration.",
            inherit_tcr_brand=True,
            inherit_tcr_campaign=True,
        )
    await complete(org, profile["id"], receiver.url)
    done = await finished(org, worker, profile["id"])
    assert (done["status"], done["outcome"]) == ("succeeded", expected), done
    status = (await org.get(f"/v1/profiles/{profile['id']}")).json()["data"]["status"]
    assert status == expected


@pytest.mark.parametrize(
    ("case", "unmet"),
    [
        ("no short name", {"short_name"}),
        ("no description", {"description"}),
        ("no brand", {"brand_id"}),
        ("parent without brand", {"inherit_tcr_brand"}),
        ("brand without tax id", {"brand.tax_id"}),
        ("TCR without campaigns", {"campaigns"}),
        ("only a rejected campaign", {"campaigns"}),
        ("parent without campaigns", {"inherit_tcr_campaign"}),
        ("bare", {"short_name", "description", "brand_id"}),
        (
            "inherits from a bare parent",
            {"short_name", "description", "inherit_tcr_brand", "inherit_tcr_campaign"},
        ),
    ],
)
async def test_unmet_prerequisites_are_named_and_nothing_starts(
    org: Org, database, receiver: Receiver, case, unmet
):
    ready = {"short_name": "SALES", "description": "Sales.", "sending_phone_number": NUMBER}
    if case in ("no short name", "no description"):
        field = case.removeprefix("no ").replace(" ", "_")
        profile = await ready_profile(org, **{field: None})
    elif case == "no brand":
        profile = await make_profile(org, **ready)
    elif case == "parent without brand":
        profile = await make_profile(org, **ready, inherit_tcr_brand=True)
        await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())
    elif case == "brand without tax id":
        profile = await ready_profile(org, await make_brand(org, tax_id=None))
    elif case == "TCR without campaigns":
        brand = await make_brand(org)
        profile = await make_profile(org, **ready, brand_id=brand["id"])
    elif case == "only a rejected campaign":
        brand = await make_brand(org)
        profile = await make_profile(org, **ready, brand_id=brand["id"])
        campaign = (await org.post(f"/v1/profiles/{profile['id']}/campaigns", content())).json()
        async with database.connect() as conn:
            from sqlalchemy import update

            from msgprofiles.campaigns.models import campaigns

            await conn.execute(
                update(campaigns)
                .where(campaigns.c.id == campaign["data"]["id"])
                .values(status="rejected")
            )
    elif case == "parent without campaigns":
        brand = await make_brand(org)
        profile = await make_profile(org, **ready, brand_id=brand["id"], inherit_tcr_campaign=True)
    elif case == "bare":
        profile = await make_profile(org)
    else:
        profile = await make_profile(org, inherit_tcr_brand=True, inherit_tcr_campaign=True)
    r = await org.post(f"/v1/profiles/{profile['id']}/complete", {"web_hook_url": receiver.url})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "completion_prerequisites_unmet"
    assert {d["field"] for d in error["details"]} == unmet
    assert all(d["message"] for d in error["details"])
    assert (await org.get(f"/v1/profiles/{profile['id']}/completion")).status_code == 404
    assert await jobs_of(database, org, "profile.complete") == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("brand", "brand_rejected"),
        ("campaign", "campaigns_rejected"),
        ("number", "number_refused"),
        ("whatsapp", "whatsapp_refused"),
    ],
)
async def test_a_refusal_fails_the_completion_and_rejects_the_profile(
    org: Org, client, operator_key, worker, receiver: Receiver, change, code
):
    if change == "whatsapp":
        org = await create_org(client, operator_key, "Banned", whatsapp=False)
        banned = {"waba_id": SANDBOX_BANNED_WABA, "phone_number_id": "pn", "access_token": "t"}
        await org.patch("/v1/organization", {"whatsapp_business_account": banned})
    brand = await make_brand(
        org, **({"tax_id": SANDBOX_REJECTED_TAX_ID} if change == "brand" else {})
    )
    number = SANDBOX_REFUSED_NUMBER if change == "number" else NUMBER
    profile = await make_profile(
        org,
        short_name="SALES",
        description="Sales.",
        brand_id=brand["id"],
        sending_phone_number=number,
    )
    description = content()["description"]
    if change == "campaign":
        description = "SANDBOX-REJECT " + description
    await org.post(f"/v1/profiles/{profile['id']}/campaigns", content(description=description))

    await complete(org, profile["id"], receiver.url)
    done = await finished(org, worker, profile["id"])
    assert done["status"] == "failed" and done["error"]["code"] == code
    assert done["outcome"] is None and done["error"]["message"]
    assert (await org.get(f"/v1/profiles/{profile['id']}")).json()["data"]["status"] == "rejected"
    [(_, body)] = receiver.requests
    result = json.loads(body)
    assert result["type"] == "profile.completion_failed"
    assert (result["data"]["success"], result["data"]["status"]) == (False, "failed")
    assert result["data"]["error"]["code"] == code
    events = (await org.get("/v1/events", params={"type": "profile.completion_failed"})).json()
    assert events["data"][0]["data"]["completion"]["error"]["code"] == code


async def test_the_callback_is_retried_like_a_webhook_delivery(
    org: Org, worker, receiver: Receiver
):
    receiver.statuses = [500, 503]
    profile = await ready_profile(org)
    await complete(org, profile["id"], receiver.url)
    done = await finished(org, worker, profile["id"])
    assert done["callback"] == {"status": "succeeded", "attempts": 3, "last_error": None}
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1, "one message, three tries"


async def test_an_unreachable_callback_fails_after_the_retries(org: Org, worker, receiver):
    receiver.statuses = [500] * 10
    profile = await ready_profile(org)
    await complete(org, profile["id"], receiver.url)
    done = await finished(org, worker, profile["id"])
    assert done["status"] == "succeeded", "the completion itself stands"
    assert done["callback"] == {"status": "failed", "attempts": 4, "last_error": "HTTP 500"}


async def test_a_rotated_callback_secret_signs_alongside_the_old_one(
    org: Org, worker, receiver: Receiver
):
    profile = await ready_profile(org)
    old = (await complete(org, profile["id"], receiver.url))["callback_secret"]
    await finished(org, worker, profile["id"])
    r = await org.post("/v1/organization/callback_secret", {"grace_period_hours": 1})
    assert r.status_code == 200, r.text
    new = r.json()["data"]["secret"]
    assert new.startswith("whsec_") and new != old

    second = await ready_profile(org, short_name="SALES2")
    assert (await complete(org, second["id"], receiver.url))["callback_secret"] is None
    await finished(org, worker, second["id"])
    headers, body = receiver.requests[-1]
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["data"]["profile_id"] == second["id"]
    member = await org.post("/v1/organization/callback_secret", key=org.member_key)
    assert member.status_code == 403


async def test_completion_is_for_admins_of_the_owner_with_a_valid_url(
    org: Org, other_org: Org, receiver: Receiver
):
    profile = await ready_profile(org)
    path = f"/v1/profiles/{profile['id']}/complete"
    assert (await other_org.post(path, {"web_hook_url": receiver.url})).status_code == 404
    assert (
        await org.post(path, {"web_hook_url": receiver.url}, key=org.member_key)
    ).status_code == 403
    for body in ({}, {"web_hook_url": "not a url"}, {"web_hook_url": "ftp://x.example/"}):
        r = await org.post(path, body)
        assert r.status_code in (400, 422), r.text
    assert (await other_org.get(f"/v1/profiles/{profile['id']}/completion")).status_code == 404


async def test_a_sandbox_completion_changes_nothing(org: Org, database, receiver: Receiver):
    profile = await ready_profile(org)
    r = await org.post(
        f"/v1/profiles/{profile['id']}/complete", {"web_hook_url": receiver.url, "sandbox": True}
    )
    assert r.status_code == 202 and r.json()["data"]["status"] == "running"
    assert (await org.get(f"/v1/profiles/{profile['id']}/completion")).status_code == 404
    assert await jobs_of(database, org, "profile.complete") == 0
    real = await complete(org, profile["id"], receiver.url)
    assert real["callback_secret"], "the sandbox did not use up the secret's one showing"


async def test_an_unavailable_provider_is_retried_then_fails_the_completion(
    org: Org, worker, database, receiver: Receiver
):
    profile = await ready_profile(org, sending_phone_number=SANDBOX_UNAVAILABLE_NUMBER)
    await complete(org, profile["id"], receiver.url)
    done = await finished(org, worker, profile["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "provider_unavailable"
    async with database.connect() as conn:
        attempts = await conn.fetch_value(
            select(jobs.c.attempts).where(
                jobs.c.organization_id == org.id, jobs.c.kind == "profile.complete"
            )
        )
    assert attempts == 4, "tried on each step of the retry schedule, then given up"
    status = (await org.get(f"/v1/profiles/{profile['id']}")).json()["data"]["status"]
    assert status == "incomplete", "an outage is not a verdict on the profile"


async def test_a_replayed_completion_does_not_repeat_or_keep_the_secret(
    org: Org, database, receiver: Receiver
):
    from msgprofiles.core.idempotency import idempotency_keys

    profile = await ready_profile(org)
    path = f"/v1/profiles/{profile['id']}/complete"
    first = await org.post(path, {"web_hook_url": receiver.url}, **{"Idempotency-Key": "c-1"})
    again = await org.post(path, {"web_hook_url": receiver.url}, **{"Idempotency-Key": "c-1"})
    assert first.json()["data"]["callback_secret"].startswith("whsec_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"]["callback_secret"] is None
    async with database.connect() as conn:
        stored = await conn.fetch_all(
            select(idempotency_keys).where(idempotency_keys.c.organization_id == org.id)
        )
    assert stored and all(b"whsec_" not in bytes(row["response_body"]) for row in stored)

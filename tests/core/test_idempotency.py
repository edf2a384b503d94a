import asyncio

from sqlalchemy import func, select

from msgprofiles.api_keys.models import api_keys
from msgprofiles.core.idempotency import idempotency_keys
from tests.conftest import Org


async def count_keys(database, org: Org, name: str) -> int:
    async with database.connect() as conn:
        return await conn.fetch_value(
            select(func.count()).where(
                api_keys.c.organization_id == org.id, api_keys.c.name == name
            )
        )


async def test_same_key_and_body_replays_the_first_response(org: Org, database):
    body = {"name": "idem once", "role": "member"}
    first = await org.post("/v1/api_keys", body, **{"Idempotency-Key": "create-1"})
    again = await org.post("/v1/api_keys", body, **{"Idempotency-Key": "create-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["X-Original-Request-Id"] == first.json()["request_id"]
    assert again.json()["request_id"] == first.json()["request_id"], "the first answer, whole"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert await count_keys(database, org, "idem once") == 1


async def test_a_replay_never_repeats_the_secret_and_none_is_stored(org: Org, database):
    body = {"name": "idem secret"}
    first = await org.post("/v1/api_keys", body, **{"Idempotency-Key": "secret-1"})
    again = await org.post("/v1/api_keys", body, **{"Idempotency-Key": "secret-1"})
    secret = first.json()["data"]["secret"]
    assert secret and again.json()["data"]["secret"] is None
    async with database.connect() as conn:
        stored = await conn.fetch_value(
            select(idempotency_keys.c.response_body).where(
                idempotency_keys.c.organization_id == org.id,
                idempotency_keys.c.key == "secret-1",
            )
        )
    assert secret.encode() not in stored


async def test_same_key_with_another_body_is_422_and_creates_nothing(org: Org, database):
    await org.post("/v1/api_keys", {"name": "idem a"}, **{"Idempotency-Key": "reuse-1"})
    r = await org.post("/v1/api_keys", {"name": "idem b"}, **{"Idempotency-Key": "reuse-1"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert await count_keys(database, org, "idem b") == 0
    r = await org.patch("/v1/organization", {"name": "x"}, **{"Idempotency-Key": "reuse-1"})
    assert r.status_code == 422, "another endpoint with the same key is another request"


async def test_keys_are_scoped_to_the_organization(org: Org, other_org: Org, database):
    a = await org.post("/v1/api_keys", {"name": "idem shared"}, **{"Idempotency-Key": "same"})
    b = await other_org.post("/v1/api_keys", {"name": "idem shared"}, **{"Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert "Idempotent-Replayed" not in b.headers


async def test_a_failed_request_is_not_recorded_so_it_can_be_retried(org: Org, database):
    bad = await org.post(
        "/v1/api_keys", {"name": "x", "role": "owner"}, **{"Idempotency-Key": "fix-1"}
    )
    assert bad.status_code == 400
    good = await org.post("/v1/api_keys", {"name": "idem fixed"}, **{"Idempotency-Key": "fix-1"})
    assert good.status_code == 201
    assert await count_keys(database, org, "idem fixed") == 1


async def test_concurrent_requests_with_one_key_create_one_resource(org: Org, database):
    body = {"name": "idem race", "role": "member"}
    responses = await asyncio.gather(
        *[org.post("/v1/api_keys", body, **{"Idempotency-Key": "race-1"}) for _ in range(8)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["data"]["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert await count_keys(database, org, "idem race") == 1


async def test_patch_is_idempotent_too(org: Org):
    first = await org.patch(
        "/v1/organization", {"name": "Idem Inc"}, **{"Idempotency-Key": "patch-1"}
    )
    await org.patch("/v1/organization", {"name": "Changed since"})
    again = await org.patch(
        "/v1/organization", {"name": "Idem Inc"}, **{"Idempotency-Key": "patch-1"}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (await org.get("/v1/organization")).json()["data"]["name"] == "Changed since"


async def test_key_length_is_checked(org: Org):
    r = await org.post("/v1/api_keys", {"name": "x"}, **{"Idempotency-Key": "k" * 256})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_idempotency_key"
    ok = await org.post("/v1/api_keys", {"name": "idem long"}, **{"Idempotency-Key": "k" * 255})
    assert ok.status_code == 201


async def test_expired_records_are_purged_and_fresh_ones_kept(org: Org, database):
    from datetime import timedelta

    from sqlalchemy import update

    from msgprofiles.core.idempotency import purge_expired
    from msgprofiles.core.time import utcnow

    await org.post("/v1/api_keys", {"name": "idem old"}, **{"Idempotency-Key": "old-1"})
    await org.post("/v1/api_keys", {"name": "idem new"}, **{"Idempotency-Key": "new-1"})
    async with database.connect() as conn:
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.organization_id == org.id, idempotency_keys.c.key == "old-1")
            .values(created_at=utcnow() - timedelta(hours=25))
        )
        assert await purge_expired(conn, timedelta(hours=24)) >= 1
        left = await conn.fetch_all(
            select(idempotency_keys.c.key).where(idempotency_keys.c.organization_id == org.id)
        )
    assert [r["key"] for r in left] == ["new-1"]
    again = await org.post("/v1/api_keys", {"name": "idem old"}, **{"Idempotency-Key": "old-1"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers

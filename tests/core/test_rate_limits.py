import asyncio

import httpx
import pytest

from msgprofiles.app import create_app
from tests.conftest import create_org


@pytest.fixture
async def limited(settings, operator_key, request):
    """A second app on the same database with a budget of 3 requests a minute per key."""
    redis_url = getattr(request, "param", None)
    app = create_app(settings.model_copy(update={"rate_limit": "3/minute", "redis_url": redis_url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_each_key_has_its_own_budget_and_429_says_when_to_retry(
    limited, client, operator_key
):
    org = await create_org(client, operator_key, "Busy")
    statuses = []
    for _ in range(4):
        r = await limited.get("/v1/organization", headers={"x-api-key": org.admin_key})
        statuses.append(r.status_code)
    assert statuses == [200, 200, 200, 429]
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["RateLimit-Limit"] == "3" and r.headers["RateLimit-Remaining"] == "0"
    other = await limited.get("/v1/organization", headers={"x-api-key": org.member_key})
    assert other.status_code == 200 and other.headers["RateLimit-Remaining"] == "2"


async def test_a_rate_limited_write_changes_nothing(limited, client, operator_key):
    org = await create_org(client, operator_key, "Busy writer")
    for _ in range(3):
        await limited.get("/v1/organization", headers={"x-api-key": org.admin_key})
    r = await limited.patch(
        "/v1/organization", json={"name": "Nope"}, headers={"x-api-key": org.admin_key}
    )
    assert r.status_code == 429
    assert (await org.get("/v1/organization")).json()["data"]["name"] == "Busy writer"


@pytest.mark.parametrize("limited", ["redis://127.0.0.1:6379/0"], indirect=True)
async def test_redis_shares_one_budget_between_processes(limited, settings, client, operator_key):
    org = await create_org(client, operator_key, "Shared budget")
    second = create_app(
        settings.model_copy(
            update={"rate_limit": "3/minute", "redis_url": "redis://127.0.0.1:6379/0"}
        )
    )
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
            headers = {"x-api-key": org.admin_key}
            codes = [
                (await limited.get("/v1/organization", headers=headers)).status_code,
                (await other.get("/v1/organization", headers=headers)).status_code,
                (await limited.get("/v1/organization", headers=headers)).status_code,
                (await other.get("/v1/organization", headers=headers)).status_code,
            ]
    assert codes == [200, 200, 200, 429]


@pytest.fixture
async def guessed(settings):
    """A second app on the same database that lets 3 wrong keys a minute from one address."""
    app = create_app(settings.model_copy(update={"auth_failure_rate_limit": "3/minute"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_guessing_keys_from_one_address_is_rate_limited(guessed, client, operator_key):
    org = await create_org(client, operator_key, "Guessed")
    statuses = []
    for n in range(5):
        r = await guessed.get("/v1/organization", headers={"x-api-key": f"mpk_wrong{n}"})
        statuses.append(r.status_code)
    assert statuses == [401, 401, 401, 429, 429]
    assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    valid = await guessed.get("/v1/organization", headers={"x-api-key": org.admin_key})
    assert valid.status_code == 200, "a right key from the same address still works"


def test_the_window_slides_and_idle_identities_are_forgotten(monkeypatch):
    """The in-process counter (no Redis): the previous minute's requests weigh in proportion
    to how much of it the sliding window still covers."""
    from msgprofiles.core import ratelimit

    now = [6000.0]  # the start of a minute
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    limiter = ratelimit.RateLimiter("3/minute")

    async def hits(n: int) -> list[bool]:
        return [(await limiter.hit("key_a")).allowed for _ in range(n)]

    assert asyncio.run(hits(4)) == [True, True, True, False]
    now[0] += 60 + 30  # half way into the next minute: the last one weighs 3 * 0.5 = 1.5
    state = asyncio.run(limiter.hit("key_a"))
    assert state.allowed and state.remaining == 1  # 3 - ⌊1.5 + 1⌋
    assert asyncio.run(hits(2)) == [True, False]
    assert state.reset_after == 10  # one of the previous 3 stops weighing every 20 s
    now[0] += 120  # two minutes idle: nothing counts any more
    assert asyncio.run(hits(3)) == [True, True, True]
    for n in range(2000):  # many identities, most of them idle: the old ones are pruned
        now[0] += 0.1
        asyncio.run(limiter.hit(f"key_{n}"))
    assert len(limiter._local._windows) < 2000

from datetime import timedelta

from sqlalchemy import func, select, update

from msgprofiles.core.time import utcnow
from msgprofiles.webhooks.events import purge_events
from msgprofiles.webhooks.models import events, webhook_deliveries, webhook_delivery_attempts
from tests.conftest import Org, Receiver, drain
from tests.factories import subscribe


async def rename(org: Org, name: str) -> str:
    """Change the organization; the id of the event it makes."""
    await org.patch("/v1/organization", {"name": name})
    page = (await org.get("/v1/events", params={"type": "organization.updated"})).json()
    return str(page["data"][0]["id"])


async def age(database, event_ids: list[str], days: int) -> None:
    async with database.connect() as conn:
        await conn.execute(
            update(events)
            .where(events.c.id.in_(event_ids))
            .values(created_at=utcnow() - timedelta(days=days))
        )


async def counts(database, org: Org, event_id: str) -> tuple[int, int, int]:
    """The event's rows: (events, deliveries, delivery attempts)."""
    d, a = webhook_deliveries, webhook_delivery_attempts
    of_event = (d.c.organization_id == org.id) & (d.c.event_id == event_id)
    async with database.connect() as conn:
        return (
            await conn.fetch_value(select(func.count()).where(events.c.id == event_id)),
            await conn.fetch_value(select(func.count()).where(of_event)),
            await conn.fetch_value(
                select(func.count()).where(
                    a.c.organization_id == org.id,
                    a.c.delivery_id.in_(select(d.c.id).where(of_event)),
                )
            ),
        )


async def test_events_past_their_retention_go_with_their_deliveries(
    org: Org, receiver: Receiver, worker, database
):
    await subscribe(org, receiver)
    old = await rename(org, "Old")
    await drain(worker, lambda: len(receiver.requests) >= 1)
    paused = await subscribe(org, receiver)
    await org.post(f"/v1/webhook_subscriptions/{paused['id']}/pause")
    held = await rename(org, "Held")  # delivered to one subscription, held for the other
    await drain(worker, lambda: len(receiver.requests) >= 2)
    recent = await rename(org, "Recent")
    await drain(worker, lambda: len(receiver.requests) >= 3)
    assert await counts(database, org, old) == (1, 1, 1)
    await age(database, [old, held], days=31)

    assert await purge_events(database, timedelta(days=30)) >= 1
    assert await counts(database, org, old) == (0, 0, 0)
    assert (await org.get(f"/v1/events/{old}")).status_code == 404
    assert await counts(database, org, held) == (1, 2, 1), "a held delivery keeps its event"
    assert await counts(database, org, recent) == (1, 2, 1), "recent: kept"

    await org.post(f"/v1/webhook_subscriptions/{paused['id']}/resume")
    await drain(worker, lambda: len(receiver.requests) >= 5)
    await purge_events(database, timedelta(days=30))
    assert await counts(database, org, held) == (0, 0, 0), "delivered, it goes too"
    assert await counts(database, org, recent) == (1, 2, 2)


async def test_the_purge_works_in_batches(org: Org, database):
    names = [f"Batch {n}" for n in range(3)]
    ids = [await rename(org, name) for name in names]
    await age(database, ids, days=40)
    assert await purge_events(database, timedelta(days=30), batch=2) >= 3
    for event_id in ids:
        assert await counts(database, org, event_id) == (0, 0, 0)

"""What an organization's webhook deliveries did lately, for people to look at: deliveries
per hour by outcome, and how long events took from their commit to their delivery."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, cast, func, select

from msgprofiles.core.auth import Caller
from msgprofiles.db.database import Connection
from msgprofiles.webhooks.models import events, webhook_deliveries, webhook_delivery_attempts

_d, _a, _e = webhook_deliveries, webhook_delivery_attempts, events


@dataclass(frozen=True, slots=True)
class Delivered:
    at: datetime  # when the successful attempt answered
    seconds: float  # from the event's commit


def _hour(conn: Connection) -> object:
    """The hour a delivery was last updated, as text `YYYY-MM-DD HH` on both databases."""
    if conn.dialect == "sqlite":  # stored as sortable UTC text
        return func.substr(cast(_d.c.updated_at, String), 1, 13)
    return func.to_char(func.timezone("UTC", _d.c.updated_at), "YYYY-MM-DD HH24")


async def deliveries_by_hour(
    conn: Connection, caller: Caller, since: datetime
) -> dict[tuple[datetime, str], int]:
    """(hour, status) → deliveries last updated in that hour, since `since`."""
    hour = _hour(conn).label("hour")  # type: ignore[attr-defined]
    rows = await conn.fetch_all(
        select(hour, _d.c.status, func.count().label("deliveries"))
        .where(_d.c.organization_id == caller.organization_id, _d.c.updated_at >= since)
        .group_by(hour, _d.c.status)
    )
    counted = {}
    for row in rows:
        moment = datetime.strptime(str(row["hour"])[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
        counted[(moment, str(row["status"]))] = int(row["deliveries"])
    return counted


async def delivery_latencies(
    conn: Connection, caller: Caller, since: datetime, limit: int = 5000
) -> list[Delivered]:
    """The latest successful deliveries since `since` (at most `limit`), each with the time
    from its event's commit to the receiver's answer."""
    rows = await conn.fetch_all(
        select(_e.c.created_at, _a.c.started_at, _a.c.latency_ms)
        .select_from(_d)
        .join(_e, (_e.c.organization_id == _d.c.organization_id) & (_e.c.id == _d.c.event_id))
        .join(
            _a,
            (_a.c.organization_id == _d.c.organization_id)
            & (_a.c.delivery_id == _d.c.id)
            & (_a.c.error.is_(None)),
        )
        .where(
            _d.c.organization_id == caller.organization_id,
            _d.c.status == "succeeded",
            _d.c.updated_at >= since,
        )
        .order_by(_d.c.updated_at.desc())
        .limit(limit)
    )
    delivered = []
    for row in rows:
        answered = row["started_at"] + timedelta(milliseconds=row["latency_ms"] or 0)
        seconds = max((answered - row["created_at"]).total_seconds(), 0.0)
        delivered.append(Delivered(answered, seconds))
    return delivered

"""Numbers an organization leases, each assigned to at most one profile, and the choice of
the number to send from (the number pool)."""

import random
from collections.abc import Sequence
from typing import Any

import phonenumbers
from sqlalchemy import bindparam, insert, select, update

from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.tenancy import fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.core.validation import area_code_of, e164, region_of
from msgprofiles.db.database import Connection, IntegrityError, Row, prepare
from msgprofiles.numbers.models import phone_numbers, sticky_senders
from msgprofiles.numbers.schemas import PhoneNumber, PhoneNumberCreate, PhoneNumberUpdate
from msgprofiles.profiles.schemas import SelectedSender
from msgprofiles.profiles.service import require_profile
from msgprofiles.webhooks import callbacks
from msgprofiles.webhooks.events import emit, register_event_type

register_event_type("number.created", "A number was added to the organization.")
register_event_type("number.updated", "A number's health or profile changed.")
register_event_type("number.released", "A number was released.")
callbacks.tells_callbacks("number.updated", "number.released")

_t = phone_numbers
_live = _t.c.released_at.is_(None)
_get = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("num"), _live)
)
_insert = prepare(insert(_t))
_of_profile = prepare(
    select(_t).where(
        _t.c.organization_id == bindparam("org"), _t.c.profile_id == bindparam("prof"), _live
    )
)
_sticky = prepare(
    select(sticky_senders.c.number_id).where(
        sticky_senders.c.organization_id == bindparam("org"),
        sticky_senders.c.profile_id == bindparam("prof"),
        sticky_senders.c.recipient == bindparam("to"),
    )
)
_insert_sticky = prepare(insert(sticky_senders))
_update_sticky = prepare(
    update(sticky_senders)
    .where(
        sticky_senders.c.organization_id == bindparam("org"),
        sticky_senders.c.profile_id == bindparam("prof"),
        sticky_senders.c.recipient == bindparam("to"),
    )
    .values(number_id=bindparam("number_id"), updated_at=bindparam("now"))
)


def _to_model(row: Row) -> PhoneNumber:
    return PhoneNumber.model_validate(dict(row), strict=False)


def _normalize(data: PhoneNumberCreate) -> tuple[str, str]:
    """The stored number and its country; 400 when they do not make sense together."""

    def invalid(message: str) -> DomainError:
        return DomainError(ErrorCode.invalid_phone_number, message, details=[{"field": "number"}])

    if data.type == "short_code":
        if not data.number.isdigit() or not 3 <= len(data.number) <= 8:
            raise invalid("A short code is 3 to 8 digits.")
        if data.country is None:
            raise invalid("A short code needs its country.")
        return data.number, data.country
    try:
        number = e164(data.number)
    except ValueError as error:
        raise invalid(str(error)) from None
    parsed = phonenumbers.parse(number)
    is_toll_free = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE
    if is_toll_free != (data.type == "toll_free"):
        raise invalid(f"{number} is {'' if is_toll_free else 'not '}a toll-free number.")
    country = region_of(number) or ""
    if data.country is not None and data.country != country:
        raise invalid(f"{number} belongs to {country}, not {data.country}.")
    return number, country


async def _require(conn: Connection, caller: Caller, number_id: str) -> Row:
    return await fetch_owned(
        conn, caller, _get, ErrorCode.number_not_found, "number", num=number_id
    )


async def create_number(conn: Connection, caller: Caller, data: PhoneNumberCreate) -> PhoneNumber:
    number, country = _normalize(data)
    profile_id = data.profile_id or caller.profile_id
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": caller.organization_id,
        "id": new_id("num"),
        "number": number,
        "type": data.type,
        "country": country,
        "health": data.health,
        "profile_id": profile_id,
        "created_at": now,
        "updated_at": now,
        "released_at": None,
    }
    async with conn.transaction():
        if profile_id is not None:
            await require_profile(conn, caller, profile_id)
        try:
            async with conn.savepoint():
                await conn.execute(_insert, row)
        except IntegrityError:
            raise DomainError(
                ErrorCode.number_taken, f"{number} is already one of this organization's numbers."
            ) from None
        model = _to_model(row)
        await emit(
            conn, caller.organization_id, "number.created", model, profile_id=model.profile_id
        )
    return model


async def list_numbers(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    profile_id: str | None = None,
    types: Sequence[str] | None = None,
) -> Page[PhoneNumber]:
    """The live numbers, of one profile and of some `types` (long_code, toll_free,
    short_code) when asked."""
    statement = select(_t).where(_t.c.organization_id == caller.organization_id, _live)
    if types is not None:
        statement = statement.where(_t.c.type.in_(types))
    if profile_id is not None:
        await require_profile(conn, caller, profile_id)
        statement = statement.where(_t.c.profile_id == profile_id)
    elif caller.profile_id is not None:
        statement = statement.where(_t.c.profile_id == caller.profile_id)
    return (await fetch_page(conn, statement, _t.c.id, page)).map(_to_model)


async def get_number(conn: Connection, caller: Caller, number_id: str) -> PhoneNumber:
    return _to_model(await _require(conn, caller, number_id))


async def update_number(
    conn: Connection,
    caller: Caller,
    number_id: str,
    data: PhoneNumberUpdate,
    *,
    callback: callbacks.Callback | None = None,
) -> PhoneNumber:
    """Change the fields sent; the number's later changes go to `callback` when given."""
    changes = data.changes()
    changes.pop("callback_url", None)  # the route made it `callback`
    async with conn.transaction():
        row = await _require(conn, caller, number_id)
        if callback is not None:
            await callbacks.register(conn, caller.organization_id, number_id, callback)
        if changes.get("profile_id") is not None:
            await require_profile(conn, caller, changes["profile_id"])
        elif "profile_id" in changes:
            caller.require_organization_scope()  # unassigning leaves the caller's scope
        if not changes:
            return _to_model(row)
        changes["updated_at"] = utcnow()
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == number_id)
            .values(**changes)
        )
        model = _to_model({**row, **changes})
        await emit(
            conn, caller.organization_id, "number.updated", model, profile_id=model.profile_id
        )
    return model


async def release_number(conn: Connection, caller: Caller, number_id: str) -> PhoneNumber:
    """Give the number back: it leaves every list; its history stays."""
    async with conn.transaction():
        row = await _require(conn, caller, number_id)
        now = utcnow()
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == number_id)
            .values(released_at=now, updated_at=now)
        )
        model = _to_model({**row, "updated_at": now})
        await emit(
            conn, caller.organization_id, "number.released", model, profile_id=model.profile_id
        )
    return model


_by_number = select(_t).where(
    _t.c.organization_id == bindparam("org"), _t.c.number == bindparam("number"), _live
)
_read_by_number = prepare(_by_number)
# Locked for a change: two requests assigning one number are taken one after the other.
_lock_by_number = prepare(_by_number.with_for_update())


async def numbers_by_value(
    conn: Connection, caller: Caller, numbers: list[str], *, lock: bool = False
) -> list[Row]:
    """The organization's numbers, by their E.164 value, in the order given; 404 naming the
    first that is not one of them. `lock`: to change them, in the caller's transaction."""
    caller.require_organization_scope()
    statement = _lock_by_number if lock else _read_by_number
    rows = []
    for number in numbers:
        row = await conn.fetch_one(statement, {"org": caller.organization_id, "number": number})
        if row is None:
            raise DomainError(
                ErrorCode.number_not_found,
                f"{number} is not one of this organization's numbers.",
                details=[{"field": "numbers", "value": number}],
            )
        rows.append(row)
    return rows


async def find_number(conn: Connection, caller: Caller, number: str) -> PhoneNumber:
    """One of the organization's numbers by its E.164 value, or 404."""
    [row] = await numbers_by_value(conn, caller, [number])
    return _to_model(row)


async def assign_numbers(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    numbers: list[str],
    *,
    callback: callbacks.Callback | None = None,
) -> list[PhoneNumber]:
    """Assign these numbers (E.164) to the profile, all or none: a number assigned to another
    profile is a 409 (unassign it there first). The numbers' later changes go to `callback`
    (to none without one: an earlier request's callback is about another assignment)."""
    async with conn.transaction():
        await require_profile(conn, caller, profile_id)
        rows = await numbers_by_value(conn, caller, numbers, lock=True)
        for row in rows:
            if row["profile_id"] not in (None, profile_id):
                raise DomainError(
                    ErrorCode.number_in_use,
                    f"{row['number']} is assigned to another profile ({row['profile_id']}).",
                    details=[{"field": "numbers", "value": row["number"]}],
                )
        assign = PhoneNumberUpdate(profile_id=profile_id)
        if callback is None:
            for row in rows:
                await callbacks.forget(conn, caller.organization_id, row["id"])
        return [
            await update_number(conn, caller, row["id"], assign, callback=callback) for row in rows
        ]


async def unassign_number(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    number: str,
    *,
    callback: callbacks.Callback | None = None,
) -> PhoneNumber:
    """Take the number (E.164) off the profile; 404 unless it is assigned there. Its later
    changes go to `callback` (to none without one)."""
    async with conn.transaction():
        [row] = await numbers_by_value(conn, caller, [number], lock=True)
        if row["profile_id"] != profile_id:
            raise DomainError(
                ErrorCode.number_not_found,
                f"{number} is not assigned to this profile.",
                details=[{"field": "number", "value": number}],
            )
        unassign = PhoneNumberUpdate(profile_id=None)
        if callback is None:
            await callbacks.forget(conn, caller.organization_id, row["id"])
        return await update_number(conn, caller, row["id"], unassign, callback=callback)


def _pick(candidates: list[Row], pool: dict[str, Any], rng: random.Random) -> Row:
    """Long code or toll free by the pool's weights (a type with no number has no weight),
    then a number of that type uniformly; short codes only when nothing else is left."""
    by_type = {
        kind: [c for c in candidates if c["type"] == kind] for kind in ("long_code", "toll_free")
    }
    weights = {"long_code": pool["long_code_weight"], "toll_free": pool["toll_free_weight"]}
    kinds = [kind for kind in by_type if by_type[kind]]
    if not kinds:
        return rng.choice(candidates)
    chosen_weights = [weights[kind] for kind in kinds]
    if sum(chosen_weights) == 0:
        chosen_weights = [len(by_type[kind]) for kind in kinds]
    kind = rng.choices(kinds, weights=chosen_weights)[0]
    return rng.choice(by_type[kind])


async def select_sender(
    conn: Connection, caller: Caller, profile_id: str, to: str, rng: random.Random
) -> SelectedSender:
    """The number to send a message to `to` from, by the profile's messaging settings."""
    profile = await require_profile(conn, caller, profile_id)
    settings = profile["messaging"]
    pool = settings["number_pool"]
    if not settings["enabled"]:
        raise DomainError(ErrorCode.messaging_disabled, "Messaging is disabled for this profile.")
    country = region_of(to)
    allowed = settings["whitelisted_destinations"]
    if allowed and country not in allowed:
        raise DomainError(
            ErrorCode.destination_not_allowed,
            f"This profile may not send to {country}; allowed: {', '.join(allowed)}.",
        )
    params = {"org": caller.organization_id, "prof": profile_id, "to": to}
    candidates = await conn.fetch_all(_of_profile, params)
    if not pool["enabled"]:
        preferred = [c for c in candidates if c["number"] == profile["sending_phone_number"]]
        candidates = preferred or sorted(candidates, key=lambda c: c["id"])[:1]
    if pool["skip_unhealthy"]:
        candidates = [c for c in candidates if c["health"] == "healthy"]
    if not candidates:
        raise DomainError(
            ErrorCode.no_sender_available, "This profile has no number it can send from."
        )

    if pool["sticky_sender"]:
        previous = await conn.fetch_value(_sticky, params)
        for candidate in candidates:
            if candidate["id"] == previous:
                return _selected(candidate, sticky=True, matched="none")

    matched = "none"
    if pool["geomatch"]:
        area = area_code_of(to)
        local = [
            c
            for c in candidates
            if area and c["type"] != "short_code" and area_code_of(c["number"]) == area
        ]
        national = [c for c in candidates if c["country"] == country]
        if local:
            candidates, matched = local, "area_code"
        elif national:
            candidates, matched = national, "country"
    chosen = _pick(candidates, pool, rng)
    if pool["sticky_sender"]:
        async with conn.transaction():
            sticky = {**params, "number_id": chosen["id"], "now": utcnow()}
            if not await conn.execute(_update_sticky, sticky):
                await conn.execute(
                    _insert_sticky,
                    {
                        "organization_id": caller.organization_id,
                        "profile_id": profile_id,
                        "recipient": to,
                        "number_id": chosen["id"],
                        "updated_at": sticky["now"],
                    },
                )
    return _selected(chosen, sticky=False, matched=matched)


def _selected(row: Row, *, sticky: bool, matched: str) -> SelectedSender:
    return SelectedSender.model_validate(
        {
            "number_id": row["id"],
            "number": row["number"],
            "type": row["type"],
            "sticky": sticky,
            "matched": matched,
        }
    )


_profile_numbers = prepare(
    select(_t.c.number).where(
        _t.c.organization_id == bindparam("org"),
        _t.c.profile_id == bindparam("prof"),
        _t.c.released_at.is_(None),
    )
)


_assigned = prepare(
    select(_t)
    .where(_t.c.organization_id == bindparam("org"), _t.c.profile_id == bindparam("prof"), _live)
    .order_by(_t.c.id.desc())
)


async def assigned_numbers(conn: Connection, caller: Caller, profile_id: str) -> list[PhoneNumber]:
    """Every live number of a profile the caller has already read, newest first, in one
    prepared query (a dialect that shows a profile with its numbers)."""
    rows = await conn.fetch_all(_assigned, {"org": caller.organization_id, "prof": profile_id})
    return [_to_model(row) for row in rows]


async def numbers_of_profile(conn: Connection, organization_id: str, profile_id: str) -> list[str]:
    """The numbers assigned to a profile (its SMS channel, with its sending number)."""
    rows = await conn.fetch_all(_profile_numbers, {"org": organization_id, "prof": profile_id})
    return [row["number"] for row in rows]

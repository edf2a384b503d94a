"""Contacts: each end-user once (a master profile keyed by the organization's own id), their
app profiles per channel application with devices, their consent per channel, and the
organization's schema of attributes that every write is checked against. Erasure removes
every trace of the person: rows, the data of events about them, stored replay answers."""

import contextlib
import itertools
import math
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError
from sqlalchemy import bindparam, delete, insert, or_, select, update

from msgprofiles.contacts.models import (
    contact_app_profiles,
    contact_attributes,
    contact_consents,
    contacts,
)
from msgprofiles.contacts.schemas import (
    CHANNEL_FLAGS,
    CORE_ATTRIBUTES,
    AppProfile,
    AppProfileCreate,
    AppProfileUpdate,
    BatchError,
    BatchItem,
    BatchOutcome,
    BatchResult,
    Channel,
    Consent,
    ConsentChange,
    Contact,
    ContactAttribute,
    ContactAttributeCreate,
    ContactAttributeUpdate,
    ContactCreate,
    ContactExport,
    ContactUpdate,
    Erased,
)
from msgprofiles.core import idempotency
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import STATUS, DomainError, ErrorCode, not_found
from msgprofiles.core.http import validation_error
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, escape_like, fetch_page
from msgprofiles.core.tenancy import count_by, fetch_matching
from msgprofiles.core.time import utcnow
from msgprofiles.core.validation import e164
from msgprofiles.db.database import Connection, IntegrityError, Row, prepare
from msgprofiles.webhooks.events import (
    emit,
    emit_many,
    events_about,
    redact_events,
    register_event_type,
)

for _name, _text in {
    "contact.created": "A contact was created.",
    "contact.updated": "A contact's details or attributes changed.",
    "contact.erased": "A contact and everything about it were erased (only its id remains).",
    "contact.opted_in": "A contact opted in to a channel.",
    "contact.opted_out": "A contact opted out of a channel.",
    "contact.app_profile.created": "A contact's app profile was created.",
    "contact.app_profile.updated": "A contact's app profile changed.",
    "contact.app_profile.deleted": "A contact's app profile or one of its devices was deleted.",
}.items():
    register_event_type(_name, _text)

_c, _a, _p, _k = contacts, contact_attributes, contact_app_profiles, contact_consents
_get = prepare(
    select(_c).where(_c.c.organization_id == bindparam("org"), _c.c.id == bindparam("ct"))
)
_by = {
    column: prepare(
        select(_c)
        .where(_c.c.organization_id == bindparam("org"), _c.c[column] == bindparam("value"))
        .order_by(_c.c.id)
        .limit(1)
    )
    for column in ("external_id", "msisdn", "email")
}
_insert = prepare(insert(_c))
_by_app_key = prepare(
    select(_c)
    .join(_p, (_p.c.organization_id == _c.c.organization_id) & (_p.c.contact_id == _c.c.id))
    .where(
        _p.c.organization_id == bindparam("org"),
        _p.c.app_id == bindparam("app"),
        _p.c.key == bindparam("key"),
    )
)
_schema = prepare(select(_a).where(_a.c.organization_id == bindparam("org")).order_by(_a.c.name))
_get_profile = prepare(
    select(_p).where(
        _p.c.organization_id == bindparam("org"),
        _p.c.contact_id == bindparam("ct"),
        _p.c.id == bindparam("cap"),
    )
)
_profiles_of = prepare(
    select(_p)
    .where(_p.c.organization_id == bindparam("org"), _p.c.contact_id == bindparam("ct"))
    .order_by(_p.c.id)
)
_consents_of = prepare(
    select(_k)
    .where(_k.c.organization_id == bindparam("org"), _k.c.contact_id == bindparam("ct"))
    .order_by(_k.c.channel)
)
_emails = TypeAdapter(EmailStr)


# The attribute schema ------------------------------------------------------------------------


def _core_attributes() -> list[ContactAttribute]:
    types = {**CORE_ATTRIBUTES, **dict.fromkeys(CHANNEL_FLAGS, "boolean")}
    return [
        ContactAttribute(
            name=name,
            type=kind,
            values=None,
            required=False,
            description=None,
            core=True,
            created_at=None,
            updated_at=None,
        )
        for name, kind in types.items()
    ]


def _attribute(row: Row | dict[str, Any]) -> ContactAttribute:
    return ContactAttribute.model_validate({**dict(row), "core": False}, strict=False)


async def attribute_definitions(
    conn: Connection, organization_id: str
) -> dict[str, ContactAttribute]:
    """Every attribute a contact of the organization may have, by name, but the core columns."""
    flags = {a.name: a for a in _core_attributes() if a.name in CHANNEL_FLAGS}
    rows = await conn.fetch_all(_schema, {"org": organization_id})
    return flags | {row["name"]: _attribute(row) for row in rows}


async def list_attributes(conn: Connection, caller: Caller) -> list[ContactAttribute]:
    rows = await conn.fetch_all(_schema, {"org": caller.organization_id})
    return [*_core_attributes(), *(_attribute(row) for row in rows)]


async def create_attribute(
    conn: Connection, caller: Caller, data: ContactAttributeCreate
) -> ContactAttribute:
    caller.require_organization_scope()
    if data.name in CORE_ATTRIBUTES or data.name in CHANNEL_FLAGS or data.name == "external_id":
        raise DomainError(ErrorCode.contact_attribute_exists, f"{data.name!r} is built in.")
    now = utcnow()
    row = {**data.model_dump(), "organization_id": caller.organization_id}
    row |= {"created_at": now, "updated_at": now}
    try:
        async with conn.transaction():
            await conn.execute(insert(_a), row)
    except IntegrityError:
        raise DomainError(
            ErrorCode.contact_attribute_exists, f"The attribute {data.name!r} exists already."
        ) from None
    return _attribute(row)


async def _require_attribute(conn: Connection, caller: Caller, name: str) -> Row:
    row = await conn.fetch_one(
        select(_a).where(_a.c.organization_id == caller.organization_id, _a.c.name == name)
    )
    if row is None:
        raise not_found(ErrorCode.contact_attribute_not_found, "contact attribute", name)
    return row


async def get_attribute(conn: Connection, caller: Caller, name: str) -> ContactAttribute:
    for core in _core_attributes():
        if core.name == name:
            return core
    return _attribute(await _require_attribute(conn, caller, name))


async def update_attribute(
    conn: Connection, caller: Caller, name: str, data: ContactAttributeUpdate
) -> ContactAttribute:
    caller.require_organization_scope()
    changes = data.changes()
    async with conn.transaction():
        row = await _require_attribute(conn, caller, name)
        if "values" in changes:
            if row["type"] != "enum":
                raise invalid("values", "only an enum has values")
            if missing := set(row["values"]) - set(changes["values"]):
                raise invalid("values", f"stored values stay allowed: {sorted(missing)}")
        if not changes:
            return _attribute(row)
        changes["updated_at"] = utcnow()
        await conn.execute(
            update(_a)
            .where(_a.c.organization_id == caller.organization_id, _a.c.name == name)
            .values(**changes)
        )
    return _attribute({**row, **changes})


def invalid(field: str, message: str, kind: str = "value_error") -> DomainError:
    return DomainError(
        ErrorCode.validation_error,
        f"{field}: {message}.",
        details=[{"field": field, "type": kind, "message": message}],
    )


def typed(definition: ContactAttribute, name: str, value: Any) -> Any:
    """The value as stored, or a 400 naming the attribute."""
    field, kind = f"attributes.{name}", definition.type

    def wrong(expected: str) -> DomainError:
        return invalid(field, f"expected {expected}", "wrong_type")

    if kind == "boolean":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong("a number")
        return value
    if not isinstance(value, str):
        raise wrong("a string")
    if kind == "string":
        if len(value) > 1000:
            raise invalid(field, "at most 1000 characters")
        return value
    if kind == "enum":
        if value not in (definition.values or ()):
            raise wrong(f"one of {definition.values}")
        return value
    if kind == "date":
        try:
            return (
                date.fromisoformat(value).isoformat()
                if len(value) == 10
                else datetime.fromisoformat(value).isoformat()
            )
        except ValueError:
            raise wrong("an ISO 8601 date or date-time") from None
    if kind == "email":
        try:
            return str(_emails.validate_python(value))
        except ValidationError:
            raise wrong("an email address") from None
    try:  # phone
        return e164(value)
    except ValueError:
        raise wrong("a phone number in E.164") from None


def from_text(definition: ContactAttribute, name: str, written: str) -> Any:
    """A value written as text (a query parameter, a CSV cell) read by the attribute's
    type, then checked as `typed` does."""
    if definition.type == "boolean":
        if written.lower() not in ("true", "false"):
            raise invalid(f"attributes.{name}", "expected true or false", "wrong_type")
        return written.lower() == "true"
    if definition.type == "number":
        with contextlib.suppress(ValueError):
            return int(written)
        with contextlib.suppress(ValueError):
            if math.isfinite(number := float(written)):
                return number
        raise invalid(f"attributes.{name}", "expected a number", "wrong_type")
    return typed(definition, name, written)


Definitions = dict[str, ContactAttribute]


async def _checked_attributes(
    conn: Connection,
    organization_id: str,
    given: dict[str, Any],
    stored: dict[str, Any] | None = None,
    definitions: Definitions | None = None,
) -> dict[str, Any]:
    """`applied_attributes`, with the schema read unless given."""
    if definitions is None:
        definitions = await attribute_definitions(conn, organization_id)
    return applied_attributes(definitions, given, stored)


def applied_attributes(
    definitions: Definitions, given: dict[str, Any], stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`stored` with `given` applied (null removes a key), checked against the schema: an
    unknown attribute, a wrong type or a required one missing is a 400 naming it."""
    result = dict(stored or {})
    for name, value in given.items():
        definition = definitions.get(name)
        if definition is None:
            raise invalid(f"attributes.{name}", "no such attribute", "unknown_attribute")
        if value is None:
            result.pop(name, None)
        else:
            result[name] = typed(definition, name, value)
    for name, definition in definitions.items():
        if definition.required and name not in result:
            raise invalid(f"attributes.{name}", "required", "missing")
    return result


# Contacts -------------------------------------------------------------------------------------


def _contact(row: Row | dict[str, Any]) -> Contact:
    return Contact.model_validate(dict(row), strict=False)


def normalised_msisdn(value: str | None) -> str | None:
    """Any written international form in E.164 (digits without `+` are read as international,
    as IMIconnect's examples write them)."""
    if value is None:
        return None
    digits = "".join(c for c in value if c not in " -().")
    try:
        return e164(digits if digits.startswith("+") else "+" + digits)
    except ValueError as error:
        raise DomainError(
            ErrorCode.invalid_phone_number,
            f"msisdn: {error}",
            details=[{"field": "msisdn", "type": "phone_number", "message": str(error)}],
        ) from None


def _external_id_taken(external_id: str) -> DomainError:
    return DomainError(
        ErrorCode.external_id_taken,
        f"Another contact already has the external id {external_id!r}.",
        details=[{"field": "external_id"}],
    )


async def _require(conn: Connection, caller: Caller, contact_id: str) -> Row:
    row = await conn.fetch_one(_get, {"org": caller.organization_id, "ct": contact_id})
    if row is None:
        raise not_found(ErrorCode.contact_not_found, "contact", contact_id)
    return row


async def _new_row(
    conn: Connection, caller: Caller, data: ContactCreate, definitions: Definitions | None
) -> dict[str, Any]:
    """The row of a new contact, checked (the schema is read unless given)."""
    now = utcnow()
    return {
        "organization_id": caller.organization_id,
        "id": new_id("ct"),
        "external_id": data.external_id,
        "name": data.name,
        "email": data.email,
        "msisdn": normalised_msisdn(data.msisdn),
        "attributes": await _checked_attributes(
            conn, caller.organization_id, data.attributes, definitions=definitions
        ),
        "created_at": now,
        "updated_at": now,
    }


async def create_contact(
    conn: Connection, caller: Caller, data: ContactCreate, definitions: Definitions | None = None
) -> Contact:
    caller.require_organization_scope()
    row = await _new_row(conn, caller, data, definitions)
    contact = _contact(row)
    try:
        async with conn.transaction():
            await conn.execute(_insert, row)
            await emit(conn, caller.organization_id, "contact.created", contact)
    except IntegrityError:
        # The one constraint the insert can break: the unique external id. No savepoint of
        # its own (two round trips a contact): a caller that joins this transaction and
        # carries on after a failure already wraps each write in one (batches do).
        raise _external_id_taken(str(data.external_id)) from None
    return contact


async def list_contacts(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    search: str | None = None,
    equal: dict[str, str] | None = None,
) -> Page[Contact]:
    """Newest first; `search` in name, email, msisdn and external id; `equal`: attribute →
    value as written in a query (read by the attribute's type)."""
    statement = select(_c).where(_c.c.organization_id == caller.organization_id)
    if search:
        pattern = f"%{escape_like(search)}%"
        statement = statement.where(
            or_(
                *(
                    _c.c[n].ilike(pattern, escape="\\")
                    for n in ("name", "email", "msisdn", "external_id")
                )
            )
        )
    definitions = await attribute_definitions(conn, caller.organization_id) if equal else {}
    for name, written in (equal or {}).items():
        if name in CORE_ATTRIBUTES or name == "external_id":
            value = normalised_msisdn(written) if name == "msisdn" else written
            statement = statement.where(_c.c[name] == value)
            continue
        definition = definitions.get(name)
        if definition is None:
            raise invalid(f"attribute.{name}", "no such attribute", "unknown_attribute")
        stored, value = _c.c.attributes[name], from_text(definition, name, written)
        if definition.type == "boolean":
            statement = statement.where(stored.as_boolean() == value)
        elif definition.type == "number":
            statement = statement.where(stored.as_float() == value)
        else:
            statement = statement.where(stored.as_string() == value)
    return (await fetch_page(conn, statement, _c.c.id, page)).map(_contact)


async def count_contacts(conn: Connection, caller: Caller) -> int:
    """How many contacts the organization has."""
    counted = await count_by(conn, caller.organization_id, _c.c.organization_id)
    return sum(counted.values())


async def get_contact(conn: Connection, caller: Caller, contact_id: str) -> Contact:
    return _contact(await _require(conn, caller, contact_id))


async def lookup_contact(
    conn: Connection,
    caller: Caller,
    *,
    external_id: str | None = None,
    msisdn: str | None = None,
    email: str | None = None,
    app_id: str | None = None,
    key: str | None = None,
) -> Contact:
    """The contact by one of its keys, each an indexed read."""
    org = caller.organization_id
    if app_id is not None and key is not None:
        row = await conn.fetch_one(_by_app_key, {"org": org, "app": app_id, "key": key})
    else:
        given = {"external_id": external_id, "msisdn": normalised_msisdn(msisdn), "email": email}
        chosen = [(column, value) for column, value in given.items() if value is not None]
        if len(chosen) != 1:
            raise invalid("lookup", "give one of external_id, msisdn, email, or app_id with key")
        [(column, value)] = chosen
        row = await conn.fetch_one(_by[column], {"org": org, "value": value})
    if row is None:
        raise DomainError(ErrorCode.contact_not_found, "No contact has that key.")
    return _contact(row)


async def update_contact(
    conn: Connection,
    caller: Caller,
    contact_id: str,
    data: ContactUpdate,
    definitions: Definitions | None = None,
) -> Contact:
    caller.require_organization_scope()
    changes = data.changes()
    if "msisdn" in changes:
        changes["msisdn"] = normalised_msisdn(changes["msisdn"])
    try:
        async with conn.transaction():
            row = await _require(conn, caller, contact_id)
            if "attributes" in changes:
                changes["attributes"] = await _checked_attributes(
                    conn,
                    caller.organization_id,
                    changes["attributes"] or {},
                    row["attributes"],
                    definitions,
                )
            if not changes:
                return _contact(row)
            changes["updated_at"] = utcnow()
            await conn.execute(
                update(_c)
                .where(_c.c.organization_id == caller.organization_id, _c.c.id == contact_id)
                .values(**changes)
            )
            contact = _contact({**row, **changes})
            await emit(conn, caller.organization_id, "contact.updated", contact)
    except IntegrityError:  # the unique external id, as in create_contact
        raise _external_id_taken(str(changes.get("external_id"))) from None
    return contact


async def erase_contact(conn: Connection, caller: Caller, contact_id: str) -> None:
    """Remove the person: the contact, its app profiles and devices, its consent; the events
    about it keep only ids; replay answers that name it are forgotten. A `contact.erased`
    event says so, with the id alone."""
    caller.require_organization_scope()
    org = caller.organization_id
    async with conn.transaction():
        await _require(conn, caller, contact_id)
        for table in (_k, _p):
            await conn.execute(
                delete(table).where(
                    table.c.organization_id == org, table.c.contact_id == contact_id
                )
            )
        await conn.execute(delete(_c).where(_c.c.organization_id == org, _c.c.id == contact_id))
        await redact_events(conn, org, "contact.", contact_id)
        await idempotency.forget_mentioning(conn, org, contact_id)
        await emit(conn, org, "contact.erased", {"id": contact_id})


async def export_contact(conn: Connection, caller: Caller, contact_id: str) -> ContactExport:
    contact = _contact(await _require(conn, caller, contact_id))
    params = {"org": caller.organization_id, "ct": contact_id}
    return ContactExport(
        contact=contact,
        app_profiles=[_app_profile(r) for r in await conn.fetch_all(_profiles_of, params)],
        consents=[_consent(r) for r in await conn.fetch_all(_consents_of, params)],
        events=await events_about(conn, caller.organization_id, "contact.", contact_id),
    )


# Batches --------------------------------------------------------------------------------------


def _parsed(model: type[BaseModel], values: dict[str, Any] | None) -> Any:
    try:
        return model.model_validate(values or {})
    except ValidationError as error:
        raise validation_error(error.errors()) from None


async def _target(conn: Connection, caller: Caller, item: BatchItem) -> str:
    if item.id is not None:
        return item.id
    if item.external_id is not None:
        return (await lookup_contact(conn, caller, external_id=item.external_id)).id
    raise invalid("id", "update and delete name the contact by id or external_id", "missing")


async def _apply(
    conn: Connection, caller: Caller, item: BatchItem, definitions: Definitions
) -> tuple[int, BaseModel]:
    if item.action == "create":
        data = _parsed(ContactCreate, item.contact)
        return 201, await create_contact(conn, caller, data, definitions)
    contact_id = await _target(conn, caller, item)
    if item.action == "update":
        changes = _parsed(ContactUpdate, item.contact)
        return 200, await update_contact(conn, caller, contact_id, changes, definitions)
    await erase_contact(conn, caller, contact_id)
    return 200, Erased(id=contact_id)


def _failed(index: int, error: DomainError) -> BatchResult:
    failure = BatchError(code=error.code.value, message=error.message, details=error.details)
    return BatchResult(index=index, status=STATUS[error.code], error=failure)


async def _one(
    conn: Connection, caller: Caller, index: int, item: BatchItem, definitions: Definitions
) -> BatchResult:
    """An item on its own: undone alone (a savepoint) if it fails."""
    try:
        async with conn.savepoint():
            status, data = await _apply(conn, caller, item, definitions)
    except DomainError as error:
        return _failed(index, error)
    return BatchResult(index=index, status=status, data=data)


async def _create_run(
    conn: Connection, caller: Caller, run: list[tuple[int, BatchItem]], definitions: Definitions
) -> list[BatchResult]:
    """Consecutive creates in bulk, answered as one by one would: each is checked, an external
    id already taken (or taken by an earlier item of the run) is a 409, and the rest are
    inserted with their events in a few statements instead of a few each. If another writer
    takes an external id meanwhile, the run is done again one by one."""
    answers: dict[int, BatchResult] = {}
    rows: dict[int, dict[str, Any]] = {}
    for index, item in run:
        try:
            rows[index] = await _new_row(
                conn, caller, _parsed(ContactCreate, item.contact), definitions
            )
        except DomainError as error:
            answers[index] = _failed(index, error)
    wanted = [row["external_id"] for row in rows.values() if row["external_id"] is not None]
    found = await fetch_matching(
        conn, select(_c.c.external_id), _c.c.external_id, caller.organization_id, wanted
    )
    taken = {row["external_id"] for row in found}
    for index, row in list(rows.items()):
        if (external_id := row["external_id"]) is not None:
            if external_id in taken:
                answers[index] = _failed(index, _external_id_taken(external_id))
                del rows[index]
            taken.add(external_id)
    created = {index: _contact(row) for index, row in rows.items()}
    try:
        async with conn.savepoint():
            await conn.execute_many(_insert, list(rows.values()))
            await emit_many(conn, caller.organization_id, "contact.created", list(created.values()))
    except IntegrityError:
        return [await _one(conn, caller, index, item, definitions) for index, item in run]
    answers |= {
        index: BatchResult(index=index, status=201, data=contact)
        for index, contact in created.items()
    }
    return [answers[index] for index, _ in run]


async def run_batch(conn: Connection, caller: Caller, items: list[BatchItem]) -> BatchOutcome:
    """Up to 100 creates, updates and deletes, in order, each answered on its own: a failing
    item is undone alone and the others are kept, all in one transaction. Consecutive
    creates are written in bulk (the common batch: a sync of new contacts)."""
    caller.require_organization_scope()
    results: list[BatchResult] = []
    async with conn.transaction():
        definitions = await attribute_definitions(conn, caller.organization_id)
        indexed = list(enumerate(items))
        for is_create, group in itertools.groupby(indexed, lambda pair: pair[1].action == "create"):
            if is_create:
                results += await _create_run(conn, caller, list(group), definitions)
            else:
                results += [await _one(conn, caller, i, item, definitions) for i, item in group]
    failed = sum(result.error is not None for result in results)
    return BatchOutcome(succeeded=len(results) - failed, failed=failed, results=results)


# App profiles --------------------------------------------------------------------------------


def _app_profile(row: Row | dict[str, Any]) -> AppProfile:
    return AppProfile.model_validate(dict(row), strict=False)


def _app_profile_taken(data: AppProfileCreate | AppProfileUpdate) -> DomainError:
    return DomainError(
        ErrorCode.app_profile_taken,
        "The contact has a profile for this app already, or another contact has this key.",
    )


async def create_app_profile(
    conn: Connection, caller: Caller, contact_id: str, data: AppProfileCreate
) -> AppProfile:
    caller.require_organization_scope()
    now = utcnow()
    row: dict[str, Any] = {
        **data.model_dump(),
        "organization_id": caller.organization_id,
        "id": new_id("cap"),
        "contact_id": contact_id,
        "created_at": now,
        "updated_at": now,
    }
    async with conn.transaction():
        await _require(conn, caller, contact_id)
        try:
            async with conn.savepoint():
                await conn.execute(insert(_p), row)
        except IntegrityError:
            raise _app_profile_taken(data) from None
        profile = _app_profile(row)
        await emit(conn, caller.organization_id, "contact.app_profile.created", profile)
    return profile


async def list_app_profiles(conn: Connection, caller: Caller, contact_id: str) -> list[AppProfile]:
    await _require(conn, caller, contact_id)
    rows = await conn.fetch_all(_profiles_of, {"org": caller.organization_id, "ct": contact_id})
    return [_app_profile(row) for row in rows]


async def _require_app_profile(
    conn: Connection, caller: Caller, contact_id: str, app_profile_id: str
) -> Row:
    await _require(conn, caller, contact_id)
    params = {"org": caller.organization_id, "ct": contact_id, "cap": app_profile_id}
    row = await conn.fetch_one(_get_profile, params)
    if row is None:
        raise not_found(ErrorCode.app_profile_not_found, "app profile", app_profile_id)
    return row


async def get_app_profile(
    conn: Connection, caller: Caller, contact_id: str, app_profile_id: str
) -> AppProfile:
    return _app_profile(await _require_app_profile(conn, caller, contact_id, app_profile_id))


async def update_app_profile(
    conn: Connection, caller: Caller, contact_id: str, app_profile_id: str, data: AppProfileUpdate
) -> AppProfile:
    caller.require_organization_scope()
    changes = data.changes()
    async with conn.transaction():
        row = await _require_app_profile(conn, caller, contact_id, app_profile_id)
        if "attributes" in changes:
            changes["attributes"] = {**row["attributes"], **changes["attributes"]}
        if "devices" in changes:
            devices = {d["device_id"]: d for d in row["devices"]}
            devices |= {d.device_id: d.model_dump() for d in changes["devices"]}
            if len(devices) > 50:
                raise invalid("devices", "at most 50 devices")
            changes["devices"] = list(devices.values())
        if not changes:
            return _app_profile(row)
        changes["updated_at"] = utcnow()
        try:
            async with conn.savepoint():
                await conn.execute(
                    update(_p)
                    .where(_p.c.organization_id == caller.organization_id, _p.c.id == row["id"])
                    .values(**changes)
                )
        except IntegrityError:
            raise _app_profile_taken(data) from None
        profile = _app_profile({**row, **changes})
        await emit(conn, caller.organization_id, "contact.app_profile.updated", profile)
    return profile


async def delete_app_profile(
    conn: Connection, caller: Caller, contact_id: str, app_profile_id: str
) -> AppProfile:
    caller.require_organization_scope()
    async with conn.transaction():
        row = await _require_app_profile(conn, caller, contact_id, app_profile_id)
        await conn.execute(
            delete(_p).where(_p.c.organization_id == caller.organization_id, _p.c.id == row["id"])
        )
        profile = _app_profile(row)
        await emit(conn, caller.organization_id, "contact.app_profile.deleted", profile)
    return profile


async def delete_device(
    conn: Connection, caller: Caller, contact_id: str, app_profile_id: str, device_id: str
) -> AppProfile:
    """Remove one device; an unknown one is a 404 and nothing changes."""
    caller.require_organization_scope()
    async with conn.transaction():
        row = await _require_app_profile(conn, caller, contact_id, app_profile_id)
        kept = [d for d in row["devices"] if d["device_id"] != device_id]
        if len(kept) == len(row["devices"]):
            raise not_found(ErrorCode.device_not_found, "device", device_id)
        now = utcnow()
        await conn.execute(
            update(_p)
            .where(_p.c.organization_id == caller.organization_id, _p.c.id == row["id"])
            .values(devices=kept, updated_at=now)
        )
        profile = _app_profile({**row, "devices": kept, "updated_at": now})
        await emit(conn, caller.organization_id, "contact.app_profile.updated", profile)
    return profile


# Consent --------------------------------------------------------------------------------------


def _consent(row: Row | dict[str, Any]) -> Consent:
    return Consent.model_validate(dict(row), strict=False)


async def list_consents(conn: Connection, caller: Caller, contact_id: str) -> list[Consent]:
    await _require(conn, caller, contact_id)
    rows = await conn.fetch_all(_consents_of, {"org": caller.organization_id, "ct": contact_id})
    return [_consent(row) for row in rows]


async def set_consent(
    conn: Connection, caller: Caller, contact_id: str, channel: Channel, data: ConsentChange
) -> Consent:
    """Record an opt-in or opt-out; a change emits `contact.opted_in|opted_out`, the same
    status again changes nothing."""
    caller.require_organization_scope()
    org = caller.organization_id
    async with conn.transaction():
        await _require(conn, caller, contact_id)
        key = (
            (_k.c.organization_id == org)
            & (_k.c.contact_id == contact_id)
            & (_k.c.channel == channel)
        )
        current = await conn.fetch_one(select(_k).where(key))
        if current is not None and current["status"] == data.status:
            return _consent(current)
        row = {
            "organization_id": org,
            "contact_id": contact_id,
            "channel": channel,
            "status": data.status,
            "source": data.source,
            "changed_at": utcnow(),
        }
        if current is None:
            await conn.execute(insert(_k), row)
        else:
            await conn.execute(update(_k).where(key).values(**row))
        consent = _consent(row)
        await emit(conn, org, f"contact.{data.status}", consent)
    return consent


_opted_out = prepare(
    select(_k.c.contact_id)
    .join(_c, (_c.c.organization_id == _k.c.organization_id) & (_c.c.id == _k.c.contact_id))
    .where(
        _c.c.organization_id == bindparam("org"),
        _c.c.msisdn == bindparam("msisdn"),
        _k.c.channel == bindparam("channel"),
        _k.c.status == "opted_out",
    )
    .limit(1)
)


async def opted_out(conn: Connection, caller: Caller, msisdn: str, channel: Channel) -> bool:
    """Whether a contact with this number opted out of the channel (the pre-send check asks
    before every message: one indexed read)."""
    params = {"org": caller.organization_id, "msisdn": msisdn, "channel": channel}
    return await conn.fetch_value(_opted_out, params) is not None

"""IMIconnect's Profile API (spec §3, §7) on the native contacts: master profiles are
contacts (`customerId` is their `external_id`), application profiles are their app profiles.
Values are strings on the wire; writes take up to 100 `Records`, each applied or refused on
its own (a savepoint each), answered `1000`, `1002` with `errors`, or the first failure."""

import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from msgprofiles.contacts import service as contacts
from msgprofiles.contacts.schemas import (
    AppProfile,
    AppProfileCreate,
    AppProfileUpdate,
    Contact,
    ContactAttribute,
    ContactCreate,
    ContactUpdate,
    Device,
)
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import AdminCtx, Context, Ctx
from msgprofiles.core.responses import JSONResponse
from msgprofiles.dialects.imiconnect.wire import (
    DESCRIPTIONS,
    STATUS,
    ImiError,
    ImiRoute,
    answer,
    envelope,
)

Payload = Annotated[dict[str, Any], Body()]
# What an app profile's key is called, when a record does not say (`appprofilekey`).
KEY_NAMES = ("psid", "twitterid", "wechat_user_id", "userid", "user_id", "token")
MASTER = ("name", "email", "msisdn")


def _find(mapping: Mapping[str, Any], name: str) -> Any:
    """A key of IMIconnect's envelope, whatever its case (`Records`, `records`, …)."""
    for key, value in mapping.items():
        if key.lower() == name:
            return value
    return None


def _records(payload: Mapping[str, Any], too_many: str) -> list[Mapping[str, Any]]:
    records = _find(payload, "records")
    if not isinstance(records, list) or not records:
        raise ImiError("7003")
    if len(records) > 100:
        raise ImiError(too_many)
    if not all(isinstance(record, Mapping) for record in records):
        raise ImiError("7004")
    return records


def _customer_id(record: Mapping[str, Any]) -> str:
    value = _find(record, "customerid")
    if not isinstance(value, str) or not value:
        raise ImiError("7003")
    return value


def _strings(record: Mapping[str, Any]) -> dict[str, str]:
    attributes = _find(record, "attributes") or {}
    if not isinstance(attributes, Mapping) or not all(
        isinstance(value, str) for value in attributes.values()
    ):
        raise ImiError("7205")
    return dict(attributes)


def _native_value(definition: ContactAttribute, value: str) -> Any:
    """A string of the wire as the attribute's type."""
    if definition.type == "boolean":
        if value.lower() not in ("1", "0", "true", "false"):
            raise ImiError("7205")
        return value.lower() in ("1", "true")
    if definition.type == "number":
        try:
            number = float(value)
        except ValueError:
            raise ImiError("7205") from None
        return int(number) if number.is_integer() else number
    return value


def _master_fields(
    strings: dict[str, str], schema: dict[str, ContactAttribute]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(core fields, attributes) from a master record; a key outside the store is 7211."""
    core: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in strings.items():
        if name in MASTER:
            core[name] = value
        elif name in schema:  # a channel flag or one of the organization's attributes
            attributes[name] = _native_value(schema[name], value)
        else:
            raise ImiError("7211")
    return core, attributes


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _pairs(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """IMIconnect's `[{Name, Value, ID}]`; the ID is a stable number of the name."""
    return [
        {"Name": name, "Value": _wire(value), "ID": zlib.crc32(name.encode()) % 100_000}
        for name, value in values.items()
        if value is not None
    ]


def _master_pairs(contact: Contact) -> list[dict[str, Any]]:
    values = {"customerId": contact.external_id}
    values |= {name: getattr(contact, name) for name in MASTER}
    return _pairs(values | contact.attributes)


def _app_record(profile: AppProfile) -> dict[str, Any]:
    return {
        "ProfileId": zlib.crc32(profile.id.encode()),
        "ProfileName": profile.app_id,
        "Records": _pairs({profile.key_name: profile.key, **profile.attributes}),
        "Devices": [device.model_dump() for device in profile.devices],
    }


def _read(records: list[dict[str, Any]]) -> Response:
    return JSONResponse(
        {
            "Status": 0,
            "Description": "success",
            "Records": records,
            **envelope("1000")["response"],
        }
    )


async def _schema(ctx: Context) -> dict[str, ContactAttribute]:
    """The attributes a record may carry besides the MASTER fields; the service takes the
    same, so it need not read them again."""
    return await contacts.attribute_definitions(ctx.conn, ctx.caller.organization_id)


async def _contact(ctx: Context, customer_id: str, missing: str) -> Contact:
    try:
        return await contacts.lookup_contact(ctx.conn, ctx.caller, external_id=customer_id)
    except DomainError as error:
        if error.code is ErrorCode.contact_not_found:
            raise ImiError(missing, error.code) from None
        raise


Apply = Callable[[Mapping[str, Any]], Awaitable[None]]
# Our refusals of a record as the write's code (§7: the write twins).
_WRITE_CODES = {
    ErrorCode.contact_not_found: "7203",
    ErrorCode.app_profile_not_found: "7203",
    ErrorCode.device_not_found: "7203",
    ErrorCode.external_id_taken: "7015",
    ErrorCode.app_profile_taken: "7209",
    ErrorCode.invalid_phone_number: "7205",
}


def _write_code(error: DomainError) -> str:
    if isinstance(error, ImiError):
        return error.imi_code
    if error.code is ErrorCode.validation_error:
        kinds = {detail.get("type") for detail in error.details}
        return "7211" if "unknown_attribute" in kinds else "7205"
    return _WRITE_CODES.get(error.code, "7016")


async def _each(ctx: Context, records: list[Mapping[str, Any]], apply: Apply) -> Response:
    """Apply every record on its own; 1000, 1002 with `errors`, or the first failure."""
    errors: list[dict[str, str]] = []

    def refuse(record: Mapping[str, Any], error: DomainError) -> None:
        code = _write_code(error)
        errors.append(
            {
                "customerId": str(_find(record, "customerid") or ""),
                "code": code,
                "description": DESCRIPTIONS.get(code, "Unknown error"),
            }
        )

    if len(records) == 1:  # its transaction undoes it alone: no savepoint's two round trips
        try:
            async with ctx.conn.transaction():
                await apply(records[0])
        except DomainError as error:
            refuse(records[0], error)
    else:
        async with ctx.conn.transaction():
            for record in records:
                try:
                    async with ctx.conn.savepoint():
                        await apply(record)
                except DomainError as error:
                    refuse(record, error)
    if not errors:
        return answer("1000")
    if len(errors) < len(records):
        return answer("1002", errors=errors)
    first = errors[0]["code"]
    return JSONResponse(envelope(first, errors=errors), STATUS.get(first, 500))


def _devices(record: Mapping[str, Any]) -> list[Device]:
    raw = _find(record, "devices") or []
    if not isinstance(raw, list):
        raise ImiError("7205")
    try:
        return [Device.model_validate(device) for device in raw]
    except ValueError:
        raise ImiError("7205") from None


def _key(record: Mapping[str, Any], strings: dict[str, str]) -> tuple[str, str]:
    """(the key's name, its value): the record's `appprofilekey`, else a known key name."""
    named = _find(record, "appprofilekey")
    candidates = [named] if isinstance(named, str) else list(KEY_NAMES)
    for name in candidates:
        if strings.get(name):
            return name, strings[name]
    raise ImiError("7003")


def profile_router(version: str) -> APIRouter:
    """The Profile API under `/resources/{version}` (v1 and v2 behave the same)."""
    router = APIRouter(prefix=f"/resources/{version}", route_class=ImiRoute)

    @router.get("/customerprofile/{customer_id}")
    async def get_profile(
        customer_id: str, ctx: Ctx, showinwardlinks: Annotated[int, Query(ge=0, le=2)] = 0
    ) -> Response:
        return _read([await _master_record(ctx, customer_id, showinwardlinks)])

    @router.get("/customerprofile")
    async def get_profiles(
        ctx: Ctx,
        customer_ids: Annotated[list[str], Query(alias="customerId", max_length=100)],
        showinwardlinks: Annotated[int, Query(ge=0, le=2)] = 0,
    ) -> Response:
        records = []
        for customer_id in customer_ids:
            try:
                records.append(await _master_record(ctx, customer_id, showinwardlinks))
            except ImiError:
                continue
        if not records:
            raise ImiError("7014", ErrorCode.contact_not_found)
        return _read(records)

    async def _master_record(ctx: Context, customer_id: str, links: int) -> dict[str, Any]:
        contact = await _contact(ctx, customer_id, "7014")
        record: dict[str, Any] = {"Attributes": _master_pairs(contact)}
        if links >= 1:
            profiles = await contacts.list_app_profiles(ctx.conn, ctx.caller, contact.id)
            record["InwardLinks"] = [_app_record(profile) for profile in profiles]
        return record

    @router.post("/customerprofile")
    async def create_profiles(payload: Payload, ctx: AdminCtx) -> Response:
        records = _records(payload, "7012")
        schema = await _schema(ctx)

        async def create(record: Mapping[str, Any]) -> None:
            core, attributes = _master_fields(_strings(record), schema)
            data = ContactCreate.model_validate(
                {**core, "external_id": _customer_id(record), "attributes": attributes}
            )
            await contacts.create_contact(ctx.conn, ctx.caller, data, schema)

        return await _each(ctx, records, create)

    @router.put("/customerprofile")
    async def update_profiles(payload: Payload, ctx: AdminCtx) -> Response:
        records = _records(payload, "7207")
        schema = await _schema(ctx)

        async def update(record: Mapping[str, Any]) -> None:
            contact = await _contact(ctx, _customer_id(record), "7203")
            core, attributes = _master_fields(_strings(record), schema)
            changes = {**core, "attributes": attributes} if attributes else core
            data = ContactUpdate.model_validate(changes)
            await contacts.update_contact(ctx.conn, ctx.caller, contact.id, data, schema)

        return await _each(ctx, records, update)

    async def _erase(ctx: Context, customer_ids: list[str]) -> Response:
        if not customer_ids:
            raise ImiError("7003")
        if len(customer_ids) > 100:
            raise ImiError("7207")

        async def erase(record: Mapping[str, Any]) -> None:
            contact = await _contact(ctx, record["customerId"], "7203")
            await contacts.erase_contact(ctx.conn, ctx.caller, contact.id)

        return await _each(ctx, [{"customerId": c} for c in customer_ids], erase)

    @router.delete("/customerprofile/{customer_id}")
    async def delete_profile(customer_id: str, ctx: AdminCtx) -> Response:
        return await _erase(ctx, [customer_id])

    @router.delete("/customerprofile")
    async def delete_profiles(
        ctx: AdminCtx,
        customer_ids: Annotated[list[str], Query(alias="customerId", max_length=101)],
    ) -> Response:
        return await _erase(ctx, customer_ids)

    # Application profiles ------------------------------------------------------------------

    async def _app_profile(ctx: Context, app_id: str, contact: Contact, missing: str) -> AppProfile:
        for profile in await contacts.list_app_profiles(ctx.conn, ctx.caller, contact.id):
            if profile.app_id == app_id:
                return profile
        raise ImiError(missing, ErrorCode.app_profile_not_found)

    async def _by_identifier(ctx: Context, app_id: str, identifier: str, missing: str) -> Contact:
        try:
            return await contacts.lookup_contact(
                ctx.conn, ctx.caller, app_id=app_id, key=identifier
            )
        except DomainError as error:
            if error.code is ErrorCode.contact_not_found:
                raise ImiError(missing, error.code) from None
            raise

    def _app_read(contact: Contact, profile: AppProfile) -> Response:
        record = _app_record(profile)
        record["Attributes"] = record.pop("Records")
        record["OutwardLinks"] = [
            {
                "ProfileId": zlib.crc32(contact.id.encode()),
                "ProfileName": "master",
                "Records": _master_pairs(contact),
            }
        ]
        return _read([record])

    @router.get("/customerappprofile/{app_id}/{customer_id}")
    async def get_app_profile(app_id: str, customer_id: str, ctx: Ctx) -> Response:
        contact = await _contact(ctx, customer_id, "7014")
        return _app_read(contact, await _app_profile(ctx, app_id, contact, "7018"))

    @router.get("/customerappprofile/{app_id}")
    async def get_app_profile_by_identifier(
        app_id: str, ctx: Ctx, identifier: Annotated[str, Query(min_length=1, max_length=512)]
    ) -> Response:
        contact = await _by_identifier(ctx, app_id, identifier, "7018")
        return _app_read(contact, await _app_profile(ctx, app_id, contact, "7018"))

    @router.post("/customerappprofile/{app_id}")
    async def create_app_profiles(app_id: str, payload: Payload, ctx: AdminCtx) -> Response:
        records = _records(payload, "7207")

        async def create(record: Mapping[str, Any]) -> None:
            contact = await _contact(ctx, _customer_id(record), "7203")
            strings = _strings(record)
            key_name, key = _key(record, strings)
            strings.pop(key_name)
            data = AppProfileCreate(
                app_id=app_id,
                key_name=key_name,
                key=key,
                attributes=strings,
                devices=_devices(record),
            )
            await contacts.create_app_profile(ctx.conn, ctx.caller, contact.id, data)

        return await _each(ctx, records, create)

    async def _update_app_profiles(app_id: str, payload: Payload, ctx: Context) -> Response:
        records = _records(payload, "7207")

        async def update(record: Mapping[str, Any]) -> None:
            contact = await _contact(ctx, _customer_id(record), "7203")
            profile = await _app_profile(ctx, app_id, contact, "7203")
            strings = _strings(record)
            changes: dict[str, Any] = {}
            if profile.key_name in strings:
                changes["key"] = strings.pop(profile.key_name)
            if strings:
                changes["attributes"] = strings
            if _find(record, "devices") is not None:
                changes["devices"] = _devices(record)
            data = AppProfileUpdate(**changes)
            await contacts.update_app_profile(ctx.conn, ctx.caller, contact.id, profile.id, data)

        return await _each(ctx, records, update)

    @router.put("/customerappprofile/{app_id}")
    async def update_app_profiles(app_id: str, payload: Payload, ctx: AdminCtx) -> Response:
        return await _update_app_profiles(app_id, payload, ctx)

    @router.put("/customerprofiles/{app_id}", include_in_schema=False)
    async def update_app_profiles_alias(app_id: str, payload: Payload, ctx: AdminCtx) -> Response:
        """The path one of IMIconnect's pages prints for the same call."""
        return await _update_app_profiles(app_id, payload, ctx)

    async def _delete_app_profiles(
        ctx: Context, app_id: str, contacts_found: list[str]
    ) -> Response:
        async def delete(record: Mapping[str, Any]) -> None:
            contact = await _contact(ctx, record["customerId"], "7203")
            profile = await _app_profile(ctx, app_id, contact, "7203")
            await contacts.delete_app_profile(ctx.conn, ctx.caller, contact.id, profile.id)

        return await _each(ctx, [{"customerId": c} for c in contacts_found], delete)

    @router.delete("/customerappprofile/{app_id}/{customer_id}")
    async def delete_app_profile(app_id: str, customer_id: str, ctx: AdminCtx) -> Response:
        return await _delete_app_profiles(ctx, app_id, [customer_id])

    @router.delete("/customerappprofile/{app_id}")
    async def delete_app_profiles(
        app_id: str,
        ctx: AdminCtx,
        customer_ids: Annotated[list[str] | None, Query(alias="customerId", max_length=101)] = None,
        identifier: Annotated[str | None, Query(max_length=512)] = None,
    ) -> Response:
        if identifier is not None:
            contact = await _by_identifier(ctx, app_id, identifier, "7203")
            customer_ids = [str(contact.external_id)]
        if not customer_ids:
            raise ImiError("7003")
        if len(customer_ids) > 100:
            raise ImiError("7207")
        return await _delete_app_profiles(ctx, app_id, customer_ids)

    @router.delete("/customerappprofile/{app_id}/{customer_id}/{device_id}")
    async def delete_device(
        app_id: str, customer_id: str, device_id: str, ctx: AdminCtx
    ) -> Response:
        async def delete(record: Mapping[str, Any]) -> None:
            contact = await _contact(ctx, customer_id, "7203")
            profile = await _app_profile(ctx, app_id, contact, "7203")
            await contacts.delete_device(ctx.conn, ctx.caller, contact.id, profile.id, device_id)

        return await _each(ctx, [{"customerId": customer_id}], delete)

    return router

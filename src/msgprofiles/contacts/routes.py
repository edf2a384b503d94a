from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from msgprofiles.contacts import imports, service
from msgprofiles.contacts.schemas import (
    AppProfile,
    AppProfileCreate,
    AppProfileUpdate,
    BatchOutcome,
    Channel,
    Consent,
    ConsentChange,
    Contact,
    ContactAttribute,
    ContactAttributeCreate,
    ContactAttributeUpdate,
    ContactBatch,
    ContactCreate,
    ContactExport,
    ContactImport,
    ContactImportError,
    ContactUpdate,
    Erased,
)
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.http import ERROR_RESPONSES, AdminCtx, ApiRoute, Ctx, UploadRoute
from msgprofiles.core.pagination import Page, PageParams, page_params
from msgprofiles.core.schemas import Envelope, ErrorEnvelope, ListEnvelope

attributes = APIRouter(
    prefix="/v1/contact_attributes",
    tags=["Contacts"],
    route_class=ApiRoute,
    responses=ERROR_RESPONSES,
)
router = APIRouter(
    prefix="/v1/contacts", tags=["Contacts"], route_class=ApiRoute, responses=ERROR_RESPONSES
)


@attributes.get("", response_model=ListEnvelope[ContactAttribute])
async def list_attributes(ctx: Ctx) -> Response:
    """The attributes a contact may have: the core ones (`name`, `email`, `msisdn`, the
    channel flags), then yours."""
    found = await service.list_attributes(ctx.conn, ctx.caller)
    return ctx.page(Page(found, has_more=False, next_cursor=None))


@attributes.post("", status_code=201, response_model=Envelope[ContactAttribute])
async def create_attribute(body: ContactAttributeCreate, ctx: AdminCtx) -> Response:
    """Define an attribute of your contacts: its type (string, number, boolean, date, email,
    phone, enum with its values) and whether every contact must have it. Admin keys."""
    return ctx.ok(await service.create_attribute(ctx.conn, ctx.caller, body), 201)


@attributes.get("/{name}", response_model=Envelope[ContactAttribute])
async def get_attribute(name: str, ctx: Ctx) -> Response:
    """One attribute's definition."""
    return ctx.ok(await service.get_attribute(ctx.conn, ctx.caller, name))


@attributes.patch("/{name}", response_model=Envelope[ContactAttribute])
async def update_attribute(name: str, body: ContactAttributeUpdate, ctx: AdminCtx) -> Response:
    """Change its description or whether it is required, or add values to an enum."""
    return ctx.ok(await service.update_attribute(ctx.conn, ctx.caller, name, body))


@router.post("", status_code=201, response_model=Envelope[Contact])
async def create_contact(body: ContactCreate, ctx: AdminCtx) -> Response:
    """A contact (an end-user's master profile). `external_id`, your own id of the person, is
    unique among your contacts; `msisdn` is stored in E.164; `attributes` are checked against
    your attribute schema. Admin keys."""
    return ctx.ok(await service.create_contact(ctx.conn, ctx.caller, body), 201)


@router.get("", response_model=ListEnvelope[Contact])
async def list_contacts(
    ctx: Ctx,
    page: Annotated[PageParams, Depends(page_params)],
    search: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    attribute: Annotated[
        list[str] | None,
        Query(
            max_length=10,
            description="`name:value`, repeatable: contacts whose attribute equals the value.",
        ),
    ] = None,
) -> Response:
    """Your contacts, newest first."""
    equal: dict[str, str] = {}
    for pair in attribute or ():
        name, colon, value = pair.partition(":")
        if not colon or not name:
            raise DomainError(
                ErrorCode.validation_error,
                "attribute takes name:value.",
                details=[{"field": "attribute", "type": "value_error", "message": pair}],
            )
        equal[name] = value
    return ctx.page(await service.list_contacts(ctx.conn, ctx.caller, page, search, equal))


@router.post("/batch", response_model=Envelope[BatchOutcome])
async def run_batch(body: ContactBatch, ctx: AdminCtx) -> Response:
    """Up to 100 creates, updates and deletes (by `id` or `external_id`), each answered on its
    own in `results` with the status it would have had alone: one bad item is a 4xx result,
    never a failed batch. Admin keys."""
    return ctx.ok(await service.run_batch(ctx.conn, ctx.caller, body.items))


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file, streamed: NDJSON (one record per line, each an `ImportRecord`) "
        "or CSV whose header names the columns: `external_id` (required), `name`, `email`, "
        "`msisdn`, your attributes and the channel flags by name, `consent.<channel>` "
        "(`opted_in` or `opted_out`). An empty CSV cell leaves its field as it is.",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


async def _start_import(request: Request, ctx: AdminCtx) -> Response:
    """Import contacts from a file of any size (NDJSON or CSV, UTF-8): each record creates or
    changes the contact with its `external_id`, so sending a file again changes nothing. The
    file is checked as it arrives (header, UTF-8) and stored; a job then applies it and
    `GET /v1/contacts/imports/{import_id}` shows its progress. One
    `contact.import.completed` event at the end, not one per contact. Admin keys."""
    file_format = imports.format_of(request.headers.get("content-type"))
    return ctx.ok(await imports.receive(ctx.conn, ctx.caller, file_format, request.stream()), 202)


router.add_api_route(
    "/imports",
    _start_import,
    methods=["POST"],
    status_code=202,
    response_model=Envelope[ContactImport],
    summary="Start Import",
    openapi_extra=_IMPORT_BODY,
    responses={
        415: {"model": ErrorEnvelope, "description": "Neither NDJSON nor CSV"},
    },
    route_class_override=UploadRoute,
)


@router.get("/imports", response_model=ListEnvelope[ContactImport])
async def list_imports(ctx: Ctx, page: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Your imports, newest first."""
    return ctx.page(await imports.list_imports(ctx.conn, ctx.caller, page))


@router.get("/imports/{import_id}", response_model=Envelope[ContactImport])
async def get_import(import_id: str, ctx: Ctx) -> Response:
    """An import's status and counts: created, updated, unchanged, failed."""
    return ctx.ok(await imports.get_import(ctx.conn, ctx.caller, import_id))


@router.get("/imports/{import_id}/errors", response_model=ListEnvelope[ContactImportError])
async def list_import_errors(
    import_id: str,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None,
        Query(max_length=20, pattern=r"^[0-9]+$", description="`next_cursor` of the last page."),
    ] = None,
) -> Response:
    """The records the import refused, by line, each with the error it alone would have had
    (the first 10,000; `failed` counts them all)."""
    found, more = await imports.list_errors(
        ctx.conn, ctx.caller, import_id, int(cursor or 0), limit
    )
    return ctx.page(Page(found, more, str(found[-1].line) if more else None))


@router.post("/imports/{import_id}/cancel", response_model=Envelope[ContactImport])
async def cancel_import(import_id: str, ctx: AdminCtx) -> Response:
    """Stop a queued or running import: what is applied stays, the rest is dropped. Admin
    keys."""
    return ctx.ok(await imports.cancel_import(ctx.conn, ctx.caller, import_id))


@router.get("/lookup", response_model=Envelope[Contact])
async def lookup_contact(
    ctx: Ctx,
    external_id: Annotated[str | None, Query(max_length=128)] = None,
    msisdn: Annotated[str | None, Query(max_length=32)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    app_id: Annotated[str | None, Query(max_length=128)] = None,
    key: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """The contact with this `external_id`, `msisdn` or `email`, or whose app profile for
    `app_id` has this `key` (a PSID, a push token, …): one indexed read."""
    found = await service.lookup_contact(
        ctx.conn,
        ctx.caller,
        external_id=external_id,
        msisdn=msisdn,
        email=email,
        app_id=app_id,
        key=key,
    )
    return ctx.ok(found)


@router.get("/{contact_id}", response_model=Envelope[Contact])
async def get_contact(contact_id: str, ctx: Ctx) -> Response:
    """One contact."""
    return ctx.ok(await service.get_contact(ctx.conn, ctx.caller, contact_id))


@router.patch("/{contact_id}", response_model=Envelope[Contact])
async def update_contact(contact_id: str, body: ContactUpdate, ctx: AdminCtx) -> Response:
    """Change what is sent; in `attributes`, only the keys sent (null removes one)."""
    return ctx.ok(await service.update_contact(ctx.conn, ctx.caller, contact_id, body))


@router.delete("/{contact_id}", response_model=Envelope[Erased])
async def erase_contact(contact_id: str, ctx: AdminCtx) -> Response:
    """Erase the person: the contact, its app profiles and devices, its consent; events about
    it keep only ids (`contact.erased` says so). Irreversible. Admin keys."""
    await service.erase_contact(ctx.conn, ctx.caller, contact_id)
    return ctx.ok(Erased(id=contact_id))


@router.get("/{contact_id}/export", response_model=Envelope[ContactExport])
async def export_contact(contact_id: str, ctx: Ctx) -> Response:
    """Everything held on the person, as JSON: contact, app profiles, consent, events."""
    return ctx.ok(await service.export_contact(ctx.conn, ctx.caller, contact_id))


@router.post("/{contact_id}/app_profiles", status_code=201, response_model=Envelope[AppProfile])
async def create_app_profile(contact_id: str, body: AppProfileCreate, ctx: AdminCtx) -> Response:
    """The contact's profile in one channel application: its key (`key_name` says what it is:
    `psid`, …), channel attributes and devices. One per app and contact; a key belongs to
    one contact. Admin keys."""
    return ctx.ok(await service.create_app_profile(ctx.conn, ctx.caller, contact_id, body), 201)


@router.get("/{contact_id}/app_profiles", response_model=ListEnvelope[AppProfile])
async def list_app_profiles(contact_id: str, ctx: Ctx) -> Response:
    """The contact's app profiles."""
    found = await service.list_app_profiles(ctx.conn, ctx.caller, contact_id)
    return ctx.page(Page(found, has_more=False, next_cursor=None))


@router.get("/{contact_id}/app_profiles/{app_profile_id}", response_model=Envelope[AppProfile])
async def get_app_profile(contact_id: str, app_profile_id: str, ctx: Ctx) -> Response:
    """One app profile."""
    return ctx.ok(await service.get_app_profile(ctx.conn, ctx.caller, contact_id, app_profile_id))


@router.patch("/{contact_id}/app_profiles/{app_profile_id}", response_model=Envelope[AppProfile])
async def update_app_profile(
    contact_id: str, app_profile_id: str, body: AppProfileUpdate, ctx: AdminCtx
) -> Response:
    """Change its key; `attributes` merge; `devices` are added or replace the same
    `device_id`."""
    return ctx.ok(
        await service.update_app_profile(ctx.conn, ctx.caller, contact_id, app_profile_id, body)
    )


@router.delete("/{contact_id}/app_profiles/{app_profile_id}", response_model=Envelope[AppProfile])
async def delete_app_profile(contact_id: str, app_profile_id: str, ctx: AdminCtx) -> Response:
    """Delete the app profile with its devices (the contact stays). Admin keys."""
    return ctx.ok(
        await service.delete_app_profile(ctx.conn, ctx.caller, contact_id, app_profile_id)
    )


@router.delete(
    "/{contact_id}/app_profiles/{app_profile_id}/devices/{device_id}",
    response_model=Envelope[AppProfile],
)
async def delete_device(
    contact_id: str, app_profile_id: str, device_id: str, ctx: AdminCtx
) -> Response:
    """Remove one device of the app profile. Admin keys."""
    return ctx.ok(
        await service.delete_device(ctx.conn, ctx.caller, contact_id, app_profile_id, device_id)
    )


@router.get("/{contact_id}/consent", response_model=ListEnvelope[Consent])
async def list_consents(contact_id: str, ctx: Ctx) -> Response:
    """The contact's consent on each channel where it said yes or no."""
    found = await service.list_consents(ctx.conn, ctx.caller, contact_id)
    return ctx.page(Page(found, has_more=False, next_cursor=None))


@router.put("/{contact_id}/consent/{channel}", response_model=Envelope[Consent])
async def set_consent(
    contact_id: str, channel: Channel, body: ConsentChange, ctx: AdminCtx
) -> Response:
    """Record an opt-in or opt-out on the channel (source: api, inbound_keyword or import);
    each change emits `contact.opted_in` or `contact.opted_out`. Admin keys."""
    return ctx.ok(await service.set_consent(ctx.conn, ctx.caller, contact_id, channel, body))

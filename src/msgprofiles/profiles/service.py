"""Sender profiles: the sending identities of an organization. The organization's own profile
(the parent) is made with it; the others are its children. A caller scoped to one profile (a
profile key, or an organization key sending `X-Profile-Id`) sees and changes only that one."""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, func, insert, select, update

from msgprofiles.brands import service as brands
from msgprofiles.brands.schemas import Brand, BrandFields
from msgprofiles.core.auth import Caller
from msgprofiles.core.crypto import SecretBox
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, escape_like, fetch_page
from msgprofiles.core.tenancy import count_by, fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.customers import service as customers
from msgprofiles.db.database import Connection, IntegrityError, Row, prepare
from msgprofiles.organizations.models import organizations
from msgprofiles.profiles.models import profiles
from msgprofiles.profiles.schemas import (
    PROFILE_BILLING,
    MessagingSettings,
    PaymentDetails,
    Profile,
    ProfileCreate,
    ProfileUpdate,
)
from msgprofiles.providers.payments import Card, PaymentDeclined, PaymentProcessor
from msgprofiles.webhooks.events import emit, register_event_type

register_event_type("profile.created", "A sender profile was created.")
register_event_type("profile.updated", "A sender profile's settings changed.")
register_event_type("profile.deleted", "A sender profile was deleted.")

_t = profiles
_live = _t.c.deleted_at.is_(None)
_get = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("prof"), _live)
)
_insert = prepare(insert(_t))
_short_name_owner = prepare(
    select(_t.c.id).where(
        _t.c.organization_id == bindparam("org"),
        func.lower(_t.c.short_name) == func.lower(bindparam("short")),
        _live,
    )
)

_organization_whatsapp = prepare(
    select(organizations.c.whatsapp_business_account).where(organizations.c.id == bindparam("org"))
)


async def whatsapp_account_of(conn: Connection, organization_id: str) -> dict[str, Any] | None:
    """The organization's WhatsApp Business Account as stored (token encrypted), or None."""
    account: dict[str, Any] | None = await conn.fetch_value(
        _organization_whatsapp, {"org": organization_id}
    )
    return account


_FLAGS = (
    "inherit_tcr_brand",
    "inherit_tcr_campaign",
    "inherit_contacts",
    "inherit_templates",
    "allow_contact_sharing",
    "allow_template_sharing",
    "allow_number_change_during_onboarding",
)


def profile_model(row: Row) -> Profile:
    """A stored profile as the API shows it."""
    values = dict(row)
    values["messaging"] = MessagingSettings.model_validate(row["messaging"], strict=False)
    method = row["payment_method"]
    values["payment_method"] = method and {"brand": method["brand"], "last4": method["last4"]}
    return Profile.model_validate(values, strict=False)


def _scope_error() -> DomainError:
    return DomainError(
        ErrorCode.profile_scope_forbidden, "This API key may act only for its own profile."
    )


async def require_profile(conn: Connection, caller: Caller, profile_id: str) -> Row:
    """The caller's live profile `profile_id`: 403 outside the caller's profile scope, 404 if
    the organization has none by that id."""
    if caller.profile_id is not None and caller.profile_id != profile_id:
        raise _scope_error()
    code = ErrorCode.profile_not_found
    return await fetch_owned(conn, caller, _get, code, "profile", by_profile=False, prof=profile_id)


_parent = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.is_parent.is_(True), _live)
)


async def parent_profile(conn: Connection, organization_id: str) -> Row:
    """The organization's own profile (every organization has one)."""
    row = await conn.fetch_one(_parent, {"org": organization_id})
    assert row is not None, f"{organization_id} has no parent profile"
    return row


_any = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("prof"))
)
_set_status = prepare(
    update(_t)
    .where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("prof"))
    .values(status=bindparam("new_status"), updated_at=bindparam("now"))
)


async def profile_row(conn: Connection, organization_id: str, profile_id: str) -> Row | None:
    """A profile of the organization as stored, deleted ones too (background work)."""
    return await conn.fetch_one(_any, {"org": organization_id, "prof": profile_id})


async def set_profile_status(
    conn: Connection, organization_id: str, profile_id: str, status: str
) -> None:
    """Record the compliance status a workflow reached, in the caller's transaction."""
    params = {"org": organization_id, "prof": profile_id, "new_status": status, "now": utcnow()}
    await conn.execute(_set_status, params)


def inherits_brand(profile: Mapping[str, Any]) -> bool:
    """A child profile with inherit_tcr_brand registers under its parent's brand."""
    return bool(profile["inherit_tcr_brand"]) and not profile["is_parent"]


async def brand_ids_of(
    conn: Connection, organization_id: str, profiles: Sequence[Mapping[str, Any]]
) -> list[tuple[str | None, bool]]:
    """The brand each profile registers under — its own, or its parent's when it inherits —
    with whether it is inherited; one query for the parent, whatever the number."""
    inherits = [inherits_brand(profile) for profile in profiles]
    parent_brand = (
        (await parent_profile(conn, organization_id))["brand_id"] if any(inherits) else None
    )
    return [
        (parent_brand if inherited else profile["brand_id"], inherited)
        for profile, inherited in zip(profiles, inherits, strict=True)
    ]


async def act_as_profile(conn: Connection, caller: Caller, profile_id: str) -> Caller:
    """`X-Profile-Id`: an organization key acting for one of its profiles."""
    await require_profile(conn, caller, profile_id)
    return dataclasses.replace(caller, profile_id=profile_id)


def new_profile_row(organization_id: str, name: str, *, is_parent: bool) -> dict[str, Any]:
    """A profile with every default, ready to insert."""
    now = utcnow()
    return {
        "organization_id": organization_id,
        "id": new_id("prof"),
        "is_parent": is_parent,
        "customer_id": None,
        "name": name,
        "short_name": None,
        "description": None,
        "icon_url": None,
        "status": "incomplete",
        "billing_model": "organization",
        "billing_contact": None,
        "payment_method": None,
        "brand_id": None,
        **dict.fromkeys(_FLAGS, False),
        "sending_phone_number": None,
        "whatsapp_phone_number": None,
        "waba_id": None,
        "whatsapp_phone_number_id": None,
        "whatsapp_access_token": None,
        "whatsapp_inherited": False,
        "messaging": MessagingSettings().model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        "created_by": None,
        "updated_by": None,
    }


def _inherit_whatsapp(row: dict[str, Any], account: dict[str, Any]) -> None:
    row["waba_id"] = account["waba_id"]
    row["whatsapp_phone_number_id"] = account["phone_number_id"]
    row["whatsapp_inherited"] = True


async def insert_parent(
    conn: Connection, organization_id: str, name: str, whatsapp: dict[str, Any] | None
) -> Profile:
    """The organization's own profile, made with the organization."""
    row = new_profile_row(organization_id, name, is_parent=True)
    if whatsapp is not None:
        _inherit_whatsapp(row, whatsapp)
    await conn.execute(_insert, row)
    return profile_model(row)


def _check_billing(row: dict[str, Any], payment: PaymentDetails | None) -> None:
    if row["billing_model"] in PROFILE_BILLING and not row["billing_contact"]:
        raise DomainError(
            ErrorCode.validation_error,
            "A billing contact is required when the profile is billed itself.",
            details=[{"field": "billing_contact", "type": "required_for_billing_model"}],
        )
    if payment is not None and row["billing_model"] not in PROFILE_BILLING:
        raise DomainError(
            ErrorCode.validation_error,
            "Payment details are for profiles billed themselves (billing_model profile or "
            "profile_and_organization).",
            details=[{"field": "payment_details", "type": "not_allowed_for_billing_model"}],
        )


async def _tokenize(payments: PaymentProcessor, details: PaymentDetails) -> dict[str, str]:
    """Hand the card to the payment processor; keep only what it gives back."""
    month, _, year = details.expiry.partition("/")
    card = Card(
        number=details.card_number.get_secret_value(),
        exp_month=int(month),
        exp_year=2000 + int(year),
        cvc=details.cvc.get_secret_value(),
        postal_code=details.zip_code.get_secret_value(),
    )
    try:
        method = await payments.tokenize(card)
    except PaymentDeclined as declined:
        raise DomainError(ErrorCode.payment_declined, str(declined)) from None
    return {"token": method.token, "brand": method.brand, "last4": method.last4}


async def _check_customer(conn: Connection, caller: Caller, row: dict[str, Any]) -> None:
    """A profile sends for one of the organization's customers, never an archived one."""
    if row["customer_id"] is None:
        return
    if await customers.customer_status(conn, caller, row["customer_id"]) == "archived":
        raise DomainError(ErrorCode.customer_archived, "This customer is archived.")


async def _check_brand(conn: Connection, caller: Caller, row: dict[str, Any]) -> None:
    """A profile uses its own brand or inherits the parent's, not both."""
    if row["brand_id"] is None:
        return
    if row["inherit_tcr_brand"]:
        raise DomainError(
            ErrorCode.brand_conflict,
            "A profile either has its own brand (brand_id) or inherits the parent's "
            "(inherit_tcr_brand), not both.",
            details=[{"field": "brand_id"}, {"field": "inherit_tcr_brand"}],
        )
    await brands.require_brand(conn, caller, row["brand_id"])


def _brand_with_inheritance() -> DomainError:
    return DomainError(
        ErrorCode.brand_conflict,
        "A profile that inherits its parent's brand (inherit_tcr_brand) has no brand of its own "
        "to create or change.",
        details=[{"field": "brand"}, {"field": "inherit_tcr_brand"}],
    )


async def _save_brand(
    conn: Connection, caller: Caller, row: dict[str, Any], brand: BrandFields
) -> None:
    """A profile's brand written with the profile (as vendor dialects send it). It creates the
    profile's brand, or changes it (refused once it was submitted to TCR). Drafts are allowed:
    what TCR needs is checked at submission."""
    if row["inherit_tcr_brand"]:
        raise _brand_with_inheritance()
    organization = dataclasses.replace(caller, profile_id=None)  # the profile's own brand
    if row["brand_id"] is None:
        created = await brands.insert_brand(
            conn, brands.new_brand_row(caller.organization_id, brand, draft=True)
        )
        row["brand_id"] = created.id
    else:
        await brands.update_brand(conn, organization, row["brand_id"], brand, draft=True)


def _brand_twice() -> DomainError:
    return DomainError(
        ErrorCode.brand_conflict,
        "Send either a brand_id or the brand itself, not both.",
        details=[{"field": "brand"}, {"field": "brand_id"}],
    )


async def _check_short_name(conn: Connection, row: dict[str, Any]) -> None:
    if row["short_name"] is None:
        return
    owner = await conn.fetch_value(
        _short_name_owner, {"org": row["organization_id"], "short": row["short_name"]}
    )
    if owner is not None and owner != row["id"]:
        raise _short_name_taken(row["short_name"])


def _short_name_taken(short_name: str) -> DomainError:
    return DomainError(
        ErrorCode.short_name_taken,
        f"Another profile of this organization is already called {short_name!r}.",
        details=[{"field": "short_name"}],
    )


def _fields(data: ProfileCreate | ProfileUpdate) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in data.model_fields_set - {
        "messaging",
        "payment_details",
        "whatsapp_business_account",
    }:
        value = getattr(data, field)
        if field == "billing_model" and value is None:
            value = "organization"
        if field == "icon_url" and value is not None:
            value = str(value)
        if field == "billing_contact" and value is not None:
            value = value.model_dump(mode="json")
        values[field] = value
    return values


async def create_profile(
    conn: Connection,
    caller: Caller,
    data: ProfileCreate,
    payments: PaymentProcessor,
    box: SecretBox,
    *,
    brand: BrandFields | None = None,
    require_whatsapp: bool = False,
) -> Profile:
    """A new child profile; `brand` creates its brand with it. Without WhatsApp credentials
    it uses the organization's WhatsApp account, or has no WhatsApp channel (SMS only) when
    there is none — unless `require_whatsapp` (vendors whose profiles always have one)."""
    caller.require_organization_scope()
    row = new_profile_row(caller.organization_id, data.name, is_parent=False)
    row.update(_fields(data))
    row["created_by"] = row["updated_by"] = caller.key_id
    if data.messaging is not None:
        row["messaging"] = data.messaging.model_dump(mode="json")
    _check_billing(row, data.payment_details)
    if data.payment_details is not None:
        row["payment_method"] = await _tokenize(payments, data.payment_details)
    credentials = data.whatsapp_business_account
    async with conn.transaction():
        if credentials is not None:
            row["waba_id"] = credentials.waba_id
            row["whatsapp_phone_number_id"] = credentials.phone_number_id
            row["whatsapp_access_token"] = box.encrypt(credentials.access_token.get_secret_value())
        elif account := await whatsapp_account_of(conn, caller.organization_id):
            _inherit_whatsapp(row, account)
        elif require_whatsapp:
            raise DomainError(
                ErrorCode.whatsapp_account_required,
                "Give the profile WhatsApp credentials (whatsapp_business_account), or give "
                "the organization an account to inherit (PATCH /v1/organization).",
                details=[{"field": "whatsapp_business_account", "type": "required"}],
            )
        if brand is not None:
            if row["brand_id"] is not None:
                raise _brand_twice()
            await _save_brand(conn, caller, row, brand)
        await _check_brand(conn, caller, row)
        await _check_customer(conn, caller, row)
        await _check_short_name(conn, row)
        try:
            async with conn.savepoint():
                await conn.execute(_insert, row)
        except IntegrityError:  # a concurrent request took the short name first
            raise _short_name_taken(row["short_name"]) from None
        profile = profile_model(row)
        await emit(conn, caller.organization_id, "profile.created", profile, profile_id=profile.id)
    return profile


async def list_profiles(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    *,
    status: str | None = None,
    search: str | None = None,
    customer_id: str | None = None,
    name: str | None = None,
    name_contains: str | None = None,
) -> Page[Profile]:
    """`search`: in the name or the short name, whatever the case; `name`: exactly this name;
    `name_contains`: the name contains this, whatever the case."""
    statement = select(_t).where(_t.c.organization_id == caller.organization_id, _live)
    if name is not None:
        statement = statement.where(_t.c.name == name)
    if name_contains:
        pattern = "%" + escape_like(name_contains) + "%"
        statement = statement.where(_t.c.name.ilike(pattern, escape="\\"))
    if caller.profile_id is not None:
        statement = statement.where(_t.c.id == caller.profile_id)
    if status is not None:
        statement = statement.where(_t.c.status == status)
    if customer_id is not None:
        statement = statement.where(_t.c.customer_id == customer_id)
    if search:
        pattern = "%" + escape_like(search.lower()) + "%"
        statement = statement.where(
            _t.c.name.ilike(pattern, escape="\\") | _t.c.short_name.ilike(pattern, escape="\\")
        )
    result = await fetch_page(conn, statement, _t.c.id, page)
    return result.map(profile_model)


async def count_by_status(conn: Connection, caller: Caller) -> dict[str, int]:
    """The organization's live profiles by status (a profile key: its own)."""
    where = [_live] if caller.profile_id is None else [_live, _t.c.id == caller.profile_id]
    return await count_by(conn, caller.organization_id, _t.c.status, *where)


async def get_profile(conn: Connection, caller: Caller, profile_id: str) -> Profile:
    return profile_model(await require_profile(conn, caller, profile_id))


# Messaging settings a PATCH may clear with null (the others keep their value on null).
_CLEARABLE = frozenset(
    {"webhook_url", "failover_url", "alpha_sender", "daily_spend_limit", "url_shortener_settings"}
)


def _merge_messaging(current: dict[str, Any], data: ProfileUpdate) -> dict[str, Any]:
    assert data.messaging is not None
    merged = MessagingSettings.model_validate(current, strict=False).model_dump(mode="json")
    sent = data.messaging.model_dump(mode="json", include=data.messaging.model_fields_set)
    for field, value in sent.items():
        if field == "number_pool":
            if value is not None:
                merged["number_pool"] |= {k: v for k, v in value.items() if v is not None}
        elif field == "vendor_settings":
            for vendor, settings in (value or {}).items():
                merged["vendor_settings"][vendor] = {
                    **merged["vendor_settings"].get(vendor, {}),
                    **settings,
                }
        elif value is not None or field in _CLEARABLE:
            merged[field] = value
    try:
        settings = MessagingSettings.model_validate(merged, strict=False)
    except ValidationError as error:  # the settings sent do not fit those kept
        details = [
            {
                "field": ".".join(["messaging", *map(str, e["loc"])]),
                "type": e["type"],
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        raise DomainError(
            ErrorCode.validation_error, "The messaging settings are invalid.", details=details
        ) from None
    return settings.model_dump(mode="json")


async def update_profile(
    conn: Connection,
    caller: Caller,
    profile_id: str,
    data: ProfileUpdate,
    payments: PaymentProcessor,
    *,
    brand: BrandFields | None = None,
) -> Profile:
    """Change the fields sent; `brand` creates or changes the profile's brand."""
    changes = _fields(data)
    current = dict(await require_profile(conn, caller, profile_id))
    if data.messaging is not None:
        changes["messaging"] = _merge_messaging(current["messaging"], data)
    _check_billing({**current, **changes}, data.payment_details)
    if data.payment_details is not None:  # the processor is called outside the transaction
        changes["payment_method"] = await _tokenize(payments, data.payment_details)
    if not changes and brand is None:
        return profile_model(current)
    async with conn.transaction():
        current = dict(await require_profile(conn, caller, profile_id))
        if data.messaging is not None:  # merged into what is there now, not what was read
            changes["messaging"] = _merge_messaging(current["messaging"], data)
        changes["updated_by"] = caller.key_id
        row = {**current, **changes, "updated_at": utcnow()}
        _check_billing(row, data.payment_details)
        if brand is not None:
            if "brand_id" in changes:
                raise _brand_twice()
            await _save_brand(conn, caller, row, brand)
            changes["brand_id"] = row["brand_id"]
        if {"brand_id", "inherit_tcr_brand"} & changes.keys():
            await _check_brand(conn, caller, row)
        if "customer_id" in changes:
            await _check_customer(conn, caller, row)
        await _check_short_name(conn, row)
        try:
            async with conn.savepoint():
                await conn.execute(
                    update(_t)
                    .where(_t.c.organization_id == caller.organization_id, _t.c.id == profile_id)
                    .values(**changes, updated_at=row["updated_at"])
                )
        except IntegrityError:
            raise _short_name_taken(row["short_name"]) from None
        profile = profile_model(row)
        await emit(conn, caller.organization_id, "profile.updated", profile, profile_id=profile.id)
    return profile


async def delete_profile(conn: Connection, caller: Caller, profile_id: str) -> Profile:
    """Soft delete: the profile leaves reads and lists; its data stays."""
    caller.require_organization_scope()
    async with conn.transaction():
        row = await require_profile(conn, caller, profile_id)
        if row["is_parent"]:
            raise DomainError(
                ErrorCode.parent_profile_undeletable,
                "The organization's own profile cannot be deleted.",
            )
        now = utcnow()
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == profile_id)
            .values(deleted_at=now, updated_at=now, updated_by=caller.key_id)
        )
        profile = profile_model({**row, "updated_at": now, "updated_by": caller.key_id})
        await emit(conn, caller.organization_id, "profile.deleted", profile, profile_id=profile.id)
    return profile


async def profile_brands(
    conn: Connection, caller: Caller, records: Sequence[Profile]
) -> list[tuple[Brand | None, bool]]:
    """The brand each profile registers under, which its own callers may read, with whether
    it is inherited; in at most two queries whatever their number."""
    organization_id = caller.organization_id
    fields = ("brand_id", "inherit_tcr_brand", "is_parent")
    used = await brand_ids_of(
        conn, organization_id, [{f: getattr(p, f) for f in fields} for p in records]
    )
    rows = await brands.brand_rows(conn, organization_id, {b for b, _ in used if b})
    return [(brands.brand_model(rows[b]) if b in rows else None, i) for b, i in used]

"""Brands: the KYC record a US 10DLC registration (TCR) is made from. An organization's first
brand is PRIMARY and stays; later ones are SECONDARY. Once submitted to TCR a brand's KYC
fields are frozen: the registry holds that version."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from msgprofiles.brands.models import brands
from msgprofiles.brands.schemas import SUBMITTED, Brand, BrandFields
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.tenancy import count_by, fetch_owned
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import enqueue, handler
from msgprofiles.organizations.models import organizations
from msgprofiles.providers.tcr import BrandSubmission, RegistrationRejected
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import callbacks
from msgprofiles.webhooks.events import emit, register_event_type

for _type, _text in {
    "brand.created": "A brand was created.",
    "brand.updated": "A brand's details changed.",
    "brand.deleted": "A secondary brand was deleted.",
    "brand.submitted": "A brand was submitted to TCR; its KYC details are now frozen.",
    "brand.verified": "TCR registered the brand and verified (or accepted) its identity.",
    "brand.unverified": "TCR registered the brand but could not verify its identity.",
    "brand.rejected": "TCR refused the brand; fix it and submit again.",
}.items():
    register_event_type(_type, _text)
callbacks.tells_callbacks("brand.submitted", "brand.verified", "brand.unverified", "brand.rejected")

REGISTER_JOB = "brand.register"
_t = brands
_live = _t.c.deleted_at.is_(None)
_get = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("brand"), _live)
)
_insert = prepare(insert(_t))
_any = prepare(select(_t.c.id).where(_t.c.organization_id == bindparam("org"), _live).limit(1))
_lock_organization = prepare(
    select(organizations.c.id).where(organizations.c.id == bindparam("org")).with_for_update()
)
# Labels of ours and vendors' extras, not KYC: they may change after submission.
_OURS = frozenset({"alias", "notes", "vendor_fields"})
_OPTIONAL = (
    "alias",
    "entity_type",
    "legal_name",
    "doing_business_as",
    "vertical",
    "tax_id",
    "tax_id_type",
    "tax_id_country",
    "stock_symbol",
    "stock_exchange",
    "alt_business_id",
    "alt_business_id_type",
    "website",
    "business_contact_email",
    "address",
    "authorized_contact",
    "brand_relationship",
    "notes",
    "phone_number_prefix",
    "registration_alias",
    "vendor_fields",
)


def merge_vendor_fields(
    current: Mapping[str, Any] | None, changes: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """What vendors keep on a record, with `changes` applied vendor by vendor, key by key."""
    merged = dict(current or {})
    for vendor, fields in changes.items():
        merged[vendor] = {**merged.get(vendor, {}), **fields}
    return merged


def submitted(row: Mapping[str, Any]) -> bool:
    """Submitted to TCR: registered, or on its way (its KYC fields are frozen)."""
    return row["registration_status"] in SUBMITTED


def registered(row: Mapping[str, Any]) -> bool:
    """TCR registered the brand: its campaigns can be reviewed."""
    return bool(row["registration_status"] == "registered")


def brand_model(row: Mapping[str, Any]) -> Brand:
    """A stored brand as the API shows it."""
    return Brand.model_validate(dict(row), strict=False)


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.validation_error, message, details=[{"field": field}])


def _apply_rules(row: dict[str, Any], *, draft: bool) -> None:
    """What a registry checks of what is there: a US EIN is nine digits; outside drafts, a
    public company names its stock (drafts are checked when they are submitted)."""
    if not draft and row["entity_type"] == "PUBLIC":
        for field in ("stock_symbol", "stock_exchange"):
            if not row[field]:
                raise _invalid(field, "A PUBLIC brand needs its stock symbol and exchange.")
    if row["tax_id"]:
        country = row["tax_id_country"] or (row["address"] or {}).get("country")
        if country == "US" or row["tax_id_type"] == "us_ein":
            digits = row["tax_id"].replace("-", "")
            if not (digits.isdigit() and len(digits) == 9):
                raise _invalid("tax_id", "A US EIN is nine digits, e.g. 12-3456789.")
            row["tax_id"] = digits


_NEEDED_FOR_TCR = {
    "address": ("street", "city", "state", "postal_code", "country"),
    "authorized_contact": ("first_name", "last_name", "email", "phone"),
}


def missing_for_submission(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every field TCR needs that the brand lacks, as error details (empty: ready)."""
    missing = [f for f in ("legal_name", "entity_type", "vertical") if not row[f]]
    for section, parts in _NEEDED_FOR_TCR.items():
        values = row[section] or {}
        missing += [f"{section}.{part}" for part in parts if not values.get(part)]
    if row["entity_type"] not in (None, "INDIVIDUAL") and not row["tax_id"]:
        missing.append("tax_id")
    if row["entity_type"] == "PUBLIC":
        missing += [f for f in ("stock_symbol", "stock_exchange") if not row[f]]
    return [{"field": field, "type": "required_for_submission"} for field in missing]


def _dumped(data: BrandFields) -> dict[str, Any]:
    values = data.changes()
    for field in ("address", "authorized_contact"):
        if values.get(field) is not None:
            values[field] = values[field].model_dump(mode="json")
    if values.get("destination_countries") is not None:
        values["destination_countries"] = [
            c.model_dump(mode="json") for c in values["destination_countries"]
        ]
    if values.get("website") is not None:
        values["website"] = str(values["website"])
    return values


async def brand_row(conn: Connection, organization_id: str, brand_id: str) -> Row | None:
    """A live brand of the organization, as stored."""
    return await conn.fetch_one(_get, {"org": organization_id, "brand": brand_id})


async def brand_rows(conn: Connection, organization_id: str, brand_ids: set[str]) -> dict[str, Row]:
    """Live brands of the organization by id, in one query."""
    if not brand_ids:
        return {}
    rows = await conn.fetch_all(
        select(_t).where(_t.c.organization_id == organization_id, _t.c.id.in_(brand_ids), _live)
    )
    return {row["id"]: row for row in rows}


async def require_brand(conn: Connection, caller: Caller, brand_id: str) -> Row:
    """A live brand of the caller's organization, or 404."""
    return await _require(conn, caller, brand_id)


async def _require(conn: Connection, caller: Caller, brand_id: str) -> Row:
    code = ErrorCode.brand_not_found
    return await fetch_owned(conn, caller, _get, code, "brand", by_profile=False, brand=brand_id)


def new_brand_row(
    organization_id: str,
    data: BrandFields,
    *,
    draft: bool,
    vendor_fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A brand ready to insert (the caller decides PRIMARY or SECONDARY). `vendor_fields`:
    what a dialect keeps on the brand under its vendor's name, e.g. {"plivo": {…}}."""
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": organization_id,
        "id": new_id("brand"),
        "type": "SECONDARY",
        "customer_type": "DIRECT",
        **dict.fromkeys(_OPTIONAL),
        "is_tcr_application": True,
        "destination_countries": [],
        **_dumped(data),
        "vendor_fields": dict(vendor_fields) if vendor_fields else None,
        "registration_status": "not_submitted",
        "identity_status": None,
        "tcr_brand_id": None,
        "rejection_reason": None,
        "submitted_at": None,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
    }
    if not row.get("alias"):  # a label of our own, from the best name the brand has
        contact = row["authorized_contact"] or {}
        names = (contact.get("first_name"), contact.get("last_name"))
        row["alias"] = (
            row["doing_business_as"] or row["legal_name"] or " ".join(filter(None, names))
        ) or "Brand"
    _apply_rules(row, draft=draft)
    return row


async def insert_brand(conn: Connection, row: dict[str, Any]) -> Brand:
    """Insert a new brand (PRIMARY when it is the organization's first) and emit its event."""
    organization_id = row["organization_id"]
    async with conn.transaction():
        await conn.fetch_one(_lock_organization, {"org": organization_id})
        # One row looked up, not a count: that read every brand for each new one, and creates
        # slowed as brands accumulated (bench/dialects.py).
        if await conn.fetch_value(_any, {"org": organization_id}) is None:
            row["type"] = "PRIMARY"
        await conn.execute(_insert, row)
        brand = brand_model(row)
        await emit(conn, organization_id, "brand.created", brand)
    return brand


async def create_brand(
    conn: Connection,
    caller: Caller,
    data: BrandFields,
    *,
    draft: bool = False,
    vendor_fields: Mapping[str, Any] | None = None,
) -> Brand:
    """A new brand. `draft`: the KYC may be incomplete (checked when submitted)."""
    caller.require_organization_scope()
    row = new_brand_row(caller.organization_id, data, draft=draft, vendor_fields=vendor_fields)
    return await insert_brand(conn, row)


async def list_brands(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    *,
    entity_type: str | None = None,
    vertical: str | None = None,
    brand_type: str | None = None,
    registration_status: Sequence[str] | None = None,
    has_tax_id: bool | None = None,
) -> Page[Brand]:
    """`registration_status`: any of these; `has_tax_id`: with (or without) a tax id."""
    caller.require_organization_scope()
    statement = select(_t).where(_t.c.organization_id == caller.organization_id, _live)
    for column, value in (
        (_t.c.entity_type, entity_type),
        (_t.c.vertical, vertical),
        (_t.c.type, brand_type),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if registration_status is not None:
        statement = statement.where(_t.c.registration_status.in_(registration_status))
    if has_tax_id is not None:
        with_tax_id = _t.c.tax_id.is_not(None)
        statement = statement.where(with_tax_id if has_tax_id else ~with_tax_id)
    return (await fetch_page(conn, statement, _t.c.id, page)).map(brand_model)


async def count_by_status(conn: Connection, caller: Caller) -> dict[str, int]:
    """The organization's live brands by TCR registration status."""
    caller.require_organization_scope()
    return await count_by(conn, caller.organization_id, _t.c.registration_status, _live)


_primary = prepare(
    select(_t.c.id).where(_t.c.organization_id == bindparam("org"), _t.c.type == "PRIMARY", _live)
)


async def primary_brand_id(conn: Connection, caller: Caller) -> str | None:
    """The organization's PRIMARY brand, if it has a brand at all."""
    caller.require_organization_scope()
    found: str | None = await conn.fetch_value(_primary, {"org": caller.organization_id})
    return found


async def get_brand(conn: Connection, caller: Caller, brand_id: str) -> Brand:
    caller.require_organization_scope()  # KYC belongs to the organization, not to a profile
    return brand_model(await _require(conn, caller, brand_id))


async def update_brand(
    conn: Connection,
    caller: Caller,
    brand_id: str,
    data: BrandFields,
    *,
    draft: bool = False,
    vendor_fields: Mapping[str, Any] | None = None,
) -> Brand:
    """Change the fields sent; `vendor_fields` changes what each vendor named keeps, key by
    key."""
    caller.require_organization_scope()
    changes = _dumped(data)
    async with conn.transaction():
        current = dict(await _require(conn, caller, brand_id))
        if vendor_fields:
            changes["vendor_fields"] = merge_vendor_fields(current["vendor_fields"], vendor_fields)
        frozen = sorted(set(changes) - _OURS)
        if frozen and submitted(current):
            raise DomainError(
                ErrorCode.brand_locked,
                "This brand was submitted to TCR: its KYC details cannot change.",
                details=[{"field": field} for field in frozen],
            )
        if not changes:
            return brand_model(current)
        row = {**current, **changes, "updated_at": utcnow()}
        _apply_rules(row, draft=draft)
        changes = {k: row[k] for k in changes} | {"updated_at": row["updated_at"]}
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == brand_id)
            .values(**changes)
        )
        brand = brand_model(row)
        await emit(conn, caller.organization_id, "brand.updated", brand)
    return brand


async def delete_brand(conn: Connection, caller: Caller, brand_id: str) -> Brand:
    caller.require_organization_scope()
    async with conn.transaction():
        row = await _require(conn, caller, brand_id)
        if row["type"] == "PRIMARY":
            raise DomainError(
                ErrorCode.primary_brand_undeletable,
                "The organization's primary brand cannot be deleted.",
            )
        now = utcnow()
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == brand_id)
            .values(deleted_at=now, updated_at=now)
        )
        brand = brand_model({**row, "updated_at": now})
        await emit(conn, caller.organization_id, "brand.deleted", brand)
    return brand


def brand_incomplete(missing: list[dict[str, str]]) -> DomainError:
    fields = ", ".join(d["field"] for d in missing)
    return DomainError(
        ErrorCode.brand_incomplete, f"TCR needs more of this brand: {fields}.", details=missing
    )


async def mark_submitted(
    conn: Connection, organization_id: str, row: Mapping[str, Any]
) -> Brand | None:
    """Freeze a brand for registration (status pending), in the caller's transaction; None
    when it was submitted meanwhile."""
    now = utcnow()
    changes = {
        "registration_status": "pending",
        "registration_alias": row["registration_alias"],
        "submitted_at": now,
        "updated_at": now,
        "rejection_reason": None,
    }
    if not await conn.execute(
        update(_t)
        .where(
            _t.c.organization_id == organization_id,
            _t.c.id == row["id"],
            _t.c.registration_status.not_in(SUBMITTED),
        )
        .values(**changes)
    ):
        return None
    brand = brand_model({**row, **changes})
    await emit(conn, organization_id, "brand.submitted", brand)
    return brand


async def submit_brand(
    conn: Connection,
    caller: Caller,
    brand_id: str,
    *,
    registration_alias: str | None = None,
    callback: callbacks.Callback | None = None,
) -> Brand:
    """Freeze the brand and queue its TCR registration; the outcome arrives as an event, and
    at `callback` when the request named one. `registration_alias`: the name to register
    under (else the brand's alias)."""
    caller.require_organization_scope()
    async with conn.transaction():
        row = await _require(conn, caller, brand_id)
        if submitted(row):
            raise DomainError(ErrorCode.brand_locked, "This brand was already submitted to TCR.")
        if missing := missing_for_submission(row):
            raise brand_incomplete(missing)
        if callback is not None:
            await callbacks.register(conn, caller.organization_id, brand_id, callback)
        if registration_alias is not None:
            row = {**row, "registration_alias": registration_alias}
        brand = await mark_submitted(conn, caller.organization_id, row)
        assert brand is not None, "checked above, in this transaction"
        await enqueue(conn, caller.organization_id, REGISTER_JOB, {"brand_id": brand_id})
    return brand


async def register_pending(context: Runtime, organization_id: str, brand_id: str) -> Row | None:
    """Register a pending brand with TCR (outside any transaction) and record the outcome.
    Safe to run twice, or side by side: the first outcome recorded wins. Returns the brand
    as it is afterwards."""
    params = {"org": organization_id, "brand": brand_id}
    async with context.database.connect() as conn:
        row = await conn.fetch_one(_get, params)
    if row is None or row["registration_status"] != "pending":
        return row  # settled already
    submission = BrandSubmission(
        brand_id=brand_id,
        entity_type=row["entity_type"],
        legal_name=row["legal_name"],
        tax_id=row["tax_id"],
        country=row["address"]["country"],
    )
    try:
        registration = await context.providers.tcr.register_brand(submission)
        changes: dict[str, Any] = {
            "registration_status": "registered",
            "identity_status": registration.identity_status,
            "tcr_brand_id": registration.tcr_brand_id,
        }
        event = (
            "brand.unverified" if registration.identity_status == "UNVERIFIED" else "brand.verified"
        )
    except RegistrationRejected as rejected:
        changes = {"registration_status": "rejected", "rejection_reason": str(rejected)}
        event = "brand.rejected"
    async with context.database.connect() as conn, conn.transaction():
        changes["updated_at"] = utcnow()
        if await conn.execute(
            update(_t)
            .where(
                _t.c.organization_id == organization_id,
                _t.c.id == brand_id,
                _t.c.registration_status == "pending",
            )
            .values(**changes)
        ):
            await emit(conn, organization_id, event, brand_model({**row, **changes}))
        return await conn.fetch_one(_get, params)


@handler(REGISTER_JOB)
async def register(context: Runtime, job: Row) -> None:
    await register_pending(context, job["organization_id"], job["payload"]["brand_id"])

"""Brands: the KYC record a US 10DLC registration (TCR) is made from. An organization's first
brand is PRIMARY and stays; later ones are SECONDARY. Once submitted to TCR a brand's KYC
fields are frozen: the registry holds that version."""

from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from msgprofiles.brands.models import brands
from msgprofiles.brands.schemas import Brand, BrandCreate, BrandUpdate
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, Row, prepare
from msgprofiles.jobs.runner import JobContext, enqueue, handler
from msgprofiles.organizations.models import organizations
from msgprofiles.providers.tcr import BrandSubmission, RegistrationRejected
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

REGISTER_JOB = "brand.register"
_t = brands
_live = _t.c.deleted_at.is_(None)
_get = prepare(
    select(_t).where(_t.c.organization_id == bindparam("org"), _t.c.id == bindparam("brand"), _live)
)
_insert = prepare(insert(_t))
_count = prepare(select(func.count()).where(_t.c.organization_id == bindparam("org"), _live))
_lock_organization = prepare(
    select(organizations.c.id).where(organizations.c.id == bindparam("org")).with_for_update()
)
_LOCKED_STATUSES = ("pending", "registered")


def _to_model(row: Row) -> Brand:
    return Brand.model_validate(dict(row), strict=False)


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.validation_error, message, details=[{"field": field}])


def _apply_rules(row: dict[str, Any]) -> None:
    """What a registry checks: a public company names its stock; a US EIN is nine digits."""
    if row["entity_type"] == "PUBLIC":
        for field in ("stock_symbol", "stock_exchange"):
            if not row[field]:
                raise _invalid(field, "A PUBLIC brand needs its stock symbol and exchange.")
    if row["tax_id"]:
        country = row["tax_id_country"] or row["address"]["country"]
        if country == "US":
            digits = row["tax_id"].replace("-", "")
            if not (digits.isdigit() and len(digits) == 9):
                raise _invalid("tax_id", "A US EIN is nine digits, e.g. 12-3456789.")
            row["tax_id"] = digits


def _dumped(data: BrandCreate | BrandUpdate) -> dict[str, Any]:
    values = data.changes()
    for field in ("address", "authorized_contact"):
        if values.get(field) is not None:
            values[field] = values[field].model_dump(mode="json")
    if values.get("website") is not None:
        values["website"] = str(values["website"])
    return values


async def require_brand(conn: Connection, caller: Caller, brand_id: str) -> Row:
    """A live brand of the caller's organization, or 404."""
    return await _require(conn, caller, brand_id)


async def _require(conn: Connection, caller: Caller, brand_id: str) -> Row:
    row = await conn.fetch_one(_get, {"org": caller.organization_id, "brand": brand_id})
    if row is None:
        raise not_found(ErrorCode.brand_not_found, "brand", brand_id)
    return row


async def create_brand(conn: Connection, caller: Caller, data: BrandCreate) -> Brand:
    caller.require_organization_scope()
    now = utcnow()
    row: dict[str, Any] = {
        "organization_id": caller.organization_id,
        "id": new_id("brand"),
        "type": "SECONDARY",
        "doing_business_as": None,
        "tax_id": None,
        "tax_id_country": None,
        "stock_symbol": None,
        "stock_exchange": None,
        "alt_business_id": None,
        "alt_business_id_type": None,
        "website": None,
        "business_contact_email": None,
        **_dumped(data),
        "registration_status": "not_submitted",
        "identity_status": None,
        "tcr_brand_id": None,
        "rejection_reason": None,
        "submitted_at": None,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
    }
    _apply_rules(row)
    async with conn.transaction():
        await conn.fetch_one(_lock_organization, {"org": caller.organization_id})
        if not await conn.fetch_value(_count, {"org": caller.organization_id}):
            row["type"] = "PRIMARY"
        await conn.execute(_insert, row)
        brand = _to_model(row)
        await emit(conn, caller.organization_id, "brand.created", brand)
    return brand


async def list_brands(
    conn: Connection,
    caller: Caller,
    page: PageParams,
    *,
    entity_type: str | None = None,
    vertical: str | None = None,
    brand_type: str | None = None,
) -> Page[Brand]:
    caller.require_organization_scope()
    statement = select(_t).where(_t.c.organization_id == caller.organization_id, _live)
    for column, value in (
        (_t.c.entity_type, entity_type),
        (_t.c.vertical, vertical),
        (_t.c.type, brand_type),
    ):
        if value is not None:
            statement = statement.where(column == value)
    return (await fetch_page(conn, statement, _t.c.id, page)).map(_to_model)


async def get_brand(conn: Connection, caller: Caller, brand_id: str) -> Brand:
    caller.require_organization_scope()  # KYC belongs to the organization, not to a profile
    return _to_model(await _require(conn, caller, brand_id))


async def update_brand(conn: Connection, caller: Caller, brand_id: str, data: BrandUpdate) -> Brand:
    caller.require_organization_scope()
    changes = _dumped(data)
    async with conn.transaction():
        current = dict(await _require(conn, caller, brand_id))
        frozen = sorted(set(changes) - {"alias"})
        if frozen and current["registration_status"] in _LOCKED_STATUSES:
            raise DomainError(
                ErrorCode.brand_locked,
                "This brand was submitted to TCR: its KYC details cannot change.",
                details=[{"field": field} for field in frozen],
            )
        if not changes:
            return _to_model(current)
        row = {**current, **changes, "updated_at": utcnow()}
        _apply_rules(row)
        changes = {k: row[k] for k in changes} | {"updated_at": row["updated_at"]}
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == brand_id)
            .values(**changes)
        )
        brand = _to_model(row)
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
        brand = _to_model({**row, "updated_at": now})
        await emit(conn, caller.organization_id, "brand.deleted", brand)
    return brand


async def submit_brand(conn: Connection, caller: Caller, brand_id: str) -> Brand:
    """Freeze the brand and queue its TCR registration; the outcome arrives as an event."""
    caller.require_organization_scope()
    async with conn.transaction():
        row = dict(await _require(conn, caller, brand_id))
        if row["registration_status"] in _LOCKED_STATUSES:
            raise DomainError(ErrorCode.brand_locked, "This brand was already submitted to TCR.")
        if row["entity_type"] != "INDIVIDUAL" and not row["tax_id"]:
            raise DomainError(
                ErrorCode.brand_incomplete,
                "TCR needs the tax id (EIN) of a company brand.",
                details=[{"field": "tax_id", "type": "required_for_submission"}],
            )
        now = utcnow()
        changes = {
            "registration_status": "pending",
            "submitted_at": now,
            "updated_at": now,
            "rejection_reason": None,
        }
        await conn.execute(
            update(_t)
            .where(_t.c.organization_id == caller.organization_id, _t.c.id == brand_id)
            .values(**changes)
        )
        brand = _to_model({**row, **changes})
        await emit(conn, caller.organization_id, "brand.submitted", brand)
        await enqueue(conn, caller.organization_id, REGISTER_JOB, {"brand_id": brand_id})
    return brand


@handler(REGISTER_JOB)
async def register(context: JobContext, job: Row) -> None:
    """Register a submitted brand with TCR (outside any transaction), then record it."""
    caller = Caller(organization_id=job["organization_id"], role="admin")
    brand_id = job["payload"]["brand_id"]
    async with context.database.connect() as conn:
        row = await conn.fetch_one(_get, {"org": caller.organization_id, "brand": brand_id})
    if row is None or row["registration_status"] != "pending":
        return  # settled already: a job may run twice
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
        if not await conn.execute(
            update(_t)
            .where(
                _t.c.organization_id == caller.organization_id,
                _t.c.id == brand_id,
                _t.c.registration_status == "pending",
            )
            .values(**changes)
        ):
            return
        await emit(conn, caller.organization_id, event, _to_model({**row, **changes}))

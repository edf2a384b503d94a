"""Opentact's messaging profiles (spec §2-§4, §7.3) on the native profiles: the same objects
and numbers as /v1, in Opentact's names and `{success, payload}` envelope."""

from typing import Any

from fastapi import APIRouter, Response

from msgprofiles.api_keys import service as api_keys
from msgprofiles.core.errors import ErrorCode
from msgprofiles.core.http import AdminCtx, Context, Ctx
from msgprofiles.core.pagination import PageParams
from msgprofiles.dialects.opentact import schemas
from msgprofiles.dialects.opentact.wire import OpentactRoute, ok
from msgprofiles.dialects.toolkit import from_uuid, to_uuid, validated
from msgprofiles.numbers import service as numbers
from msgprofiles.numbers.schemas import PhoneNumber
from msgprofiles.organizations import service as organizations
from msgprofiles.profiles import service as profiles
from msgprofiles.profiles.schemas import Profile, ProfileCreate, ProfileUpdate
from msgprofiles.webhooks.formats import iso

router = APIRouter(prefix="/rest/profile/messaging", route_class=OpentactRoute)


def _id(value: str) -> str:
    return from_uuid("prof", value, ErrorCode.profile_not_found, "messaging profile")


def _leases(record: Profile, leased: list[PhoneNumber]) -> list[dict[str, Any]]:
    """Each number assigned to the profile as an Opentact TN lease."""
    return [
        {
            "uuid": to_uuid(number.id),
            "created_on": iso(number.created_at),
            "modified_on": iso(number.updated_at),
            "tn": {"tn": int(number.number.removeprefix("+"))},
            "autorenew": False,
            "expired_on": None,
            "messaging_profile": {"uuid": to_uuid(record.id), "name": record.name},
        }
        for number in leased
    ]


async def _shapes(ctx: Context, records: list[Profile]) -> list[dict[str, Any]]:
    """Profiles as Opentact shows them, with their account, authors and leases."""
    organization = await organizations.get_organization(ctx.conn, ctx.caller)
    account = {
        "uuid": to_uuid(organization.id),
        "name": organization.name,
        "email": organization.email,
    }
    authors = {key for r in records for key in (r.created_by, r.updated_by) if key}
    names = await api_keys.key_names(ctx.conn, ctx.caller.organization_id, authors)

    def author(key_id: str | None) -> dict[str, Any] | None:
        return {"uuid": to_uuid(key_id), "name": names.get(key_id)} if key_id else None

    shapes = []
    for record in records:
        settings, pool = record.messaging, record.messaging.number_pool
        shapes.append(
            {
                "uuid": to_uuid(record.id),
                "name": record.name,
                "callback_url": settings.webhook_url and str(settings.webhook_url),
                "callback_url2": settings.failover_url and str(settings.failover_url),
                "number_pool_enable": pool.enabled,
                "long_code_weight": pool.long_code_weight,
                "tollfree_weight": pool.toll_free_weight,
                "skip_unhealthy_tns": pool.skip_unhealthy,
                "sticky_sender": pool.sticky_sender,
                "created_on": iso(record.created_at),
                "modified_on": iso(record.updated_at),
                "account": account,
                "created_by": author(record.created_by),
                "modified_by": author(record.updated_by),
                "leases": _leases(
                    record, await numbers.assigned_numbers(ctx.conn, ctx.caller, record.id)
                ),
            }
        )
    return shapes


async def _shape(ctx: Context, record: Profile) -> dict[str, Any]:
    return (await _shapes(ctx, [record]))[0]


@router.post("", status_code=201)
async def create_profile(body: schemas.ProfileCreate, ctx: AdminCtx) -> Response:
    data = validated(ProfileCreate, {"name": body.name, "messaging": body.messaging()})
    state = ctx.runtime
    created = await profiles.create_profile(
        ctx.conn, ctx.caller, data, state.providers.payments, state.secrets
    )
    return ok(await _shape(ctx, created), 201)


@router.get("")
async def list_profiles(ctx: Ctx) -> Response:
    """Every messaging profile of the account, newest first (Opentact does not page)."""
    found: list[Profile] = []
    cursor = None
    while True:
        page = await profiles.list_profiles(ctx.conn, ctx.caller, PageParams(100, cursor))
        found += page.items
        if not page.has_more:
            break
        cursor = page.next_cursor
    return ok(await _shapes(ctx, found))


@router.get("/{uuid}")
async def get_profile(uuid: str, ctx: Ctx) -> Response:
    return ok(await _shape(ctx, await profiles.get_profile(ctx.conn, ctx.caller, _id(uuid))))


@router.patch("/{uuid}")
async def update_profile(uuid: str, body: schemas.ProfileUpdate, ctx: AdminCtx) -> Response:
    values: dict[str, Any] = {}
    if body.name is not None:
        values["name"] = body.name
    if messaging := body.messaging():
        values["messaging"] = messaging
    changes = validated(ProfileUpdate, values)
    payments = ctx.runtime.providers.payments
    updated = await profiles.update_profile(ctx.conn, ctx.caller, _id(uuid), changes, payments)
    return ok(await _shape(ctx, updated))


@router.delete("/{uuid}")
async def delete_profile(uuid: str, ctx: AdminCtx) -> Response:
    """Answers the removed profile (the account's own profile stays: 400)."""
    profile_id = _id(uuid)
    current = await _shape(ctx, await profiles.get_profile(ctx.conn, ctx.caller, profile_id))
    removed = await profiles.delete_profile(ctx.conn, ctx.caller, profile_id)
    return ok(current | {"modified_on": iso(removed.updated_at)})


@router.get("/{uuid}/leases")
async def get_leases(uuid: str, ctx: Ctx) -> Response:
    """The numbers assigned to the profile, as TN leases (also at `…/lease`)."""
    record = await profiles.get_profile(ctx.conn, ctx.caller, _id(uuid))
    return ok(_leases(record, await numbers.assigned_numbers(ctx.conn, ctx.caller, record.id)))


router.add_api_route("/{uuid}/lease", get_leases, methods=["GET"], include_in_schema=False)

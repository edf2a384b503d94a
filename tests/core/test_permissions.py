"""Permissions are declared on the route, so no route — native or dialect — can forget one:
every route that changes something takes an admin key, except the few listed here, and every
route but health and the docs takes a key at all."""

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from msgprofiles.app import create_app
from msgprofiles.core.http import admin_context, current_context, operator_context

# Writes a member key may make: choosing a sender changes nothing but the sticky choice, and a
# send check changes nothing at all.
MEMBER_WRITES = {
    ("POST", "/v1/profiles/{profile_id}/select_sender"),
    ("POST", "/v1/send_checks"),
}
OPEN = {"/health", "/metrics"}  # /metrics checks its own token, when one is set


def routes(app: FastAPI | APIRouter, prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every API route of the app, its included routers and its mounted dialects."""
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            found.append((prefix + route.path, route))
        elif isinstance(route, Mount) and isinstance(route.app, FastAPI):
            found += routes(route.app, prefix + route.path)
        elif isinstance(router := getattr(route, "original_router", None), APIRouter):
            found += routes(router, prefix)  # FastAPI keeps an included router whole
    return found


def dependencies(route: APIRoute) -> set[object]:
    return {dependency.call for dependency in route.dependant.dependencies}


def test_every_write_needs_an_admin_key_and_every_route_a_key(settings):
    app = create_app(settings)
    checked = 0
    for path, route in routes(app):
        needs = dependencies(route)
        if path in OPEN:
            assert not needs & {admin_context, current_context, operator_context}
            continue
        assert needs & {admin_context, current_context, operator_context}, f"{path} takes no key"
        for method in route.methods - {"GET", "HEAD"}:
            checked += 1
            if (method, path) in MEMBER_WRITES:
                assert current_context in needs, path
            else:
                assert needs & {admin_context, operator_context}, f"{method} {path} lacks AdminCtx"
    assert checked > 40  # native and dialect writes were all seen

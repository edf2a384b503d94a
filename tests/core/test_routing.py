"""The route index must pick, for every path, the route FastAPI's own scan would pick: in the
app and in each dialect's sub-application."""

import re

import pytest
from fastapi.routing import _IncludedRouter
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Mount

from msgprofiles.app import create_app
from msgprofiles.core.routing import RouteIndex

app = create_app()
APPS = {"/": app.router.routes} | {
    route.path: route.routes
    for route in app.router.routes
    if isinstance(route, Mount) and route.path.startswith("/dialects/")
}


def scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}


def scan(routes: list[BaseRoute], path: str, method: str) -> BaseRoute | None:
    for route in routes[1:]:  # behind the index
        if route.matches(scope(path, method))[0] == Match.FULL:
            return route
    return None


def indexed(routes: list[BaseRoute], path: str, method: str) -> BaseRoute | None:
    index = routes[0]
    assert isinstance(index, RouteIndex)
    match, child_scope = index.matches(scope(path, method))
    return child_scope["msgprofiles.route"] if match == Match.FULL else None


def flattened(routes: list[BaseRoute]) -> list[tuple[str, BaseRoute]]:
    found = []
    for route in routes:
        if isinstance(route, _IncludedRouter):
            found += flattened(route.original_router.routes)
        elif isinstance(route, RouteIndex):
            continue
        else:
            found.append((getattr(route, "path", ""), route))
    return found


def every_path(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    """A concrete path and method for each route (mounts: a path beneath)."""
    return [
        (re.sub(r"\{[^}]+\}", "x1", template) + ("/x" if isinstance(route, Mount) else ""), m)
        for template, route in flattened(routes)
        for m in sorted(getattr(route, "methods", None) or {"GET"})
    ]


@pytest.mark.parametrize("where", list(APPS))
def test_every_route_is_found_where_the_scan_finds_it(where):
    routes = APPS[where]
    paths = every_path(routes)
    assert len(paths) > (100 if where == "/" else 10)
    placed = 0
    for path, method in paths:
        picked = indexed(routes, path, method)
        assert picked is scan(routes, path, method), (path, method)
        placed += picked is not None
    assert placed == len(paths)


words = ["v1", "v2", "v3", "contacts", "profiles", "Account", "Profile", "x1", "", "%20", "rest"]


@settings(max_examples=200, derandomize=True)
@given(
    st.sampled_from(list(APPS)),
    st.lists(st.sampled_from(words), min_size=1, max_size=6),
    st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
)
def test_any_path_goes_where_the_scan_sends_it(where, parts, method):
    routes, path = APPS[where], "/" + "/".join(parts)
    assert indexed(routes, path, method) is scan(routes, path, method)


def test_where_routers_overlap_the_first_in_order_wins():
    """The app's own routes never overlap across routers, so this builds routes that do: the
    index must keep FastAPI's order, leave a route it cannot file to its own judgement, and
    send paths beneath a mount to it."""
    from fastapi import APIRouter, FastAPI

    async def endpoint() -> None:
        return None

    first, second = APIRouter(), APIRouter()
    first.add_api_route("/x/{id}", endpoint, methods=["GET"])
    second.add_api_route("/x/special", endpoint, methods=["GET", "POST"])
    second.add_api_route("/files/{name}.txt", endpoint, methods=["GET"])
    built = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    built.include_router(first)
    built.include_router(second)
    built.mount("/sub/app", FastAPI())
    RouteIndex.install(built)
    routes = built.router.routes
    for path, method in [
        ("/x/special", "GET"),  # both match: the first router's
        ("/x/special", "POST"),  # only the second takes POST
        ("/files/a.txt", "GET"),  # a parameter inside a segment
        ("/sub/app/anything/below", "GET"),
        ("/x/special", "DELETE"),  # a 405: left to the scan
        ("/nowhere", "GET"),
    ]:
        assert indexed(routes, path, method) is scan(routes, path, method), (path, method)
    assert indexed(routes, "/x/special", "GET") is routes[1]
    assert indexed(routes, "/x/special", "POST") is routes[2]
    assert indexed(routes, "/files/a.txt", "GET") is routes[2]
    assert indexed(routes, "/sub/app/anything/below", "GET") is routes[3]

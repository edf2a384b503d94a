"""The route index must pick, for every path, the route FastAPI's own scan would pick."""

import re

from fastapi.routing import _IncludedRouter
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Mount

from msgprofiles.app import create_app
from msgprofiles.core.routing import RouteIndex

app = create_app()
index, *scanned = app.router.routes
assert isinstance(index, RouteIndex)


def scan(path: str, method: str) -> BaseRoute | None:
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    for route in scanned:
        if route.matches(scope)[0] == Match.FULL:
            return route
    return None


def indexed(path: str, method: str) -> BaseRoute | None:
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    match, child_scope = index.matches(scope)
    return child_scope["msgprofiles.route"] if match == Match.FULL else None


def flattened(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, BaseRoute]]:
    found = []
    for route in routes:
        if isinstance(route, _IncludedRouter):
            found += flattened(route.original_router.routes, prefix)
        elif isinstance(route, Mount) and route.routes:
            found += flattened(route.routes, prefix + route.path)
        else:
            found.append((prefix + getattr(route, "path", ""), route))
    return found


def every_path() -> list[tuple[str, str]]:
    """A concrete path and method for each route of the app and of its mounted dialects."""
    return [
        (re.sub(r"\{[^}]+\}", "x1", template), method)
        for template, route in flattened(scanned)
        for method in sorted(getattr(route, "methods", None) or {"GET"})
    ]


def test_every_route_is_found_where_the_scan_finds_it():
    paths = every_path()
    assert len(paths) > 250
    placed = 0
    for path, method in paths:
        picked = indexed(path, method)
        assert picked is None or picked is scan(path, method), (path, method)
        placed += picked is not None
    assert placed >= 0.9 * len(paths), "nearly every route is dispatched by the index"


segments = st.sampled_from(["v1", "contacts", "profiles", "dialects", "sentdm", "x1", "", "%20"])


@settings(max_examples=300, derandomize=True)
@given(st.lists(segments, min_size=1, max_size=5), st.sampled_from(["GET", "POST", "DELETE"]))
def test_any_path_goes_where_the_scan_sends_it(parts, method):
    path = "/" + "/".join(parts)
    picked = indexed(path, method)
    assert picked is None or picked is scan(path, method)

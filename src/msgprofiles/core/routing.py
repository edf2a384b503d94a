"""Route dispatch by path prefix, in front of FastAPI's own.

FastAPI (0.16x) matches a request against each route of each included router in turn, at
about a microsecond a route and twice over: routing alone cost a contact request 130 µs and a
dialect request 190 µs, as much as all the rest of a simple read (measured; the test suite
checks the index picks what that scan picks). `RouteIndex` goes first in the app's routes
and hands a request to the included routers and mounts whose routes begin with the request's
first two path segments (`/v1/contacts`, `/dialects/plivo`). Whatever it does not match
(a 404, a 405) falls through to FastAPI's scan, which stays behind it, as do the docs."""

from collections.abc import Iterator, Sequence

from fastapi.routing import _IncludedRouter
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send

_SELECTED = "msgprofiles.route"


def prefix_of(path: str) -> str:
    """The first two segments: `/v1/contacts/ct_1/consent` → `/v1/contacts`."""
    return "/".join(path.split("/", 3)[:3])


class RouteIndex(BaseRoute):
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._by_prefix: dict[str, list[BaseRoute]] = {}
        for route in routes:
            prefixes = set(_prefixes(route))
            if "" in prefixes:  # a route it cannot place: the scan behind takes them all
                continue
            for prefix in sorted(prefixes):
                self._by_prefix.setdefault(prefix, []).append(route)  # the scan's order

    def candidates(self, path: str) -> list[BaseRoute]:
        return self._by_prefix.get(prefix_of(path), [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            for route in self.candidates(scope["path"]):
                match, child_scope = route.matches(scope)
                if match == Match.FULL:
                    return match, {**child_scope, _SELECTED: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(_SELECTED)
        await route.handle(scope, receive, send)


def _prefixes(route: BaseRoute) -> Iterator[str]:
    """The prefix of each path the route answers; "" for one that starts with a parameter
    (`/{anything}`), which no prefix stands for."""
    if isinstance(route, _IncludedRouter):
        assert not route.include_context.prefix, "routers carry their paths' prefixes"
        for inner in route.original_router.routes:
            yield from _prefixes(inner)
        return
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        yield ""
        return
    if isinstance(route, Mount):  # it answers beneath its path: the prefix must be all of it
        if path.count("/") < 2:
            yield ""
            return
        path += "/"
    prefix = prefix_of(path)
    yield "" if "{" in prefix else prefix

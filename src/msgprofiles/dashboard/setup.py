"""The hosted setup page: `GET /setup/{token}` shows the one step a customer takes (connect
WhatsApp), `POST /setup/{token}` completes it. Server-rendered from the package's templates,
with no script and no outside asset: it works without JavaScript, on a phone, offline.

In production the step is Meta's Embedded Signup; here the sandbox provider's form stands in
for it. The form carries a CSRF token that must match a cookie set with the page (the cookie
is not `Secure`, so plain-http loopback works)."""

import re
import secrets
from hmac import compare_digest
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from msgprofiles.core.http import pipeline_of
from msgprofiles.customers.service import OpenedLink
from msgprofiles.workflows import onboarding

router = APIRouter(include_in_schema=False)
TEMPLATES = Environment(
    loader=PackageLoader("msgprofiles.dashboard", "templates"), autoescape=select_autoescape()
)
CSRF_COOKIE = "msgprofiles_setup_csrf"
FORM_FIELDS = ("phone_number", "phone_number_id", "name")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
# The token is in the address: no caching, and no Referer to whatever the page links to.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

# Each reason a link cannot be used: its status and plain words for the person holding it.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "link_invalid": (
        404,
        "This link does not work",
        "Check that you opened the whole link, or ask for a new one.",
    ),
    "link_expired": (410, "This link has expired", "Ask for a new link to connect WhatsApp."),
    "link_revoked": (410, "This link was cancelled", "Ask for a new link to connect WhatsApp."),
    "link_consumed": (
        410,
        "This link was already used",
        "WhatsApp was connected with it. To connect another number, ask for a new link.",
    ),
    "customer_archived": (410, "This account is closed", "This link can no longer be used."),
    "signup_refused": (
        400,
        "WhatsApp did not finish the signup",
        "Nothing was connected. Go back and try again.",
    ),
    "account_taken": (
        409,
        "This number is already connected",
        "Choose another number, or ask whoever sent the link.",
    ),
    "csrf": (
        403,
        "This form has expired",
        "Reload the page and submit the form again; nothing was changed.",
    ),
}


def _page(name: str, status: int = 200, **values: object) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**values), status, headers=_PRIVATE)


def _with_query(url: str, **query: str) -> str:
    parts = urlsplit(url)
    merged = [*parse_qsl(parts.query, keep_blank_values=True), *query.items()]
    return urlunsplit(parts._replace(query=urlencode(merged)))


def _problem(link: OpenedLink | None, problem: str, organization_name: str = "") -> Response:
    """To the link's failure URL when it has one, else a page in plain words."""
    if link is not None and link.failure_redirect_url:
        target = _with_query(
            link.failure_redirect_url, customer_id=link.customer_id, status="failed", reason=problem
        )
        return RedirectResponse(target, 302, headers=_PRIVATE)
    status, heading, message = PROBLEMS[problem]
    return _page(
        "problem.html",
        status,
        heading=heading,
        message=message,
        organization_name=organization_name,
    )


@router.get("/setup/{token}")
async def setup_page(token: str, request: Request) -> Response:
    if not _TOKEN.fullmatch(token):
        return _problem(None, "link_invalid")
    setup = await onboarding.open_setup(pipeline_of(request).runtime, token)
    if setup.link is None or setup.problem is not None:
        return _problem(setup.link, setup.problem or "link_invalid", setup.organization_name)
    csrf = secrets.token_urlsafe(32)
    page = _page(
        "setup.html",
        organization_name=setup.organization_name,
        customer_name=setup.link.customer_name,
        csrf_token=csrf,
    )
    page.set_cookie(
        CSRF_COOKIE, csrf, max_age=3600, path="/setup/", httponly=True, samesite="strict"
    )
    return page


@router.post("/setup/{token}")
async def complete_setup(token: str, request: Request) -> Response:
    if not _TOKEN.fullmatch(token):
        return _problem(None, "link_invalid")
    form = dict(
        parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    )
    expected, given = request.cookies.get(CSRF_COOKIE, ""), form.get("csrf_token", "")
    if not expected or not compare_digest(expected.encode(), given.encode()):
        return _problem(None, "csrf")
    fields = {name: form[name].strip() for name in FORM_FIELDS if form.get(name, "").strip()}
    outcome = await onboarding.complete_setup(pipeline_of(request).runtime, token, fields)
    link, organization_name = outcome.setup.link, outcome.setup.organization_name
    if link is None or outcome.account_id is None:
        return _problem(link, outcome.problem or "link_invalid", organization_name)
    if link.success_redirect_url:
        target = _with_query(
            link.success_redirect_url,
            customer_id=link.customer_id,
            account_id=outcome.account_id,
            status="success",
        )
        return RedirectResponse(target, 303, headers=_PRIVATE)
    return _page("done.html", organization_name=organization_name, customer_name=link.customer_name)

"""The admin dashboard at /dashboard: what operators and tenants look at instead of reading
JSON. Server-rendered from the package's templates (no outside asset), over the same services
as the API — a change made here emits the same events and obeys the same rules.

`ConsoleRoute` gives every page its session (else the login page), its one connection, the CSRF
check of every form, the admin check of every write, and renders refusals as a page with the
API's stable code."""

import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.responses import HTMLResponse, RedirectResponse

from msgprofiles.api_keys import service as api_keys
from msgprofiles.api_keys.schemas import ApiKeyCreate
from msgprofiles.brands import service as brands
from msgprofiles.campaigns import service as campaigns
from msgprofiles.contacts import service as contacts
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import STATUS, DomainError, ErrorCode
from msgprofiles.core.http import pipeline_of, validation_error
from msgprofiles.core.pagination import Page, PageParams
from msgprofiles.core.time import utcnow
from msgprofiles.customers import service as customers
from msgprofiles.customers.schemas import CustomerUpdate, SetupLinkCreate
from msgprofiles.dashboard import charts
from msgprofiles.dashboard import session as sessions
from msgprofiles.db.database import Connection
from msgprofiles.numbers import service as numbers
from msgprofiles.organizations import service as organizations
from msgprofiles.profiles import service as profiles
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks import events as event_log
from msgprofiles.webhooks import service as webhooks
from msgprofiles.webhooks import stats
from msgprofiles.webhooks.schemas import RotateSecret, WebhookSubscriptionCreate
from msgprofiles.whatsapp import service as whatsapp
from msgprofiles.workflows import completion

TEMPLATES = Environment(
    loader=PackageLoader("msgprofiles.dashboard", "templates"), autoescape=select_autoescape()
)
PAGE_SIZE = 25
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}
NAV: Sequence[tuple[str, str]] = (
    ("Overview", ""),
    ("Profiles", "/profiles"),
    ("Brands", "/brands"),
    ("Campaigns", "/campaigns"),
    ("Numbers", "/numbers"),
    ("Customers", "/customers"),
    ("WhatsApp", "/whatsapp_accounts"),
    ("Contacts", "/contacts"),
    ("Webhooks", "/webhooks"),
    ("Events", "/events"),
    ("API keys", "/api_keys"),
)


@dataclass
class View:
    """One dashboard request: who looks, through which connection, with which form."""

    request: Request
    runtime: Runtime
    conn: Connection
    caller: Caller
    csrf: str
    form: dict[str, str] = field(default_factory=dict)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        nav = [*NAV, ("Organizations", "/organizations")] if self.caller.is_operator else NAV
        html = TEMPLATES.get_template(template).render(
            nav=nav,
            path=self.request.url.path,
            csrf_token=self.csrf,
            can_write=self.caller.role == "admin",
            caller=self.caller,
            notice=self.request.query_params.get("notice"),
            **values,
        )
        return HTMLResponse(html, status, headers=_PRIVATE)

    def page(self, cursor_name: str = "cursor") -> PageParams:
        return PageParams(PAGE_SIZE, self.request.query_params.get(cursor_name) or None)

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name) or None

    def done(self, path: str, notice: str) -> RedirectResponse:
        """After a write: back to a page, with a line saying what happened (Post/Redirect/Get)."""
        target = "/dashboard" + path + "?" + urlencode({"notice": notice})
        return RedirectResponse(target, 303, headers=_PRIVATE)


class _LoginFirst(Exception):
    pass


class ConsoleRoute(APIRoute):
    posts_change_data = True
    """A POST changes the organization's data: admin keys only."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            runtime = pipeline_of(request).runtime
            async with runtime.database.connect() as conn:
                found = await sessions.current(request, conn, runtime.secrets)
                if found is None:
                    wanted = quote(request.url.path, safe="/")
                    return RedirectResponse(f"/dashboard/login?next={wanted}", 303)
                view = View(request, runtime, conn, found.caller, found.csrf)
                request.state.view = view
                try:
                    if request.method == "POST":
                        view.form = await _form(request)
                        if not sessions.same(found.csrf, view.form.get("csrf_token")):
                            return _problem(view, 403, "csrf_failed", _CSRF_TEXT)
                        if self.posts_change_data:
                            found.caller.require_admin()
                    return await handler(request)
                except DomainError as error:
                    return _problem(view, STATUS[error.code], error.code.value, error.explained())

        return route


_CSRF_TEXT = "This form has expired or did not come from this page; reload it and try again."


def _problem(view: View, status: int, code: str, message: str) -> HTMLResponse:
    return view.render("console/problem.html", status, code=code, message=message)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _checked(model: type[BaseModel], values: Mapping[str, Any]) -> Any:
    """A form's values as a native input model, or the API's 400 with its fields."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise validation_error(error.errors()) from None


class SessionRoute(ConsoleRoute):
    """A form about the session itself (logout): any key's."""

    posts_change_data = False


router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=ConsoleRoute)
own_session = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=SessionRoute)
public = APIRouter(prefix="/dashboard", include_in_schema=False)


def view_of(request: Request) -> View:
    view: View = request.state.view
    return view


# Login and logout ---------------------------------------------------------------------------


def _login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    response = HTMLResponse("", status, headers=_PRIVATE)
    token = sessions.login_token(request, response)
    target = request.query_params.get("next") or "/dashboard"
    response.body = (
        TEMPLATES.get_template("console/login.html")
        .render(
            csrf_token=token, error=error, next=target if target.startswith("/dashboard") else ""
        )
        .encode()
    )
    response.headers["content-length"] = str(len(response.body))
    return response


@public.get("/login")
async def login_page(request: Request) -> Response:
    return _login_page(request)


@public.post("/login")
async def login(request: Request) -> Response:
    """Check the API key once; a sealed session cookie stands for it from then on."""
    form = await _form(request)
    if not sessions.same(request.cookies.get(sessions.LOGIN_COOKIE), form.get("csrf_token")):
        return _login_page(request, 403, _CSRF_TEXT)
    pipeline = pipeline_of(request)
    runtime = pipeline.runtime
    address = request.client.host if request.client else "unknown"
    async with runtime.database.connect() as conn:
        try:
            caller = await pipeline.authenticate(conn, form.get("api_key", "").strip())
        except DomainError:
            limited = not (await pipeline.rate_limiter.hit_failure(address)).allowed
            message = (
                "Too many wrong keys; wait a minute." if limited else "That API key is not valid."
            )
            return _login_page(request, 429 if limited else 401, message)
    if caller.key_id is None:
        return _login_page(request, 401, "That API key is not valid.")
    target = form.get("next") or "/dashboard"
    response = RedirectResponse(target if target.startswith("/dashboard") else "/dashboard", 303)
    sessions.start(response, request, runtime.secrets, caller)
    return response


@own_session.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/dashboard/login", 303)
    sessions.end(response, request)
    return response


# Overview -----------------------------------------------------------------------------------


@router.get("")
async def overview(request: Request) -> Response:
    view = view_of(request)
    conn, caller = view.conn, view.caller
    now = utcnow()
    since = now - timedelta(hours=24)
    counts = {
        "Profiles": await profiles.count_by_status(conn, caller),
        "Brands": await brands.count_by_status(conn, caller) if caller.profile_id is None else {},
        "Customers": await customers.count_by_status(conn, caller),
        "Contacts": {"all": await contacts.count_contacts(conn, caller)},
    }
    delivered = charts.deliveries(await stats.deliveries_by_hour(conn, caller, since), now)
    latency = charts.latency(await stats.delivery_latencies(conn, caller, since), now)
    organization = await organizations.get_organization(conn, caller)
    return view.render(
        "console/overview.html",
        title="Overview",
        organization=organization,
        counts=counts,
        charts=[delivered, latency],
    )


# Lists and details ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A list page: its rows (cells, and where each row leads), filters and the next page."""

    title: str
    headers: Sequence[str]
    rows: Sequence[tuple[str | None, Sequence[Any]]]
    next_cursor: str | None
    filters: Sequence[Mapping[str, Any]] = ()
    create: Mapping[str, Any] | None = None


def _listing(view: View, listing: Listing) -> HTMLResponse:
    query = dict(view.request.query_params)
    query.pop("cursor", None)
    query.pop("notice", None)
    next_url = None
    if listing.next_cursor:
        next_url = "?" + urlencode({**query, "cursor": listing.next_cursor})
    return view.render(
        "console/list.html", title=listing.title, listing=listing, next_url=next_url, query=query
    )


def _choice(name: str, label: str, options: Sequence[str], view: View) -> dict[str, Any]:
    return {"name": name, "label": label, "options": options, "value": view.query(name) or ""}


def _search(label: str, view: View) -> dict[str, Any]:
    return {"name": "search", "label": label, "options": None, "value": view.query("search") or ""}


def _only(value: str | None, allowed: Sequence[str]) -> str | None:
    """A filter's value, if it is one the list knows (else no filter, as for an empty one)."""
    return value if value in allowed else None


# Where an id of each kind is shown: an id in a detail page links there.
_PAGES = {
    "prof": "profiles",
    "brand": "brands",
    "camp": "campaigns",
    "num": "numbers",
    "cus": "customers",
    "wa": "whatsapp_accounts",
    "ct": "contacts",
    "whsub": "webhooks",
    "evt": "events",
}


def _shown(value: Any) -> Any:
    """A value as a cell shows it: a time, a link to an object, yes/no, JSON, or text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2) if value else "—"
    if isinstance(value, str):
        prefix, _, rest = value.partition("_")
        if prefix in _PAGES and len(rest) == 26 and rest.isalnum():
            return {"link": f"/dashboard/{_PAGES[prefix]}/{value}", "text": value}
        if len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
            return {"time": value}
    return "—" if value is None else value


def _fields(model: BaseModel, hide: Sequence[str] = ()) -> list[tuple[str, Any]]:
    """A model's fields for a definition list."""
    return [
        (name.replace("_", " "), _shown(value))
        for name, value in model.model_dump(mode="json").items()
        if name not in hide and name != "object"
    ]


def _detail(view: View, title: str, model: BaseModel, **values: Any) -> HTMLResponse:
    return view.render(
        "console/detail.html",
        title=title,
        fields=_fields(model, values.pop("hide", ())),
        **values,
    )


def _when(moment: datetime | None) -> Any:
    return {"time": moment.isoformat()} if moment else "—"


PROFILE_STATUSES = ("incomplete", "submitted", "completed", "rejected")


@router.get("/profiles")
async def profile_list(request: Request) -> Response:
    view = view_of(request)
    status = _only(view.query("status"), PROFILE_STATUSES)
    found = await profiles.list_profiles(
        view.conn, view.caller, view.page(), status=status, search=view.query("search")
    )
    return _listing(
        view,
        Listing(
            "Profiles",
            ("Name", "Short name", "Status", "Created"),
            [
                (
                    f"/dashboard/profiles/{p.id}",
                    (p.name, p.short_name or "—", p.status, _when(p.created_at)),
                )
                for p in found.items
            ],
            found.next_cursor,
            [_search("Name", view), _choice("status", "Status", PROFILE_STATUSES, view)],
        ),
    )


@router.get("/profiles/{profile_id}")
async def profile_detail(request: Request, profile_id: str) -> Response:
    view = view_of(request)
    profile = await profiles.get_profile(view.conn, view.caller, profile_id)
    assigned = await numbers.list_numbers(view.conn, view.caller, PageParams(100, None), profile_id)
    owned = await campaigns.list_campaigns(
        view.conn, view.caller, profile_id, PageParams(100, None)
    )
    tables = [
        {
            "title": "Numbers",
            "headers": ("Number", "Type", "Health"),
            "rows": [
                (f"/dashboard/numbers/{n.id}", (n.number, n.type, n.health)) for n in assigned.items
            ],
        },
        {
            "title": "Campaigns",
            "headers": ("Name", "Status", "Inherited"),
            "rows": [
                (
                    f"/dashboard/campaigns/{c.id}",
                    (c.content.get("name", c.id), c.status, "yes" if c.inherited else "no"),
                )
                for c in owned.items
            ],
        },
    ]
    try:
        run = await completion.get_completion(view.conn, view.caller, profile_id)
    except DomainError as error:
        if error.code != ErrorCode.completion_not_found:
            raise
    else:
        tables.append(
            {
                "title": "Latest completion",
                "headers": ("Status", "Outcome", "Error", "Callback", "Started", "Finished"),
                "rows": [
                    (
                        None,
                        (
                            run.status,
                            run.outcome or "—",
                            (run.error or {}).get("message", "—"),
                            f"{run.callback.status} ({run.callback.attempts} attempts)",
                            _when(run.created_at),
                            _when(run.finished_at),
                        ),
                    )
                ],
            }
        )
    return _detail(view, f"Profile {profile.name}", profile, tables=tables)


BRAND_STATUSES = ("not_submitted", "pending", "registered", "rejected")
ENTITY_TYPES = ("PRIVATE", "PUBLIC", "NON_PROFIT", "GOVERNMENT", "INDIVIDUAL")


@router.get("/brands")
async def brand_list(request: Request) -> Response:
    view = view_of(request)
    status = _only(view.query("registration_status"), BRAND_STATUSES)
    found = await brands.list_brands(
        view.conn,
        view.caller,
        view.page(),
        entity_type=_only(view.query("entity_type"), ENTITY_TYPES),
        registration_status=[status] if status else None,
    )
    return _listing(
        view,
        Listing(
            "Brands",
            ("Alias", "Legal name", "Type", "TCR status", "Created"),
            [
                (
                    f"/dashboard/brands/{b.id}",
                    (
                        b.alias,
                        b.legal_name or "—",
                        b.type,
                        b.registration_status,
                        _when(b.created_at),
                    ),
                )
                for b in found.items
            ],
            found.next_cursor,
            [
                _choice("registration_status", "TCR status", BRAND_STATUSES, view),
                _choice("entity_type", "Entity type", ENTITY_TYPES, view),
            ],
        ),
    )


@router.get("/brands/{brand_id}")
async def brand_detail(request: Request, brand_id: str) -> Response:
    view = view_of(request)
    brand = await brands.get_brand(view.conn, view.caller, brand_id)
    actions = []
    if brand.registration_status in ("not_submitted", "rejected"):
        missing = brands.missing_for_submission(brand.model_dump())
        actions.append(
            {
                "label": "Submit to TCR",
                "url": f"/dashboard/brands/{brand.id}/submit",
                "note": "Missing: " + ", ".join(d["field"] for d in missing) if missing else None,
            }
        )
    return _detail(view, f"Brand {brand.alias}", brand, actions=actions)


@router.post("/brands/{brand_id}/submit")
async def brand_submit(request: Request, brand_id: str) -> Response:
    view = view_of(request)
    await brands.submit_brand(view.conn, view.caller, brand_id)
    return view.done(
        f"/brands/{brand_id}", "Submitted to TCR: registration runs in the background."
    )


CAMPAIGN_STATUSES = ("draft", "pending_review", "approved", "rejected")


@router.get("/campaigns")
async def campaign_list(request: Request) -> Response:
    view = view_of(request)
    status = _only(view.query("status"), CAMPAIGN_STATUSES)
    found = await campaigns.list_organization_campaigns(
        view.conn, view.caller, view.page(), statuses=[status] if status else None
    )
    return _listing(
        view,
        Listing(
            "Campaigns",
            ("Name", "Profile", "Status", "Reason", "Created"),
            [
                (
                    f"/dashboard/campaigns/{c.id}",
                    (
                        c.content.get("name", c.id),
                        c.profile_id,
                        c.status,
                        c.rejection_reason or "—",
                        _when(c.created_at),
                    ),
                )
                for c in found.items
            ],
            found.next_cursor,
            [_choice("status", "Review status", CAMPAIGN_STATUSES, view)],
        ),
    )


@router.get("/campaigns/{campaign_id}")
async def campaign_detail(request: Request, campaign_id: str) -> Response:
    view = view_of(request)
    campaign = await campaigns.find_campaign(view.conn, view.caller, campaign_id)
    actions = []
    if campaign.status in ("draft", "rejected") and campaign.deleted_at is None:
        actions.append(
            {"label": "Submit for review", "url": f"/dashboard/campaigns/{campaign.id}/submit"}
        )
    name = campaign.content.get("name", campaign.id)
    return _detail(view, f"Campaign {name}", campaign, actions=actions)


@router.post("/campaigns/{campaign_id}/submit")
async def campaign_submit(request: Request, campaign_id: str) -> Response:
    view = view_of(request)
    campaign = await campaigns.find_campaign(view.conn, view.caller, campaign_id)
    await campaigns.submit_campaign(view.conn, view.caller, campaign.profile_id, campaign_id)
    return view.done(f"/campaigns/{campaign_id}", "Sent to TCR for review.")


@router.get("/numbers")
async def number_list(request: Request) -> Response:
    view = view_of(request)
    kind = _only(view.query("type"), NUMBER_TYPES)
    found = await numbers.list_numbers(
        view.conn, view.caller, view.page(), types=[kind] if kind else None
    )
    return _listing(
        view,
        Listing(
            "Numbers",
            ("Number", "Type", "Country", "Health", "Profile"),
            [
                (
                    f"/dashboard/numbers/{n.id}",
                    (n.number, n.type, n.country, n.health, n.profile_id or "—"),
                )
                for n in found.items
            ],
            found.next_cursor,
            [_choice("type", "Type", NUMBER_TYPES, view)],
        ),
    )


@router.get("/numbers/{number_id}")
async def number_detail(request: Request, number_id: str) -> Response:
    view = view_of(request)
    number = await numbers.get_number(view.conn, view.caller, number_id)
    return _detail(view, f"Number {number.number}", number)


CUSTOMER_STATUSES = ("pending", "active", "suspended", "archived")
NUMBER_TYPES = ("long_code", "toll_free", "short_code")
ACCOUNT_STATUSES = ("connected", "disconnected", "degraded", "onboarding")


@router.get("/customers")
async def customer_list(request: Request) -> Response:
    view = view_of(request)
    found = await customers.list_customers(
        view.conn,
        view.caller,
        view.page(),
        status=_only(view.query("status"), CUSTOMER_STATUSES),  # type: ignore[arg-type]
        search=view.query("search"),
    )
    return _listing(
        view,
        Listing(
            "Customers",
            ("Name", "Email", "Status", "Created"),
            [
                (
                    f"/dashboard/customers/{c.id}",
                    (c.name, c.email or "—", c.status, _when(c.created_at)),
                )
                for c in found.items
            ],
            found.next_cursor,
            [_search("Name or email", view), _choice("status", "Status", CUSTOMER_STATUSES, view)],
        ),
    )


@router.get("/customers/{customer_id}")
async def customer_detail(request: Request, customer_id: str) -> Response:
    view = view_of(request)
    customer = await customers.get_customer(view.conn, view.caller, customer_id)
    links = await customers.list_setup_links(view.conn, view.caller, customer_id, None)
    base = f"/dashboard/customers/{customer_id}"
    actions = []
    if customer.status in ("pending", "active"):
        actions.append({"label": "Suspend", "url": base + "/suspend"})
    if customer.status == "suspended":
        actions.append({"label": "Unsuspend", "url": base + "/unsuspend"})
    if customer.status != "archived":
        actions += [
            {"label": "Create a setup link", "url": base + "/setup_links"},
            {"label": "Archive", "url": base + "/archive", "danger": "yes"},
        ]
    tables = [
        {
            "title": "Setup links",
            "headers": ("Link", "Status", "Expires"),
            "rows": [(None, (link.id, link.status, _when(link.expires_at))) for link in links],
        },
        {
            "title": "WhatsApp accounts",
            "headers": ("Number", "Name", "Status"),
            "rows": [
                (None, (a.phone_number, a.name or "—", a.status))
                for a in customer.whatsapp_accounts
            ],
        },
    ]
    return _detail(
        view,
        f"Customer {customer.name}",
        customer,
        actions=actions,
        tables=tables,
        hide=("whatsapp_accounts",),
    )


@router.post("/customers/{customer_id}/{action}")
async def customer_action(request: Request, customer_id: str, action: str) -> Response:
    view = view_of(request)
    conn, caller = view.conn, view.caller
    if action == "setup_links":
        public_url = view.runtime.settings.base_url
        link = await customers.create_setup_link(
            conn, caller, customer_id, SetupLinkCreate(), public_url
        )
        return view.render(
            "console/secret.html",
            title="Setup link created",
            heading="Send this link to the customer",
            secret=link.setup_url,
            note="It is shown this once: msgprofiles keeps only a hash of its token.",
            back=f"/dashboard/customers/{customer_id}",
        )
    if action == "suspend":
        suspend = CustomerUpdate(status="suspended")
        await customers.update_customer(conn, caller, customer_id, suspend)
        return view.done(f"/customers/{customer_id}", "The customer is suspended.")
    if action == "unsuspend":
        lifted = await customers.unsuspend_customer(conn, caller, customer_id)
        return view.done(f"/customers/{customer_id}", f"The customer is {lifted.status}.")
    if action == "archive":
        await customers.archive_customer(conn, caller, customer_id)
        return view.done(f"/customers/{customer_id}", "The customer is archived.")
    raise DomainError(ErrorCode.not_found, "No such action.")


@router.get("/whatsapp_accounts")
async def account_list(request: Request) -> Response:
    view = view_of(request)
    found = await whatsapp.list_accounts(
        view.conn,
        view.caller,
        view.page(),
        status=_only(view.query("status"), ACCOUNT_STATUSES),  # type: ignore[arg-type]
    )
    return _listing(
        view,
        Listing(
            "WhatsApp accounts",
            ("Number", "Name", "Status", "Customer", "Profile"),
            [
                (
                    f"/dashboard/whatsapp_accounts/{a.id}",
                    (
                        a.phone_number,
                        a.name or "—",
                        a.status,
                        a.customer_id or "—",
                        a.profile_id or "—",
                    ),
                )
                for a in found.items
            ],
            found.next_cursor,
            [_choice("status", "Status", ACCOUNT_STATUSES, view)],
        ),
    )


@router.get("/whatsapp_accounts/{account_id}")
async def account_detail(request: Request, account_id: str) -> Response:
    view = view_of(request)
    account = await whatsapp.get_account(view.conn, view.caller, account_id)
    return _detail(view, f"WhatsApp account {account.phone_number}", account)


@router.get("/contacts")
async def contact_list(request: Request) -> Response:
    view = view_of(request)
    found = await contacts.list_contacts(
        view.conn, view.caller, view.page(), search=view.query("search")
    )
    return _listing(
        view,
        Listing(
            "Contacts",
            ("External id", "Name", "Phone", "Email", "Created"),
            [
                (
                    f"/dashboard/contacts/{c.id}",
                    (
                        c.external_id or "—",
                        c.name or "—",
                        c.msisdn or "—",
                        c.email or "—",
                        _when(c.created_at),
                    ),
                )
                for c in found.items
            ],
            found.next_cursor,
            [_search("External id, phone or email", view)],
        ),
    )


@router.get("/contacts/{contact_id}")
async def contact_detail(request: Request, contact_id: str) -> Response:
    view = view_of(request)
    contact = await contacts.get_contact(view.conn, view.caller, contact_id)
    consents = await contacts.list_consents(view.conn, view.caller, contact_id)
    tables = [
        {
            "title": "Consent",
            "headers": ("Channel", "Status", "Source", "Since"),
            "rows": [
                (None, (c.channel, c.status, c.source, _when(c.changed_at))) for c in consents
            ],
        }
    ]
    return _detail(view, f"Contact {contact.external_id or contact.id}", contact, tables=tables)


@router.get("/webhooks")
async def subscription_list(request: Request) -> Response:
    view = view_of(request)
    found = await webhooks.list_subscriptions(
        view.conn,
        view.caller,
        view.page(),
        status=_only(view.query("status"), ("active", "paused", "disabled")),  # type: ignore[arg-type]
        search=view.query("search"),
    )
    return _listing(
        view,
        Listing(
            "Webhook subscriptions",
            ("URL", "Status", "Failures in a row", "Last success"),
            [
                (
                    f"/dashboard/webhooks/{s.id}",
                    (s.url, s.status, s.consecutive_failures, _when(s.last_success_at)),
                )
                for s in found.items
            ],
            found.next_cursor,
            [
                _search("URL or description", view),
                _choice("status", "Status", ("active", "paused", "disabled"), view),
            ],
            create={
                "url": "/dashboard/webhooks",
                "label": "Add a subscription",
                "fields": [
                    {"name": "url", "label": "URL", "type": "url", "required": True},
                    {"name": "description", "label": "Description", "type": "text"},
                ],
            },
        ),
    )


@router.post("/webhooks")
async def subscription_create(request: Request) -> Response:
    view = view_of(request)
    values = {k: v for k, v in view.form.items() if k in ("url", "description") and v}
    data = _checked(WebhookSubscriptionCreate, values)
    created = await webhooks.create_subscription(
        view.conn,
        view.caller,
        data,
        view.runtime.secrets,
        view.runtime.settings.allow_private_webhooks,
    )
    return view.render(
        "console/secret.html",
        title="Subscription created",
        heading="The signing secret of this subscription",
        secret=created.secret,
        note="It is shown this once: keep it where your receiver checks signatures.",
        back=f"/dashboard/webhooks/{created.id}",
    )


@router.get("/webhooks/{subscription_id}")
async def subscription_detail(request: Request, subscription_id: str) -> Response:
    view = view_of(request)
    subscription = await webhooks.get_subscription(view.conn, view.caller, subscription_id)
    deliveries = await webhooks.list_deliveries(
        view.conn, view.caller, subscription_id, view.page()
    )
    base = f"/dashboard/webhooks/{subscription_id}"
    paused = subscription.status != "active"
    actions = [
        {
            "label": "Resume" if paused else "Pause",
            "url": base + ("/resume" if paused else "/pause"),
        },
        {"label": "Rotate the secret", "url": base + "/rotate"},
        {"label": "Send a test event", "url": base + "/test"},
    ]
    rows = []
    for delivery in deliveries.items:
        last = delivery.attempts[-1] if delivery.attempts else None
        rows.append(
            (
                None,
                (
                    delivery.event_type,
                    delivery.status,
                    "\n".join(
                        f"{a.attempt}: {a.status_code or '—'}"
                        + (f" in {a.latency_ms} ms" if a.latency_ms is not None else "")
                        + (f" · {a.error}" if a.error else "")
                        for a in delivery.attempts
                    )
                    or "none yet",
                    last.status_code if last and last.status_code else "—",
                    f"{last.latency_ms} ms" if last and last.latency_ms is not None else "—",
                    last.error if last and last.error else "—",
                    _when(delivery.next_attempt_at),
                    {
                        "form": f"/dashboard/events/{delivery.event_id}/redeliver",
                        "label": "Redeliver",
                        "value": subscription_id,
                    },
                ),
            )
        )
    tables = [
        {
            "title": "Deliveries",
            "headers": (
                "Event",
                "Status",
                "Attempts",
                "Status code",
                "Latency",
                "Error",
                "Next retry",
                "",
            ),
            "rows": rows,
            "next_url": f"?cursor={deliveries.next_cursor}" if deliveries.next_cursor else None,
        }
    ]
    return _detail(
        view, f"Subscription {subscription.url}", subscription, actions=actions, tables=tables
    )


@router.post("/webhooks/{subscription_id}/{action}")
async def subscription_action(request: Request, subscription_id: str, action: str) -> Response:
    view = view_of(request)
    conn, caller = view.conn, view.caller
    back = f"/webhooks/{subscription_id}"
    if action in ("pause", "resume"):
        status = "paused" if action == "pause" else "active"
        await webhooks.set_status(conn, caller, subscription_id, status)  # type: ignore[arg-type]
        return view.done(back, f"The subscription is {status}.")
    if action == "rotate":
        rotated = await webhooks.rotate_secret(
            conn, caller, subscription_id, RotateSecret(), view.runtime.secrets
        )
        return view.render(
            "console/secret.html",
            title="Secret rotated",
            heading="The new signing secret",
            secret=rotated.secret,
            note="Shown this once. The previous secret keeps signing alongside it for 24 hours.",
            back="/dashboard" + back,
        )
    if action == "test":
        await webhooks.send_test(conn, caller, subscription_id)
        return view.done(back, "A test event is on its way.")
    raise DomainError(ErrorCode.not_found, "No such action.")


@router.get("/events")
async def event_list(request: Request) -> Response:
    view = view_of(request)
    event_type = view.query("type")
    found = await event_log.list_events(
        view.conn,
        view.caller,
        view.page(),
        event_type=event_type if event_type in event_log.EVENT_TYPES else None,
        created_after=_moment(view.query("after")),
        created_before=_moment(view.query("before")),
    )
    return _listing(
        view,
        Listing(
            "Events",
            ("Type", "Object", "At"),
            [
                (
                    f"/dashboard/events/{e.id}",
                    (e.type, str(e.data.get("id", "—")), _when(e.created_at)),
                )
                for e in found.items
            ],
            found.next_cursor,
            [
                _choice("type", "Type", sorted(event_log.EVENT_TYPES), view),
                {
                    "name": "after",
                    "label": "From (UTC)",
                    "type": "datetime-local",
                    "value": view.query("after") or "",
                },
                {
                    "name": "before",
                    "label": "Until (UTC)",
                    "type": "datetime-local",
                    "value": view.query("before") or "",
                },
            ],
        ),
    )


def _moment(value: str | None) -> datetime | None:
    """A time a filter names (a browser's `datetime-local`, read as UTC); None if there is
    none or it is no time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


@router.get("/events/{event_id}")
async def event_detail(request: Request, event_id: str) -> Response:
    view = view_of(request)
    event = await event_log.get_event(view.conn, view.caller, event_id)
    return _detail(view, f"Event {event.type}", event)


@router.post("/events/{event_id}/redeliver")
async def event_redeliver(request: Request, event_id: str) -> Response:
    view = view_of(request)
    subscription_id = view.form.get("value") or None
    await event_log.redeliver(view.conn, view.caller, event_id, subscription_id)
    back = f"/webhooks/{subscription_id}" if subscription_id else f"/events/{event_id}"
    return view.done(back, "Queued for delivery again.")


@router.get("/api_keys")
async def key_list(request: Request) -> Response:
    view = view_of(request)
    found = await api_keys.list_api_keys(
        view.conn,
        view.caller,
        view.page(),
        status=_only(view.query("status"), ("active", "revoked")),  # type: ignore[arg-type]
    )
    return _listing(
        view,
        Listing(
            "API keys",
            ("Name", "Role", "Status", "Key", "Last used", ""),
            [
                (
                    f"/dashboard/api_keys/{k.id}",
                    (
                        k.name,
                        k.role,
                        k.status,
                        k.hint,
                        _when(k.last_used_at),
                        {"form": f"/dashboard/api_keys/{k.id}/revoke", "label": "Revoke"}
                        if k.status == "active"
                        else "",
                    ),
                )
                for k in found.items
            ],
            found.next_cursor,
            [_choice("status", "Status", ("active", "revoked"), view)],
            create={
                "url": "/dashboard/api_keys",
                "label": "Create a key",
                "fields": [
                    {"name": "name", "label": "Name", "type": "text", "required": True},
                    {"name": "role", "label": "Role", "options": ("member", "admin")},
                ],
            },
        ),
    )


@router.post("/api_keys")
async def key_create(request: Request) -> Response:
    view = view_of(request)
    values = {k: v for k, v in view.form.items() if k in ("name", "role") and v}
    created = await api_keys.create_api_key(view.conn, view.caller, _checked(ApiKeyCreate, values))
    return view.render(
        "console/secret.html",
        title="API key created",
        heading=f"The key {created.name}",
        secret=created.secret,
        note="It is shown this once: msgprofiles keeps only its hash.",
        back="/dashboard/api_keys",
    )


@router.get("/api_keys/{key_id}")
async def key_detail(request: Request, key_id: str) -> Response:
    view = view_of(request)
    key = await api_keys.get_api_key(view.conn, view.caller, key_id)
    actions = []
    if key.status == "active":
        actions.append(
            {"label": "Revoke", "url": f"/dashboard/api_keys/{key.id}/revoke", "danger": "yes"}
        )
    return _detail(view, f"API key {key.name}", key, actions=actions)


@router.post("/api_keys/{key_id}/revoke")
async def key_revoke(request: Request, key_id: str) -> Response:
    view = view_of(request)
    revoked = await api_keys.revoke_api_key(view.conn, view.caller, key_id)
    return view.done("/api_keys", f"The key {revoked.name} is revoked.")


@router.get("/organizations")
async def organization_list(request: Request) -> Response:
    view = view_of(request)
    found: Page[Any] = await organizations.list_organizations(view.conn, view.caller, view.page())
    return _listing(
        view,
        Listing(
            "Organizations",
            ("Name", "Email", "Created"),
            [
                (f"/dashboard/organizations/{o.id}", (o.name, o.email or "—", _when(o.created_at)))
                for o in found.items
            ],
            found.next_cursor,
        ),
    )


@router.get("/organizations/{organization_id}")
async def organization_detail(request: Request, organization_id: str) -> Response:
    view = view_of(request)
    found = await organizations.find_organization(view.conn, view.caller, organization_id)
    return _detail(view, f"Organization {found.name}", found)

"""Dashboard sessions: an API key is checked once at login; then a sealed, HttpOnly, SameSite
cookie stands for it — the key's id and a CSRF token, encrypted and authenticated with the
installation's secret key, never the key itself. A session ends after `SESSION_SECONDS`, at
logout, or as soon as its key is revoked."""

import json
import secrets
from dataclasses import dataclass
from hmac import compare_digest

from fastapi import Request, Response

from msgprofiles.api_keys import service as api_keys
from msgprofiles.core.auth import Caller
from msgprofiles.core.crypto import SecretBox
from msgprofiles.db.database import Connection

COOKIE = "msgprofiles_session"
LOGIN_COOKIE = "msgprofiles_login"  # the login form's CSRF token, before any session
SESSION_SECONDS = 8 * 3600
PATH = "/dashboard"


@dataclass(frozen=True, slots=True)
class Session:
    caller: Caller
    csrf: str


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start(response: Response, request: Request, box: SecretBox, caller: Caller) -> None:
    """Seal a new session for the caller's key into the response."""
    assert caller.key_id is not None
    sealed = box.encrypt(
        json.dumps(
            {"org": caller.organization_id, "key": caller.key_id, "csrf": secrets.token_urlsafe(32)}
        )
    )
    response.set_cookie(
        COOKIE,
        sealed,
        max_age=SESSION_SECONDS,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path=PATH)


def end(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")


async def current(request: Request, conn: Connection, box: SecretBox) -> Session | None:
    """The request's session, if its cookie is ours, recent, and its key still active."""
    sealed = request.cookies.get(COOKIE)
    opened = box.open_recent(sealed, SESSION_SECONDS) if sealed else None
    if opened is None:
        return None
    values = json.loads(opened)
    caller = await api_keys.active_caller(conn, values["org"], values["key"])
    return Session(caller, values["csrf"]) if caller is not None else None


def login_token(request: Request, response: Response) -> str:
    """The CSRF token of the login form, kept in a cookie until the login."""
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return token


def same(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and compare_digest(str(expected), str(given))

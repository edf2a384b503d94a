"""The Sent.dm v3 dialect (../shared/spec/sentdm.md), mounted at /dialects/sentdm: point the
`sentdm` SDK's base_url there."""

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import State
from starlette.exceptions import HTTPException

from msgprofiles.core.errors import DomainError
from msgprofiles.core.http import http_error, validation_error
from msgprofiles.dialects.sentdm.routes import router
from msgprofiles.dialects.sentdm.wire import error_response

PREFIX = "/dialects/sentdm"


def create_sentdm_app(state: State) -> FastAPI:
    """A sub-application sharing the main app's state (database, settings, providers): its
    own routes and OpenAPI document, and Sent.dm's error shape for anything that fails."""
    app = FastAPI(
        title="msgprofiles — Sent.dm v3 dialect",
        description="Sent.dm's Profiles, Campaigns and Webhooks API on msgprofiles.",
        version="v3",
    )
    app.state = state
    app.include_router(router)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, http_error(exc, request))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, validation_error(exc.errors()))

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return error_response(request, exc)

    return app

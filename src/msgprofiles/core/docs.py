"""Swagger UI and ReDoc served from the package (fastapi-offline's copies), never from a CDN:
many installations have no internet, and the docs must still render there."""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
_ASSETS_PATH = "/docs-assets"


def offline_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc` for `app` (made with docs_url=None, redoc_url=None),
    relative to where it is mounted."""
    app.mount(_ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{root}{_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{_ASSETS_PATH}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} — API reference",
            redoc_js_url=f"{root}{_ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{_ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

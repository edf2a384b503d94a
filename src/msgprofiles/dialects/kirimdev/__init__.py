"""The Kirimdev dialect (../shared/spec/kirimdev.md), mounted at /dialects/kirimdev: its API
is /dialects/kirimdev/v1/…; the hosted setup page stays at the service root."""

from msgprofiles.dialects.kirimdev import formats as formats  # registers the format
from msgprofiles.dialects.kirimdev.routes import router
from msgprofiles.dialects.kirimdev.wire import error_response
from msgprofiles.dialects.toolkit import Dialect

DIALECT = Dialect(
    prefix="/dialects/kirimdev",
    title="msgprofiles — Kirimdev dialect",
    description="Kirimdev's Customers, setup links, accounts and webhook subscriptions on "
    "msgprofiles.",
    version="v1",
    routers=[router],
    render_error=error_response,
)

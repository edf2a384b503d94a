"""The Plivo dialect (../shared/spec/plivo.md), mounted at /dialects/plivo: point the `plivo`
SDK's `plivo.rest.client.PLIVO_API_BASE_URI` at /dialects/plivo/v1/Account."""

from msgprofiles.dialects.plivo import formats as formats  # registers the callback format
from msgprofiles.dialects.plivo.routes import router
from msgprofiles.dialects.plivo.wire import error_response
from msgprofiles.dialects.toolkit import Dialect

DIALECT = Dialect(
    prefix="/dialects/plivo",
    title="msgprofiles — Plivo dialect",
    description="Plivo's business profiles, 10DLC brands, campaigns and number linking on "
    "msgprofiles. Authenticate with HTTP Basic: any auth id the SDK accepts (MA… or SA…, 20 "
    "characters, the same as in the path) and a msgprofiles admin API key as the auth token.",
    version="v1",
    routers=[router],
    render_error=error_response,
)

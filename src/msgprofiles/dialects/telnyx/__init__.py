"""The Telnyx dialect (../shared/spec/opentact.md §6, §7.2), mounted at /dialects/telnyx: the
`telnyx` SDK's `base_url` is /dialects/telnyx/v2."""

from msgprofiles.dialects.telnyx.routes import router
from msgprofiles.dialects.telnyx.wire import error_response
from msgprofiles.dialects.toolkit import Dialect

DIALECT = Dialect(
    prefix="/dialects/telnyx",
    title="msgprofiles — Telnyx dialect",
    description="Telnyx's messaging profiles, with their phone numbers and short codes, on "
    "msgprofiles. Authenticate with `Authorization: Bearer <msgprofiles API key>`.",
    version="v2",
    routers=[router],
    render_error=error_response,
)

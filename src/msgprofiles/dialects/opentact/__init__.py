"""The Opentact dialect (../shared/spec/opentact.md §1-§5, §7.3), mounted at
/dialects/opentact: its messaging profiles are /dialects/opentact/rest/profile/messaging."""

from msgprofiles.dialects.opentact.routes import router
from msgprofiles.dialects.opentact.wire import error_response
from msgprofiles.dialects.toolkit import Dialect

DIALECT = Dialect(
    prefix="/dialects/opentact",
    title="msgprofiles — Opentact dialect",
    description="Opentact's messaging profiles and their TN leases on msgprofiles. "
    "Authenticate with `X-Auth-Token: <msgprofiles API key>`.",
    version="v1",
    routers=[router],
    render_error=error_response,
)

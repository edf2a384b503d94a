"""The IMIconnect dialect (../shared/spec/imiconnect.md), mounted at /dialects/imiconnect: its
Profile API is under /dialects/imiconnect/resources/v2 (and v1, the same)."""

from msgprofiles.dialects.imiconnect.routes import profile_router
from msgprofiles.dialects.imiconnect.wire import error_response
from msgprofiles.dialects.toolkit import Dialect

DIALECT = Dialect(
    prefix="/dialects/imiconnect",
    title="msgprofiles — IMIconnect Profile API dialect",
    description="IMIconnect's customer master profiles and application profiles on msgprofiles.",
    version="v2",
    routers=[profile_router("v2"), profile_router("v1")],
    render_error=error_response,
)

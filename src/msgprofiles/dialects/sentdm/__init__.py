"""The Sent.dm v3 dialect (../shared/spec/sentdm.md), mounted at /dialects/sentdm: point the
`sentdm` SDK's base_url there."""

from msgprofiles.dialects.sentdm import formats as formats  # registers the `sentdm` format
from msgprofiles.dialects.sentdm.routes import router
from msgprofiles.dialects.sentdm.wire import error_response
from msgprofiles.dialects.toolkit import Dialect

DIALECT = Dialect(
    prefix="/dialects/sentdm",
    title="msgprofiles — Sent.dm v3 dialect",
    description="Sent.dm's Profiles, Campaigns and Webhooks API on msgprofiles.",
    version="v3",
    routers=[router],
    render_error=error_response,
)

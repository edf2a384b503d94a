"""Vendor dialects: each speaks one vendor's wire format onto the native services, so that the
vendor's official client library works against msgprofiles unchanged. Translation only: no
business rule lives here."""

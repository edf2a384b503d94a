from sqlalchemy import Boolean, Column, Index, String, Table, Text, false

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

campaigns = Table(
    "campaigns",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("profile_id", String(40), nullable=False),
    # The profile was made for this campaign (Plivo's campaigns): it goes when the campaign goes.
    Column("dedicated_profile", Boolean, nullable=False, server_default=false()),
    Column("brand_id", String(40), nullable=False),
    Column("name", String(255), nullable=False),
    # The TCR campaign fields, as validated by CampaignContent.
    Column("content", json_type(), nullable=False),
    # What a vendor's API keeps on the campaign with no native field: {"plivo": {…}}.
    Column("vendor_fields", json_type(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("tcr_campaign_id", String(20), nullable=True),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("rejection_reason", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    Index(None, "organization_id", "profile_id", "id"),
)

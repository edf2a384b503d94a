from sqlalchemy import Boolean, Column, Index, String, Table, Text, func, text

from msgprofiles.db.metadata import metadata
from msgprofiles.db.types import UTCDateTime, json_type

profiles = Table(
    "profiles",
    metadata,
    Column("organization_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("is_parent", Boolean, nullable=False),
    # The end-customer (tenant of the tenant) the profile serves, once customers exist.
    Column("customer_id", String(40), nullable=True),
    Column("name", String(255), nullable=False),
    Column("short_name", String(11), nullable=True),
    Column("description", Text, nullable=True),
    Column("icon_url", String(2048), nullable=True),
    Column("status", String(20), nullable=False),
    Column("billing_model", String(32), nullable=False),
    Column("billing_contact", json_type(), nullable=True),
    # The payment processor's token, brand and last four digits: never the card itself.
    Column("payment_method", json_type(), nullable=True),
    # The profile's own brand; with inherit_tcr_brand the parent profile's is used instead.
    Column("brand_id", String(40), nullable=True),
    Column("inherit_tcr_brand", Boolean, nullable=False),
    Column("inherit_tcr_campaign", Boolean, nullable=False),
    Column("inherit_contacts", Boolean, nullable=False),
    Column("inherit_templates", Boolean, nullable=False),
    Column("allow_contact_sharing", Boolean, nullable=False),
    Column("allow_template_sharing", Boolean, nullable=False),
    Column("allow_number_change_during_onboarding", Boolean, nullable=False),
    Column("sending_phone_number", String(20), nullable=True),
    Column("whatsapp_phone_number", String(20), nullable=True),
    # WhatsApp Business Account: the profile's own (token encrypted) or the organization's.
    Column("waba_id", String(64), nullable=True),
    Column("whatsapp_phone_number_id", String(64), nullable=True),
    Column("whatsapp_access_token", Text, nullable=True),
    Column("whatsapp_inherited", Boolean, nullable=False),
    Column("messaging", json_type(), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    # The API keys that created the profile and changed it last (null: the command line, or
    # before they were kept).
    Column("created_by", String(40), nullable=True),
    Column("updated_by", String(40), nullable=True),
    Index(None, "organization_id", "status", "id"),
    Index(None, "organization_id", "customer_id", "id"),
    Index(None, "organization_id", "name", "id"),
)
# Short names are unique among an organization's live profiles, whatever their case: a
# carrier shows "ACME1" and "acme1" to a handset as the same sender. (Short names are ASCII,
# so lower() is the same on SQLite and PostgreSQL.)
Index(
    "ix_profiles_organization_id_short_name_ci",
    profiles.c.organization_id,
    func.lower(profiles.c.short_name),
    unique=True,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)

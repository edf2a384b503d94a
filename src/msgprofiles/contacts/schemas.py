from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, model_validator

from msgprofiles.core.schemas import InputModel
from msgprofiles.core.validation import SmallObject

AttributeType = Literal["string", "number", "boolean", "date", "email", "phone", "enum"]
CORE_ATTRIBUTES: dict[str, AttributeType] = {"name": "string", "email": "email", "msisdn": "phone"}
"""Every organization's: kept in columns of their own, each an indexed lookup."""
CHANNEL_FLAGS = ("sms", "voice", "rt", "fb", "twitter", "wechat")
"""Whether a contact is reachable on each channel: booleans every organization has."""
Channel = Literal["sms", "whatsapp", "voice", "email", "push", "rcs", "fb", "twitter", "wechat"]
ConsentSource = Literal["api", "inbound_keyword", "import"]


class ContactAttribute(BaseModel):
    name: str
    object: Literal["contact_attribute"] = "contact_attribute"
    type: AttributeType
    values: list[str] | None = Field(description="An enum's allowed values.")
    required: bool
    description: str | None
    core: bool = Field(description="Built in: name, email, msisdn and the channel flags.")
    created_at: datetime | None
    updated_at: datetime | None


class ContactAttributeCreate(InputModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="lower_snake_case")
    type: AttributeType
    values: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=100, description="Required for an enum."
    )
    required: bool = False
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _enum_values(self) -> "ContactAttributeCreate":
        if (self.type == "enum") != (self.values is not None):
            raise ValueError("an enum takes its `values`, and only an enum does")
        return self


class ContactAttributeUpdate(InputModel):
    """Only the fields sent are changed; an enum's `values` may only grow (stored values stay
    valid)."""

    not_null = frozenset({"required", "values"})

    required: bool | None = None
    description: str | None = Field(default=None, max_length=500)
    values: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=100
    )


class Contact(BaseModel):
    id: str = Field(examples=["ct_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["contact"] = "contact"
    external_id: str | None = Field(description="Your own id of the person, unique among yours.")
    name: str | None
    email: str | None
    msisdn: str | None = Field(description="E.164.")
    attributes: dict[str, Any] = Field(description="Channel flags and your own attributes.")
    created_at: datetime
    updated_at: datetime


class ContactCreate(InputModel):
    external_id: str | None = Field(default=None, min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    msisdn: str | None = Field(
        default=None, max_length=32, description="Any written form; stored in E.164."
    )
    attributes: SmallObject = Field(
        default_factory=dict, description="Channel flags and your own attributes, by their type."
    )


class ContactUpdate(InputModel):
    """Only the fields sent are changed; in `attributes` only the keys sent (null removes
    one that is not required)."""

    external_id: str | None = Field(default=None, min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    msisdn: str | None = Field(default=None, max_length=32)
    attributes: SmallObject | None = None


class Device(InputModel):
    device_id: str = Field(min_length=1, max_length=200)
    token: str | None = Field(default=None, max_length=4096)
    platform: Literal["ios", "android", "web", "other"] | None = None


class AppProfile(BaseModel):
    id: str = Field(examples=["cap_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["app_profile"] = "app_profile"
    contact_id: str
    app_id: str = Field(description="The channel application (a Messenger page app, …).")
    key_name: str = Field(description="What the app calls its id of the person: psid, …")
    key: str = Field(description="That id: the app profile's key.")
    attributes: dict[str, Any]
    devices: list[Device]
    created_at: datetime
    updated_at: datetime


class AppProfileCreate(InputModel):
    app_id: str = Field(min_length=1, max_length=128)
    key_name: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=512)
    attributes: SmallObject = Field(default_factory=dict)
    devices: list[Device] = Field(default_factory=list, max_length=50)


class AppProfileUpdate(InputModel):
    """Only the fields sent are changed; `attributes` merge; `devices` are added, or replace
    the device of the same `device_id`."""

    not_null = frozenset({"key_name", "key", "attributes", "devices"})

    key_name: str | None = Field(default=None, min_length=1, max_length=64)
    key: str | None = Field(default=None, min_length=1, max_length=512)
    attributes: SmallObject | None = None
    devices: list[Device] | None = Field(default=None, max_length=50)


class Consent(BaseModel):
    object: Literal["consent"] = "consent"
    contact_id: str
    channel: Channel
    status: Literal["opted_in", "opted_out"]
    source: ConsentSource
    changed_at: datetime


class ConsentChange(InputModel):
    status: Literal["opted_in", "opted_out"]
    source: ConsentSource = "api"


class ContactExport(BaseModel):
    """Everything msgprofiles holds on the person."""

    contact: Contact
    app_profiles: list[AppProfile]
    consents: list[Consent]
    events: list[dict[str, Any]] = Field(description="The events about the contact.")


class Erased(BaseModel):
    id: str
    object: Literal["contact"] = "contact"
    erased: Literal[True] = True


class BatchItem(InputModel):
    action: Literal["create", "update", "delete"]
    id: str | None = Field(default=None, max_length=40, description="For update and delete.")
    external_id: str | None = Field(
        default=None, max_length=128, description="For update and delete, instead of `id`."
    )
    contact: dict[str, Any] | None = Field(
        default=None, description="The contact's fields, as for a create or a PATCH."
    )


class ContactBatch(InputModel):
    items: list[BatchItem] = Field(min_length=1, max_length=100)


class BatchError(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class BatchResult(BaseModel):
    index: int
    status: int = Field(description="What the item alone would have answered: 200, 201, 4xx.")
    data: Contact | Erased | None = None
    error: BatchError | None = None


class BatchOutcome(BaseModel):
    object: Literal["contact_batch"] = "contact_batch"
    succeeded: int
    failed: int
    results: list[BatchResult]


ImportFormat = Literal["ndjson", "csv"]
ImportStatus = Literal["receiving", "queued", "running", "completed", "failed", "canceled"]


class ContactImport(BaseModel):
    id: str = Field(examples=["cimp_01J9Z3T6X1N8Q5W4R2M7B0C9DE"])
    object: Literal["contact_import"] = "contact_import"
    format: ImportFormat
    status: ImportStatus = Field(
        description="receiving (the upload is arriving), queued, running, then completed, "
        "failed (`failure` says why) or canceled."
    )
    columns: list[str] | None = Field(description="A CSV file's header.")
    bytes_received: int
    bytes_processed: int = Field(description="Of `bytes_received`: progress is their ratio.")
    records: int = Field(description="Records read so far: created + updated + unchanged + failed.")
    created: int
    updated: int
    unchanged: int = Field(description="Records that matched the stored contact already.")
    failed: int = Field(description="Records refused; `/errors` lists them by line.")
    failure: str | None = Field(description="Why the import as a whole stopped, if it did.")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class ContactImportError(BaseModel):
    object: Literal["contact_import_error"] = "contact_import_error"
    line: int = Field(description="Where the record starts in the file (1 is the first line).")
    code: str = Field(description="The error code the record alone would have had.")
    field: str | None
    message: str


class ImportRecord(InputModel):
    """One record of an import: the contact with this `external_id` is created or changed.
    Fields left out stay as they are; null clears one; `attributes` change key by key (null
    removes one); `consent` records an opt-in or opt-out per channel (source `import`)."""

    external_id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    msisdn: str | None = Field(default=None, max_length=32)
    attributes: SmallObject = Field(default_factory=dict)
    consent: dict[Channel, Literal["opted_in", "opted_out"]] = Field(default_factory=dict)

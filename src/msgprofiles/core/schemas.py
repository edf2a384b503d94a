"""Envelopes of the native API and the base of every input model."""

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

T = TypeVar("T")


def _document_not_null(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """OpenAPI shows a `not_null` field as optional but never null, as it is validated."""
    properties = schema.get("properties", {})
    for name in getattr(model, "not_null", ()):
        field = model.model_fields[name]
        prop = properties.get(field.alias or name, {})
        options = [o for o in prop.get("anyOf", ()) if o != {"type": "null"}]
        if len(options) == 1:
            del prop["anyOf"]
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if prop.get("default", ...) is None:
            del prop["default"]


class InputModel(BaseModel):
    """Request bodies: unknown keys are an error (a typo must not be silently ignored), and
    values are not coerced across types (`"1"` is not a number, `1` is not a string)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        str_strip_whitespace=True,
        json_schema_extra=_document_not_null,
    )

    not_null: ClassVar[frozenset[str]] = frozenset()
    """Fields a PATCH may leave out but may not set to null."""

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise PydanticCustomError("null", "{field} cannot be null", {"field": info.field_name})
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, with their values (a PATCH changes only these)."""
        return {field: getattr(self, field) for field in self.model_fields_set}


class Envelope(BaseModel, Generic[T]):
    data: T
    request_id: str


class ListEnvelope(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page.")
    request_id: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable snake_case code; see the list in the API docs.")
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorEnvelope(BaseModel):
    error: ErrorBody
    request_id: str

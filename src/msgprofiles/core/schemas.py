"""Envelopes of the native API and the base of every input model."""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class InputModel(BaseModel):
    """Request bodies: unknown keys are an error (a typo must not be silently ignored), and
    values are not coerced across types (`"1"` is not a number, `1` is not a string)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


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

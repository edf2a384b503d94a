"""Field types shared by several domains: phone numbers, countries, date-times, small JSON
objects."""

import json
import re
from datetime import datetime
from typing import Annotated, Any

import phonenumbers
import pycountry
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError


def _not_a_phone_number(message: str) -> PydanticCustomError:
    """Its own error type (`phone_number`), so a dialect can number it as its vendor does."""
    return PydanticCustomError("phone_number", message)


def e164(value: str) -> str:
    """A valid international number, normalized to E.164 (`+14155550123`)."""
    if not value.startswith("+"):
        raise _not_a_phone_number("use the international E.164 format, e.g. +14155550123")
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException as error:
        raise _not_a_phone_number(f"not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise _not_a_phone_number("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case."""
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def region_of(number: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(number))


def area_code_of(number: str) -> str | None:
    """The area code of a NANP (+1) number; None elsewhere."""
    parsed = phonenumbers.parse(number)
    return str(parsed.national_number)[:3] if parsed.country_code == 1 else None


E164 = Annotated[str, AfterValidator(e164), Field(examples=["+14155550123"], max_length=20)]
CountryCode = Annotated[str, AfterValidator(country_code), Field(examples=["US"])]


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(value: object) -> object:
    """Pydantic reads a number as seconds since 1970; the API documents date-times only."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("use an ISO 8601 date-time, e.g. 2026-12-01T09:30:00Z")
    return value


DateTime = Annotated[
    datetime,
    BeforeValidator(_not_a_number),
    Field(description="ISO 8601 date-time, e.g. 2026-12-01T09:30:00Z."),
]


_compact = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  # one, not one per call


def _small_object(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 50:
        raise ValueError("at most 50 keys")
    try:  # NaN and Infinity are not JSON (PostgreSQL's jsonb refuses them)
        text = _compact.encode(value)
    except ValueError:
        raise ValueError("numbers must be finite (no NaN or Infinity)") from None
    if len(text) > 16_384:
        raise ValueError("at most 16 KiB of JSON")
    return value


SmallObject = Annotated[
    dict[str, Any],
    AfterValidator(_small_object),
    Field(description="A JSON object of at most 50 keys and 16 KiB."),
]
"""Free-form JSON a client keeps with an object (metadata, attributes): bounded, so one row
cannot grow without limit."""

"""Prefixed, sortable ids: `org_01J…`. The ULID part sorts by creation time, so lists are
keyset-paginated on the id alone, and dialects that need UUIDs convert losslessly."""

from uuid import UUID

from ulid import ULID

PREFIXES = frozenset(
    {
        "org",
        "key",
        "prof",
        "brand",
        "camp",
        "num",
        "wa",
        "cus",
        "csl",
        "ct",
        "whsub",
        "whdel",
        "evt",
        "job",
    }
)


def new_id(prefix: str) -> str:
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{ULID()}"


def new_request_id() -> str:
    return f"req_{ULID()}"


def is_valid_id(prefix: str, value: str) -> bool:
    head, _, tail = value.partition("_")
    if head != prefix or len(tail) != 26:
        return False
    try:
        ULID.from_str(tail)
    except ValueError:
        return False
    return True


def to_uuid(value: str) -> UUID:
    return ULID.from_str(value.partition("_")[2]).to_uuid()


def from_uuid(prefix: str, value: UUID) -> str:
    return f"{prefix}_{ULID.from_uuid(value)}"

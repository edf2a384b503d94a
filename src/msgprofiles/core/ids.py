"""Prefixed, sortable ids: `org_01J…`. The ULID part sorts by creation time, so lists are
keyset-paginated on the id alone; dialects that need UUIDs can convert them losslessly."""

from ulid import ULID

PREFIXES = frozenset(
    {
        "org",
        "key",
        "prof",
        "brand",
        "camp",
        "cmpl",
        "num",
        "wa",
        "cus",
        "csl",
        "ct",
        "cap",
        "cimp",
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

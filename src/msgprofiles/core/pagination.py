"""Opaque keyset cursors. Ids are time-sortable ULIDs, so every list is ordered newest first by
id and the cursor is the last id seen: each page is an index range scan, never an OFFSET. A
cursor also carries a digest of the list it came from (its table and filters), so one passed to
another list, or with other filters, is refused rather than answered with a wrong page.

Dialects whose vendor numbers its pages (`page=3`) pass an `offset` instead; those pages also
count the total. The native API never does."""

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from sqlalchemy import Column, Select, func, select

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.db.database import Connection

T = TypeVar("T")
U = TypeVar("U")

_CURSOR_VERSION = "2:"
_ID = re.compile(r"[a-z]{2,5}_[0-9A-HJKMNP-TV-Z]{26}")  # a prefixed ULID, nothing else


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    cursor: str | None
    offset: int | None = None  # numbered pages of a dialect: skip this many, count the total


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page, unchanged, with the same filters: "
            "a cursor of another list or other filters is a 400 `invalid_cursor`.",
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    next_cursor: str | None
    total: int | None = None  # counted for numbered pages only

    def map(self, function: Callable[[T], U]) -> "Page[U]":
        items = [function(item) for item in self.items]
        return Page(items, self.has_more, self.next_cursor, self.total)


_ANONYMOUS = re.compile(r"%\(\d+ (.+)\)s")  # SQLAlchemy's per-process name of a bound value


def list_digest(statement: Select[Any], table: str) -> str:
    """What identifies a list, the same in every process: its table and every filter value
    with the column it is bound to. Read from the statement's cache key (tens of µs; compiling
    the statement would cost a millisecond)."""
    key = statement._generate_cache_key()
    binds = key.bindparams if key is not None else []
    filters = [(_ANONYMOUS.sub(r"\1", bind.key), bind.effective_value) for bind in binds]
    text = f"{table}|{filters!r}"
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def encode_cursor(last_id: str, digest: str) -> str:
    raw = f"{_CURSOR_VERSION}{digest}:{last_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str) -> str:
    """The last id a cursor of this list stands for; 400 `invalid_cursor` for anything else
    (malformed, from an older version, or from another list)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    version, _, rest = raw.partition(":")
    found_digest, _, last_id = rest.partition(":")
    if f"{version}:" != _CURSOR_VERSION or not _ID.fullmatch(last_id):
        raise DomainError(ErrorCode.invalid_cursor, "The cursor is malformed or expired.")
    if found_digest != digest:
        raise DomainError(
            ErrorCode.invalid_cursor,
            "This cursor belongs to another list or other filters: pass the same query again.",
        )
    return last_id


async def fetch_page(
    conn: Connection, statement: Select[Any], id_column: Column[str], params: PageParams
) -> Page[Any]:
    """Run `statement` (already scoped and filtered) one page at a time, newest first."""
    if params.offset is not None:
        total = await conn.fetch_value(select(func.count()).select_from(statement.subquery()))
        statement = statement.order_by(id_column.desc()).offset(params.offset)
        rows = await conn.fetch_all(statement.limit(params.limit))
        return Page(rows, params.offset + len(rows) < total, None, total)
    digest = list_digest(statement, id_column.table.name)
    if params.cursor is not None:
        statement = statement.where(id_column < decode_cursor(params.cursor, digest))
    rows = await conn.fetch_all(statement.order_by(id_column.desc()).limit(params.limit + 1))
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(rows[-1][id_column.name], digest) if has_more else None
    return Page(items=rows, has_more=has_more, next_cursor=next_cursor)


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with `escape="\\"`: its wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

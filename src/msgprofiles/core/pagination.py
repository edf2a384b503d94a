"""Opaque keyset cursors. Ids are time-sortable ULIDs, so every list is ordered newest first by
id and the cursor is the last id seen: each page is an index range scan, never an OFFSET.

Dialects whose vendor numbers its pages (`page=3`) pass an `offset` instead; those pages also
count the total. The native API never does."""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from sqlalchemy import Column, Select, func, select

from msgprofiles.core.errors import DomainError, ErrorCode
from msgprofiles.db.database import Connection

T = TypeVar("T")
U = TypeVar("U")

_CURSOR_VERSION = "1:"


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    cursor: str | None
    offset: int | None = None  # numbered pages of a dialect: skip this many, count the total


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
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


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_VERSION + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(_CURSOR_VERSION) or len(raw) <= len(_CURSOR_VERSION):
        raise DomainError(ErrorCode.invalid_cursor, "The cursor is malformed or expired.")
    return raw[len(_CURSOR_VERSION) :]


async def fetch_page(
    conn: Connection, statement: Select[Any], id_column: Column[str], params: PageParams
) -> Page[Any]:
    """Run `statement` (already scoped and filtered) one page at a time, newest first."""
    if params.offset is not None:
        total = await conn.fetch_value(select(func.count()).select_from(statement.subquery()))
        statement = statement.order_by(id_column.desc()).offset(params.offset)
        rows = await conn.fetch_all(statement.limit(params.limit))
        return Page(rows, params.offset + len(rows) < total, None, total)
    if params.cursor is not None:
        statement = statement.where(id_column < decode_cursor(params.cursor))
    rows = await conn.fetch_all(statement.order_by(id_column.desc()).limit(params.limit + 1))
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(rows[-1][id_column.name]) if has_more else None
    return Page(items=rows, has_more=has_more, next_cursor=next_cursor)


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with `escape="\\"`: its wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

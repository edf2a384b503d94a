"""Bulk contact imports: an NDJSON or CSV file of any size, streamed in, applied by a job.

The upload is cut into chunks of whole records as it arrives and each chunk is stored, so
neither the upload nor the job ever holds more than a chunk in memory. The job applies one
chunk per transaction, which also advances the import's `next_chunk` and deletes the chunk:
an import whose process is killed resumes at the first chunk not applied, and never applies
one twice. Each record upserts the contact with its `external_id`, so importing the same
file again changes nothing (its records count as `unchanged`).

Imports emit one event when they end (`contact.import.completed|failed|canceled`), not one
per contact: a million-line file is not a million webhooks.
"""

import asyncio
import contextlib
import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, get_args

from pydantic import ValidationError
from sqlalchemy import (
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from msgprofiles.contacts import service
from msgprofiles.contacts.models import (
    contact_consents,
    contact_import_chunks,
    contact_import_errors,
    contact_imports,
    contacts,
)
from msgprofiles.contacts.schemas import (
    Channel,
    ContactAttribute,
    ContactImport,
    ContactImportError,
    ImportFormat,
    ImportRecord,
)
from msgprofiles.core.auth import Caller
from msgprofiles.core.errors import DomainError, ErrorCode, not_found
from msgprofiles.core.http import validation_error
from msgprofiles.core.ids import new_id
from msgprofiles.core.logging import logger
from msgprofiles.core.pagination import Page, PageParams, fetch_page
from msgprofiles.core.processes import ProcessPool
from msgprofiles.core.tenancy import fetch_matching
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Connection, IntegrityError, Row, prepare
from msgprofiles.jobs.runner import Retry, enqueue, handler
from msgprofiles.runtime import Runtime
from msgprofiles.webhooks.events import emit, register_event_type

IMPORT_JOB = "contact.import"
CHUNK_BYTES = 256 * 1024
"""A stored chunk: a few thousand records, one transaction of the job."""
MAX_RECORD_BYTES = 1024 * 1024
ANALYZE_FROM = 4096
"""New contacts of an import from which it refreshes the planner's statistics."""
MAX_STORED_ERRORS = 10_000
"""Errors kept per import, by line; `failed` counts them all."""
_MEDIA_TYPES: dict[str, ImportFormat] = {
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/x-jsonlines": "ndjson",
    "text/csv": "csv",
}
_FIELDS = ("external_id", "name", "email", "msisdn")

for _name, _text in {
    "contact.import.completed": "A bulk contact import finished: its counts.",
    "contact.import.failed": "A bulk contact import stopped before its end.",
    "contact.import.canceled": "A bulk contact import was canceled.",
}.items():
    register_event_type(_name, _text)

T = TypeVar("T")
_i, _chunks, _errors = contact_imports, contact_import_chunks, contact_import_errors
_c, _k = contacts, contact_consents


def format_of(content_type: str | None) -> ImportFormat:
    media_type = (content_type or "").partition(";")[0].strip().lower()
    found = _MEDIA_TYPES.get(media_type)
    if found is None:
        raise DomainError(
            ErrorCode.unsupported_media_type,
            "Send the file as NDJSON (Content-Type: application/x-ndjson) or CSV (text/csv).",
        )
    return found


def _import(row: Row | dict[str, Any]) -> ContactImport:
    return ContactImport.model_validate(dict(row), strict=False)


def _where(organization_id: str, import_id: str) -> Any:
    return (_i.c.organization_id == organization_id) & (_i.c.id == import_id)


# Receiving the file --------------------------------------------------------------------------


class _Splitter:
    """Cuts a byte stream into blocks of whole records of about CHUNK_BYTES. A CSV record
    ends at a newline outside quotes: RFC 4180 doubles quotes inside a quoted field, so the
    count of quotes before a newline is even exactly when the newline ends a record."""

    def __init__(self, quoted: bool) -> None:
        self.quoted = quoted
        self.buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        self.buffer += data
        while len(self.buffer) >= CHUNK_BYTES:
            end = self.buffer.rfind(b"\n")
            while end >= 0 and self.quoted and self.buffer.count(b'"', 0, end) % 2:
                end = self.buffer.rfind(b"\n", 0, end)
            if end < 0:
                if len(self.buffer) > MAX_RECORD_BYTES:
                    raise ValueError(f"a record is longer than {MAX_RECORD_BYTES} bytes")
                return
            yield bytes(self.buffer[: end + 1])
            del self.buffer[: end + 1]

    def rest(self) -> bytes:
        rest, self.buffer = bytes(self.buffer), bytearray()
        return rest


def _refused(message: str, line: int | None = None, field: str = "") -> DomainError:
    where = f"line {line}: " if line is not None else ""
    detail: dict[str, Any] = {"field": field, "type": "value_error", "message": message}
    if line is not None:
        detail["line"] = line
    return DomainError(ErrorCode.validation_error, where + message, details=[detail])


async def _columns(conn: Connection, organization_id: str, header: str) -> list[str]:
    """A CSV header's columns, each one a contact field, an attribute of the schema or
    `consent.<channel>`; else the upload is refused before anything is stored."""
    try:
        columns = [name.strip() for name in next(csv.reader([header]))]
    except (csv.Error, StopIteration):
        raise _refused("the CSV header cannot be read", 1) from None
    known = set(_FIELDS) | set(await service.attribute_definitions(conn, organization_id))
    unknown = [
        name
        for name in columns
        if name not in known and not (name.startswith("consent.") and name[8:] in get_args(Channel))
    ]
    if unknown:
        raise _refused(f"unknown columns {unknown}", 1, "columns")
    if len(set(columns)) != len(columns):
        raise _refused("a column is named twice", 1, "columns")
    if "external_id" not in columns:
        raise _refused("the external_id column is required: records upsert by it", 1, "columns")
    return columns


async def receive(
    conn: Connection, caller: Caller, file_format: ImportFormat, body: AsyncIterator[bytes]
) -> ContactImport:
    """Store the uploaded file as chunks, then queue the job that applies them. A refused or
    interrupted upload leaves nothing behind."""
    caller.require_organization_scope()
    org, now = caller.organization_id, utcnow()
    row: dict[str, Any] = {
        "organization_id": org,
        "id": new_id("cimp"),
        "format": file_format,
        "status": "receiving",
        "columns": None,
        **dict.fromkeys(("bytes_received", "bytes_processed", "chunks", "next_chunk"), 0),
        **dict.fromkeys(("records", "created", "updated", "unchanged", "failed"), 0),
        "failure": None,
        "created_at": now,
        "updated_at": now,
        "completed_at": None,
    }
    await conn.execute(insert(_i), row)
    try:
        splitter, line = _Splitter(quoted=file_format == "csv"), 1
        first = True
        async for data in body:
            row["bytes_received"] += len(data)
            try:
                blocks = list(splitter.feed(data))
            except ValueError as error:
                raise _refused(str(error), line) from None
            for block in blocks:
                if first:
                    block, line = await _first_block(conn, row, block)
                    first = False
                line = await _store(conn, row, block, line)
        if rest := splitter.rest():
            if first:
                rest, line = await _first_block(conn, row, rest)
            await _store(conn, row, rest if rest.endswith(b"\n") else rest + b"\n", line)
        elif first and file_format == "csv":
            raise _refused("the file is empty: a CSV file starts with its header", 1)
        row |= {"status": "queued", "updated_at": utcnow()}
        async with conn.transaction():
            await conn.execute(
                update(_i)
                .where(_where(org, row["id"]))
                .values(status="queued", bytes_received=row["bytes_received"])
            )
            await enqueue(conn, org, IMPORT_JOB, {"import_id": row["id"]})
    except BaseException:
        with contextlib.suppress(Exception):  # else the hourly sweep removes it
            await _forget(conn, org, row["id"])
        raise
    logger.info("contact_import_received", import_id=row["id"], bytes=row["bytes_received"])
    return _import(row)


async def _first_block(conn: Connection, row: dict[str, Any], block: bytes) -> tuple[bytes, int]:
    """The first block without a byte-order mark, and without a CSV file's header (read
    into `columns`); the line its records start at."""
    block = block.removeprefix(b"\xef\xbb\xbf")
    if row["format"] != "csv" or not block:
        return block, 1
    end = block.find(b"\n")
    header, block = (block, b"") if end < 0 else (block[:end], block[end + 1 :])
    row["columns"] = await _columns(conn, row["organization_id"], _decoded(header, 1))
    await conn.execute(
        update(_i).where(_where(row["organization_id"], row["id"])).values(columns=row["columns"])
    )
    return block, 2


def _decoded(block: bytes, line: int) -> str:
    try:
        return block.decode()
    except UnicodeDecodeError as error:
        at = line + block.count(b"\n", 0, error.start)
        raise _refused("the file is not UTF-8", at) from None


async def _store(conn: Connection, row: dict[str, Any], block: bytes, line: int) -> int:
    """Store one chunk; the line the next one starts at."""
    _decoded(block, line)  # refused now, while the uploader can still fix the file
    if not block.strip():
        return line + block.count(b"\n")
    async with conn.transaction():
        await conn.execute(
            insert(_chunks),
            {
                "organization_id": row["organization_id"],
                "import_id": row["id"],
                "seq": row["chunks"],
                "first_line": line,
                "data": block,
            },
        )
        row["chunks"] += 1
        await conn.execute(
            update(_i)
            .where(_where(row["organization_id"], row["id"]))
            .values(chunks=row["chunks"], bytes_received=row["bytes_received"])
        )
    return line + block.count(b"\n")


async def _forget(conn: Connection, organization_id: str, import_id: str) -> None:
    async with conn.transaction():
        for table in (_chunks, _errors):
            await conn.execute(
                delete(table).where(
                    table.c.organization_id == organization_id, table.c.import_id == import_id
                )
            )
        await conn.execute(delete(_i).where(_where(organization_id, import_id)))


async def sweep_abandoned(conn: Connection, older_than: timedelta) -> int:
    """Remove uploads that stopped arriving (their process died mid-upload)."""
    stale = await conn.fetch_all(
        select(_i.c.organization_id, _i.c.id).where(
            _i.c.status == "receiving", _i.c.updated_at < utcnow() - older_than
        )
    )
    for found in stale:
        await _forget(conn, found["organization_id"], found["id"])
    return len(stale)


# Reading records -----------------------------------------------------------------------------


def _reason(error: DomainError | ValidationError) -> DomainError:
    if isinstance(error, DomainError):
        return error
    reason = validation_error(error.errors())
    if reason.code is ErrorCode.invalid_json:
        return DomainError(ErrorCode.invalid_json, "The line is not valid JSON.")
    return reason


def _checked(record: ImportRecord) -> ImportRecord:
    """The record with its `msisdn` in E.164. PostgreSQL cannot store U+0000 in text: refused
    here as the API refuses it."""
    texts = [record.external_id, record.name, record.email, record.msisdn]
    texts += [*record.attributes, *(v for v in record.attributes.values() if isinstance(v, str))]
    if any(text is not None and "\x00" in text for text in texts):
        raise DomainError(
            ErrorCode.validation_error,
            "The record contains a U+0000 character.",
            details=[{"field": "", "type": "nul_character", "message": "U+0000 is not allowed."}],
        )
    if record.msisdn is None:
        return record
    return record.model_copy(update={"msisdn": service.normalised_msisdn(record.msisdn)})


def _ndjson(text: str, first_line: int) -> Iterator[tuple[int, ImportRecord | DomainError]]:
    for offset, raw in enumerate(text.split("\n")):
        if raw.strip():
            try:
                yield first_line + offset, _checked(ImportRecord.model_validate_json(raw))
            except (DomainError, ValidationError) as error:
                yield first_line + offset, _reason(error)


def _csv(
    text: str, first_line: int, columns: list[str], definitions: dict[str, ContactAttribute]
) -> Iterator[tuple[int, ImportRecord | DomainError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    read = 0
    while True:
        line = first_line + read
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            read = reader.line_num
            yield line, _refused(f"CSV: {error}")
            continue
        read = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield line, _refused(f"expected {len(columns)} fields, found {len(cells)}")
            continue
        try:
            yield line, _record_of_cells(columns, cells, definitions)
        except (DomainError, ValidationError) as error:
            yield line, _reason(error)


def _record_of_cells(
    columns: list[str], cells: list[str], definitions: dict[str, ContactAttribute]
) -> ImportRecord:
    """A CSV row as a record: an empty cell leaves its field as it is."""
    values: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    consent: dict[str, str] = {}
    for name, cell in zip(columns, cells, strict=True):
        if not (cell := cell.strip()):
            continue
        if name in _FIELDS:
            values[name] = cell
        elif name.startswith("consent."):
            consent[name[8:]] = cell
        else:
            attributes[name] = service.from_text(definitions[name], name, cell)
    record = {**values, "attributes": attributes, "consent": consent}
    return _checked(ImportRecord.model_validate(record))


def _records(
    data: bytes,
    first_line: int,
    file_format: ImportFormat,
    columns: list[str] | None,
    definitions: service.Definitions,
) -> Iterator[tuple[int, ImportRecord | DomainError]]:
    """A chunk's records, each read and checked as far as it can be without the database (its
    attributes are checked against the stored contact when applied), or why it is refused."""
    text = data.decode()
    if file_format == "csv":
        return _csv(text, first_line, columns or [], definitions)
    return _ndjson(text, first_line)


def read_chunk(*args: Any) -> list[tuple[int, ImportRecord | DomainError]]:
    """`_records`, run in the runtime's process pool."""
    return list(_records(*args))


async def _paced(items: Iterable[T], every: int = 50) -> AsyncIterator[T]:
    """`items`, letting the process's other requests run after every `every` of them: checking
    a chunk's records is pure Python (tens of ms), which would otherwise hold every request of
    the process that long (measured: reads at p50 154 ms during an import)."""
    for count, item in enumerate(items, 1):
        yield item
        if count % every == 0:
            await asyncio.sleep(0)


# Applying a chunk ----------------------------------------------------------------------------


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, DomainError]] = field(default_factory=list)

    def refuse(self, line: int, error: DomainError) -> None:
        # Without its traceback: a kept traceback holds its frames in a reference cycle,
        # which only the garbage collector's slow full passes free (thousands per import).
        self.errors.append((line, error.with_traceback(None)))


_SAME = ("external_id", "name", "email", "msisdn", "attributes")


def _merged(
    base: dict[str, Any] | None,
    record: ImportRecord,
    definitions: dict[str, ContactAttribute],
    organization_id: str,
    now: datetime,
) -> dict[str, Any]:
    """The contact after the record: `base` (None: a new one) with the record's fields."""
    row = (
        dict(base)
        if base is not None
        else {
            "organization_id": organization_id,
            "id": new_id("ct"),
            "external_id": record.external_id,
            "name": None,
            "email": None,
            "msisdn": None,
            "attributes": {},
            "created_at": now,
        }
    )
    given = record.model_fields_set
    for name in ("name", "email", "msisdn"):
        if name in given:
            row[name] = getattr(record, name)
    row["attributes"] = service.applied_attributes(
        definitions, record.attributes, row["attributes"]
    )
    row["updated_at"] = now
    return row


async def _apply(
    conn: Connection,
    organization_id: str,
    records: list[tuple[int, ImportRecord | DomainError]],
    definitions: dict[str, ContactAttribute],
) -> _Tally:
    """Apply a chunk's records in order (a later record of the same contact applies on top
    of an earlier one), then write the contacts and consents that changed, in bulk."""
    tally, now = _Tally(), utcnow()
    wanted = [r.external_id for _, r in records if isinstance(r, ImportRecord)]
    stored = await fetch_matching(conn, select(_c), _c.c.external_id, organization_id, wanted)
    before = {row["external_id"]: dict(row) for row in stored}
    consents_before = {
        (row["contact_id"], row["channel"]): row["status"]
        for row in await fetch_matching(
            conn,
            select(_k.c.contact_id, _k.c.channel, _k.c.status),
            _k.c.contact_id,
            organization_id,
            [row["id"] for row in stored],
        )
    }
    now_rows, consents = dict(before), dict(consents_before)
    async for line, record in _paced(records):
        if isinstance(record, DomainError):
            tally.refuse(line, record)
            continue
        base = now_rows.get(record.external_id)
        try:
            row = _merged(base, record, definitions, organization_id, now)
        except DomainError as error:
            tally.refuse(line, error)
            continue
        changes = {
            (row["id"], channel): status
            for channel, status in record.consent.items()
            if consents.get((row["id"], channel)) != status
        }
        if base is None:
            tally.created += 1
        elif changes or any(row[name] != base[name] for name in _SAME):
            tally.updated += 1
        else:
            tally.unchanged += 1
            continue
        now_rows[record.external_id] = row
        consents |= changes

    await conn.execute_many(
        _insert_contact, [row for key, row in now_rows.items() if key not in before]
    )
    await conn.execute_many(
        _update_contact,
        [
            row
            for key, row in now_rows.items()
            if key in before and any(row[n] != before[key][n] for n in _SAME)
        ],
    )
    changed = [
        {
            "organization_id": organization_id,
            "contact_id": contact_id,
            "channel": channel,
            "status": status,
            "source": "import",
            "changed_at": now,
        }
        for (contact_id, channel), status in consents.items()
        if consents_before.get((contact_id, channel)) != status
    ]
    stored_before = [(r["contact_id"], r["channel"]) in consents_before for r in changed]
    await conn.execute_many(
        _insert_consent, [r for r, known in zip(changed, stored_before, strict=True) if not known]
    )
    await conn.execute_many(
        _update_consent, [r for r, known in zip(changed, stored_before, strict=True) if known]
    )
    return tally


_insert_contact = prepare(insert(_c))
_update_contact = prepare(
    update(_c)
    .where(_c.c.organization_id == bindparam("organization_id"), _c.c.id == bindparam("id"))
    .values({name: bindparam(name) for name in (*_SAME, "updated_at")})
)
_insert_consent = prepare(insert(_k))
_insert_error = prepare(insert(_errors))
_update_consent = prepare(
    update(_k)
    .where(
        _k.c.organization_id == bindparam("organization_id"),
        _k.c.contact_id == bindparam("contact_id"),
        _k.c.channel == bindparam("channel"),
    )
    .values({name: bindparam(name) for name in ("status", "source", "changed_at")})
)


# The job -------------------------------------------------------------------------------------


class _ReadAhead:
    """An import's chunks read into records ahead of the one being applied: in the runtime's
    process pool, one chunk per process, so that reading (most of an import's work) runs on
    the other cores while this process writes; without a pool, one chunk at a time here.

    Reading happens outside the transaction that applies a chunk, so the chunk does not hold
    the database (SQLite's one writer) while its records are read."""

    def __init__(self, pool: ProcessPool | None) -> None:
        self.pool = pool
        self.depth = pool.processes + 1 if pool is not None else 1
        self.started: dict[int, tuple[service.Definitions, int, asyncio.Task[Any]]] = {}

    async def records(
        self, conn: Connection, imported: Row, seq: int, definitions: service.Definitions
    ) -> tuple[int, list[tuple[int, ImportRecord | DomainError]]] | None:
        """Chunk `seq`'s size and records (None: there is no such chunk); the chunks after it
        start reading. Records read with other attribute definitions are read again."""
        for started in [
            n for n, (known, *_) in self.started.items() if n < seq or known != definitions
        ]:
            self._drop(started)
        missing = [n for n in range(seq, seq + self.depth) if n not in self.started]
        rows = await conn.fetch_all(
            select(_chunks.c.seq, _chunks.c.first_line, _chunks.c.data).where(
                _chunks.c.organization_id == imported["organization_id"],
                _chunks.c.import_id == imported["id"],
                _chunks.c.seq.in_(missing),
            )
        )
        for row in rows:
            data = bytes(row["data"])
            args = (data, row["first_line"], imported["format"], imported["columns"], definitions)
            reading = asyncio.ensure_future(self._read(*args))
            self.started[row["seq"]] = (definitions, len(data), reading)
        if seq not in self.started:
            return None
        _, size, reading = self.started.pop(seq)
        return size, await reading

    async def _read(self, *args: Any) -> list[tuple[int, ImportRecord | DomainError]]:
        if self.pool is not None:
            return await self.pool.run(read_chunk, *args)
        return [record async for record in _paced(_records(*args))]

    def _drop(self, seq: int) -> None:
        reading = self.started.pop(seq)[2]
        if reading.done() and not reading.cancelled():
            reading.exception()  # read for nothing: its failure need not be reported
        reading.cancel()

    def close(self) -> None:
        for seq in list(self.started):
            self._drop(seq)


@handler(IMPORT_JOB)
async def _run(runtime: Runtime, job: Row) -> None:
    """Apply the import's chunks one transaction each, until none is left."""
    org, import_id = job["organization_id"], job["payload"]["import_id"]
    chunks, races = _ReadAhead(runtime.processes), 0
    try:
        while True:
            try:
                async with runtime.database.connect() as conn:
                    if not await _step(conn, org, import_id, chunks):
                        return
                races = 0
                await asyncio.sleep(0)  # SQLite's calls never yield: let requests in between
            except IntegrityError:
                # A contact with one of the chunk's external ids was created meanwhile (by the
                # API or another import): apply the chunk again, now as an update.
                races += 1
                if races > 3:
                    raise
            except DBAPIError as error:  # the database is away: the job runs again
                raise Retry(timedelta(seconds=10), f"database error: {error.orig}") from error
            except Exception as error:
                async with runtime.database.connect() as conn:
                    await _stop(
                        conn, org, import_id, "failed", f"internal error: {type(error).__name__}"
                    )
                raise
    finally:
        chunks.close()


async def _step(conn: Connection, organization_id: str, import_id: str, chunks: _ReadAhead) -> bool:
    """Apply the next chunk; False when there is nothing left to do."""
    imported = await conn.fetch_one(select(_i).where(_where(organization_id, import_id)))
    if imported is None or imported["status"] not in ("queued", "running"):
        return False
    seq = imported["next_chunk"]
    definitions = await service.attribute_definitions(conn, organization_id)
    chunk = await chunks.records(conn, imported, seq, definitions)
    async with conn.transaction():
        imported = await conn.fetch_one(
            select(_i).where(_where(organization_id, import_id)).with_for_update()
        )
        if imported is None or imported["status"] not in ("queued", "running"):
            return False
        if imported["next_chunk"] != seq or (
            chunk is not None
            and await service.attribute_definitions(conn, organization_id) != definitions
        ):
            return True  # changed while the records were read: read them again
        if chunk is None:
            await _finish(conn, imported)
            return False
        size, records = chunk
        tally = await _apply(conn, organization_id, records, definitions)
        room = max(0, MAX_STORED_ERRORS - imported["failed"])
        await conn.execute_many(
            _insert_error,
            [
                {
                    "organization_id": organization_id,
                    "import_id": import_id,
                    "line": line,
                    "code": error.code.value,
                    "field": _field_of(error),
                    "message": error.message if not error.details else _message_of(error),
                }
                for line, error in tally.errors[:room]
            ],
        )
        await conn.execute(
            delete(_chunks).where(
                _chunks.c.organization_id == organization_id,
                _chunks.c.import_id == import_id,
                _chunks.c.seq == seq,
            )
        )
        await conn.execute(
            update(_i)
            .where(_where(organization_id, import_id))
            .values(
                status="running",
                next_chunk=seq + 1,
                bytes_processed=_i.c.bytes_processed + size,
                records=_i.c.records + len(records),
                created=_i.c.created + tally.created,
                updated=_i.c.updated + tally.updated,
                unchanged=_i.c.unchanged + tally.unchanged,
                failed=_i.c.failed + len(tally.errors),
                updated_at=utcnow(),
            )
        )
    # Each time the import's new contacts double (from ANALYZE_FROM on), so that the next chunks'
    # lookup of their external ids stays an index probe per key (measured at 700k contacts
    # without: 62 ms a chunk on average, 535 ms at most, hashing the organization's rows).
    before, after = imported["created"], imported["created"] + tally.created
    if (after // ANALYZE_FROM).bit_length() > (before // ANALYZE_FROM).bit_length():
        await conn.analyze(_c, _k)
    return True


def _field_of(error: DomainError) -> str | None:
    return next((str(d["field"]) for d in error.details if d.get("field")), None)


def _message_of(error: DomainError) -> str:
    detail = error.details[0]
    message = detail.get("message")
    return f"{detail.get('field')}: {message}" if message and detail.get("field") else error.message


async def _finish(conn: Connection, imported: Row) -> None:
    now = utcnow()
    values = {"status": "completed", "updated_at": now, "completed_at": now}
    await conn.execute(
        update(_i).where(_where(imported["organization_id"], imported["id"])).values(**values)
    )
    done = _import({**imported, **values})
    await emit(conn, imported["organization_id"], "contact.import.completed", done)
    logger.info(
        "contact_import_completed",
        import_id=done.id,
        records=done.records,
        created=done.created,
        failed=done.failed,
    )


async def _stop(
    conn: Connection, organization_id: str, import_id: str, status: str, failure: str | None
) -> ContactImport | None:
    """End an import before its last chunk (failed or canceled), dropping the chunks left."""
    async with conn.transaction():
        imported = await conn.fetch_one(
            select(_i).where(_where(organization_id, import_id)).with_for_update()
        )
        if imported is None or imported["status"] not in ("queued", "running"):
            return None
        now = utcnow()
        values = {"status": status, "failure": failure, "updated_at": now, "completed_at": now}
        await conn.execute(update(_i).where(_where(organization_id, import_id)).values(**values))
        await conn.execute(
            delete(_chunks).where(
                _chunks.c.organization_id == organization_id, _chunks.c.import_id == import_id
            )
        )
        stopped = _import({**imported, **values})
        await emit(conn, organization_id, f"contact.import.{status}", stopped)
    return stopped


# Reading and canceling -----------------------------------------------------------------------


async def _require(conn: Connection, caller: Caller, import_id: str) -> Row:
    row = await conn.fetch_one(select(_i).where(_where(caller.organization_id, import_id)))
    if row is None:
        raise not_found(ErrorCode.contact_import_not_found, "contact import", import_id)
    return row


async def get_import(conn: Connection, caller: Caller, import_id: str) -> ContactImport:
    return _import(await _require(conn, caller, import_id))


async def list_imports(conn: Connection, caller: Caller, page: PageParams) -> Page[ContactImport]:
    statement = select(_i).where(_i.c.organization_id == caller.organization_id)
    return (await fetch_page(conn, statement, _i.c.id, page)).map(_import)


async def list_errors(
    conn: Connection, caller: Caller, import_id: str, after_line: int, limit: int
) -> tuple[list[ContactImportError], bool]:
    """The refused records after `after_line`, by line; and whether more follow."""
    await _require(conn, caller, import_id)
    rows = await conn.fetch_all(
        select(_errors)
        .where(
            _errors.c.organization_id == caller.organization_id,
            _errors.c.import_id == import_id,
            _errors.c.line > after_line,
        )
        .order_by(_errors.c.line)
        .limit(limit + 1)
    )
    found = [ContactImportError.model_validate(dict(row), strict=False) for row in rows]
    return found[:limit], len(found) > limit


async def cancel_import(conn: Connection, caller: Caller, import_id: str) -> ContactImport:
    """Stop a queued or running import: the chunks applied stay applied, the rest are
    dropped. An import still arriving is canceled by ending its upload."""
    caller.require_organization_scope()
    row = await _require(conn, caller, import_id)
    stopped = await _stop(conn, caller.organization_id, import_id, "canceled", None)
    if stopped is None:
        raise DomainError(
            ErrorCode.contact_import_finished,
            f"The import is {row['status']}: only a queued or running import can be canceled.",
        )
    return stopped

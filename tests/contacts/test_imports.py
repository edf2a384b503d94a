"""Bulk contact imports through /v1: NDJSON and CSV files streamed in, applied by the job,
upserting by external_id; refusals that store nothing; errors by line; cancel."""

import json
import multiprocessing
import os
import signal
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, insert, select, text

from msgprofiles.config import Settings
from msgprofiles.contacts.imports import ANALYZE_FROM, CHUNK_BYTES, _ReadAhead, sweep_abandoned
from msgprofiles.contacts.models import contact_import_chunks, contact_imports
from msgprofiles.contacts.service import attribute_definitions
from msgprofiles.core.http import UPLOAD_PATHS
from msgprofiles.core.processes import ProcessPool
from msgprofiles.core.time import utcnow
from msgprofiles.db.database import Database
from msgprofiles.jobs.runner import Worker
from msgprofiles.runtime import open_runtime
from tests.conftest import Org
from tests.contacts.test_routes import define


@pytest.fixture(params=["process pool", "in-process"])
def reading(request, worker: Worker, monkeypatch) -> ProcessPool | None:
    """The worker reads records in its runtime's process pool (the default) or, with
    `import_processes = 0`, in its own process."""
    if request.param == "in-process":
        monkeypatch.setattr(worker.context, "processes", None)
    else:
        assert worker.context.processes is not None
    return worker.context.processes


async def upload(
    org: Org, content: bytes, media_type: str = "application/x-ndjson", key: str | None = None
) -> httpx.Response:
    async def body():  # streamed in pieces, as a real upload arrives
        for start in range(0, len(content), 50_000):
            yield content[start : start + 50_000]

    return await org.client.post(
        "/v1/contacts/imports",
        content=body(),
        headers=org.headers(key, **{"Content-Type": media_type}),
    )


async def imported(
    org: Org, worker: Worker, content: bytes, media_type: str = "application/x-ndjson"
) -> dict:
    """Upload the file, run the job, and answer the finished import."""
    r = await upload(org, content, media_type)
    assert r.status_code == 202, r.text
    started = r.json()["data"]
    assert started["status"] == "queued" and started["bytes_received"] == len(content)
    await worker.run_until_idle()
    done = (await org.get(f"/v1/contacts/imports/{started['id']}")).json()["data"]
    assert done["status"] == "completed", done
    return done


def ndjson(*records: object) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records
    )


async def errors_of(org: Org, import_id: str, **params: object) -> dict:
    r = await org.get(f"/v1/contacts/imports/{import_id}/errors", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def contact(org: Org, external_id: str) -> dict:
    r = await org.get("/v1/contacts/lookup", params={"external_id": external_id})
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_an_ndjson_file_creates_contacts_and_reports_bad_lines(
    org: Org, worker: Worker, reading: ProcessPool | None
):
    await define(org, {"name": "plan", "type": "enum", "values": ["free", "gold"]})
    await define(org, {"name": "score", "type": "number"})
    content = ndjson(
        {
            "external_id": "c1",
            "name": "Ann",
            "msisdn": "1 415 555 0123",
            "attributes": {"plan": "gold"},
        },
        {"external_id": "c2", "email": "bo@example.com", "consent": {"sms": "opted_out"}},
        b"{not json",
        {"external_id": "c3", "attributes": {"shoe": 42}},
        {"name": "no external id"},
        {"external_id": "c4", "msisdn": "12"},
        b"",
        {"external_id": "c5", "name": "nul \u0000 here"},
        {"external_id": "c6", "attributes": {"score": 3}, "sms": True},
        {"external_id": "c1", "attributes": {"score": 7.5}},
    )
    done = await imported(org, worker, content)
    assert (done["records"], done["created"], done["updated"], done["failed"]) == (9, 2, 1, 6)
    assert done["bytes_processed"] == done["bytes_received"] == len(content)

    ann = await contact(org, "c1")
    assert ann["msisdn"] == "+14155550123"
    assert ann["attributes"] == {"plan": "gold", "score": 7.5}, "the later line applies on top"
    bo = await contact(org, "c2")
    consent = (await org.get(f"/v1/contacts/{bo['id']}/consent")).json()["data"]
    assert [(c["channel"], c["status"], c["source"]) for c in consent] == [
        ("sms", "opted_out", "import")
    ]
    errors = (await errors_of(org, done["id"]))["data"]
    assert [(e["line"], e["code"], e["field"]) for e in errors] == [
        (3, "invalid_json", None),
        (4, "validation_error", "attributes.shoe"),
        (5, "validation_error", "external_id"),
        (6, "invalid_phone_number", "msisdn"),
        (8, "validation_error", None),
        (9, "validation_error", "sms"),
    ]
    assert all(e["message"] for e in errors)


async def test_importing_the_same_file_again_changes_nothing(org: Org, worker: Worker):
    content = ndjson(*({"external_id": f"r{n}", "name": f"Person {n}"} for n in range(50)))
    first = await imported(org, worker, content)
    listed = (await org.get("/v1/contacts", params={"limit": 100})).json()["data"]
    again = await imported(org, worker, content)
    assert (first["created"], again["created"], again["unchanged"]) == (50, 0, 50)
    assert (await org.get("/v1/contacts", params={"limit": 100})).json()["data"] == listed


async def test_a_csv_file_upserts_by_external_id(
    org: Org, worker: Worker, reading: ProcessPool | None
):
    await define(org, {"name": "vip", "type": "boolean"}, {"name": "score", "type": "number"})
    existing = await org.post(
        "/v1/contacts", {"external_id": "c1", "name": "Ann", "email": "ann@example.com"}
    )
    assert existing.status_code == 201
    content = (
        "\ufeffexternal_id,name,msisdn,vip,score,consent.whatsapp\r\n"
        'c1,"Lee, Ann",,true,10,opted_in\r\n'
        'c2,"Two\nlines",+442079460958,FALSE,2.5,\r\n'
        "c3,,,maybe,,\r\n"
        "c4,Four\r\n"
        "\r\n"
        "c5,,,,1e3,\r\n"
    ).encode()
    done = await imported(org, worker, content, "text/csv; charset=utf-8")
    assert done["columns"] == ["external_id", "name", "msisdn", "vip", "score", "consent.whatsapp"]
    assert (done["created"], done["updated"], done["failed"]) == (2, 1, 2)

    ann = await contact(org, "c1")
    assert ann["id"] == existing.json()["data"]["id"], "the same contact, updated"
    assert (ann["name"], ann["email"]) == ("Lee, Ann", "ann@example.com"), "empty cells keep"
    assert ann["attributes"] == {"vip": True, "score": 10}
    two = await contact(org, "c2")
    assert (two["name"], two["msisdn"], two["attributes"]) == (
        "Two\nlines",
        "+442079460958",
        {"vip": False, "score": 2.5},
    )
    assert (await contact(org, "c5"))["attributes"] == {"score": 1000.0}
    errors = (await errors_of(org, done["id"]))["data"]
    assert [(e["line"], e["field"]) for e in errors] == [(5, "attributes.vip"), (6, None)]
    assert "expected 6 fields" in errors[1]["message"]


async def test_a_file_of_many_chunks_is_applied_whole_in_file_order(
    org: Org, worker: Worker, database: Database, reading: ProcessPool | None
):
    records = [{"external_id": f"e{n:05}", "name": "x" * 80} for n in range(8000)]
    # The same contact in the first chunk and the last: the last one applies last.
    records += [{"external_id": "e00001", "name": "last", "msisdn": "+1 415 555 0199"}]
    content = ndjson(*records)
    assert len(content) > 3 * CHUNK_BYTES
    r = await upload(org, content)
    import_id = r.json()["data"]["id"]
    async with database.connect() as conn:
        stored = await conn.fetch_value(
            select(func.count()).where(contact_import_chunks.c.import_id == import_id)
        )
    assert stored >= 4, "the file is kept as chunks until applied"
    await worker.run_until_idle()
    done = (await org.get(f"/v1/contacts/imports/{import_id}")).json()["data"]
    assert (done["status"], done["created"], done["updated"]) == ("completed", 8000, 1)
    assert done["records"] == 8001
    async with database.connect() as conn:
        left = await conn.fetch_value(
            select(func.count()).where(contact_import_chunks.c.import_id == import_id)
        )
    assert left == 0, "applied chunks are deleted"
    page = (await org.get("/v1/contacts", params={"search": "e07999"})).json()["data"]
    assert [c["external_id"] for c in page] == ["e07999"]
    last = await contact(org, "e00001")
    assert (last["name"], last["msisdn"]) == ("last", "+14155550199")


async def test_an_import_refreshes_postgresqls_statistics_as_it_grows(
    org: Org, worker: Worker, database: Database
):
    """Else the planner keeps pricing the organization at the few contacts it had when
    autovacuum last looked, and hashes all of them for each chunk's lookup."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite plans without statistics")

    async def analyses() -> int:
        async with database.connect() as conn:
            return int(
                await conn.fetch_value(
                    text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'contacts'")
                )
            )

    before = await analyses()
    done = await imported(
        org, worker, ndjson(*({"external_id": f"g{n}"} for n in range(ANALYZE_FROM)))
    )
    assert done["created"] == ANALYZE_FROM
    assert await analyses() == before + 1
    again = await imported(org, worker, ndjson(*({"external_id": f"g{n}"} for n in range(99))))
    assert again["unchanged"] == 99 and await analyses() == before + 1, "nothing new, no cost"


async def test_an_import_goes_on_when_a_pool_process_dies(org: Org, worker: Worker):
    """A reading process killed (out of memory, by an operator) costs the import nothing: the
    pool is replaced and the chunk read again."""
    first = await imported(org, worker, ndjson({"external_id": "p1"}))
    assert first["created"] == 1
    pool = multiprocessing.active_children()
    assert pool, "the import was read in the pool"
    for process in pool:
        os.kill(process.pid, signal.SIGKILL)
        process.join(5)
    content = ndjson(*({"external_id": f"p{n}", "msisdn": "+14155550123"} for n in range(2, 500)))
    done = await imported(org, worker, content)
    assert (done["created"], done["failed"]) == (498, 0)
    assert (await contact(org, "p499"))["msisdn"] == "+14155550123"


@pytest.mark.parametrize(
    ("content", "media_type", "status", "code", "words"),
    [
        (b"external_id,shoe\nc1,42\n", "text/csv", 400, "validation_error", "unknown columns"),
        (b"name\nAnn\n", "text/csv", 400, "validation_error", "external_id column"),
        (b"", "text/csv", 400, "validation_error", "empty"),
        (
            ndjson({"external_id": "a"}) + b'{"name": "\xff"}\n',
            None,
            400,
            "validation_error",
            "line 2",
        ),
        (b'{"external_id": "a"}\n', "application/json", 415, "unsupported_media_type", "NDJSON"),
    ],
)
async def test_a_refused_file_leaves_nothing(
    org: Org, database: Database, content, media_type, status, code, words
):
    r = await upload(org, content, media_type or "application/x-ndjson")
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and words in r.json()["error"]["message"]
    assert (await org.get("/v1/contacts/imports")).json()["data"] == []
    async with database.connect() as conn:
        rows = await conn.fetch_all(
            select(contact_imports.c.id).where(contact_imports.c.organization_id == org.id)
        )
    assert rows == []


async def test_a_record_longer_than_a_megabyte_is_refused(org: Org):
    r = await upload(org, b'{"external_id": "' + b"x" * 2_000_000)
    assert r.status_code == 400 and "longer than" in r.json()["error"]["message"]


async def test_errors_page_by_line(org: Org, worker: Worker):
    content = ndjson(*({"external_id": f"p{n}", "shoe": n} for n in range(25)))
    done = await imported(org, worker, content)
    assert done["failed"] == 25
    first = await errors_of(org, done["id"], limit=10)
    assert [e["line"] for e in first["data"]] == list(range(1, 11)) and first["has_more"]
    second = await errors_of(org, done["id"], limit=10, cursor=first["next_cursor"])
    assert second["data"][0]["line"] == 11
    bad = await org.get(f"/v1/contacts/imports/{done['id']}/errors", params={"cursor": "x"})
    assert bad.status_code == 400


async def test_roles_tenants_and_cancel(org: Org, other_org: Org, worker: Worker):
    refused = await upload(org, ndjson({"external_id": "m"}), key=org.member_key)
    assert refused.status_code == 403
    r = await upload(org, ndjson({"external_id": "k1"}))
    import_id = r.json()["data"]["id"]
    assert (await other_org.get(f"/v1/contacts/imports/{import_id}")).status_code == 404
    assert (await other_org.post(f"/v1/contacts/imports/{import_id}/cancel")).status_code == 404
    listed = (await org.get("/v1/contacts/imports", key=org.member_key)).json()["data"]
    assert [i["id"] for i in listed] == [import_id]

    canceled = await org.post(f"/v1/contacts/imports/{import_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["data"]["status"] == "canceled"
    await worker.run_until_idle()
    assert (await org.get("/v1/contacts/lookup", params={"external_id": "k1"})).status_code == 404
    again = await org.post(f"/v1/contacts/imports/{import_id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "contact_import_finished"
    events = (await org.get("/v1/events", params={"type": "contact.import.canceled"})).json()
    assert [e["data"]["id"] for e in events["data"]] == [import_id]


async def test_completion_is_one_event(org: Org, worker: Worker):
    done = await imported(org, worker, ndjson(*({"external_id": f"v{n}"} for n in range(30))))
    events = (await org.get("/v1/events", params={"limit": 100})).json()["data"]
    types = [e["type"] for e in events]
    assert "contact.created" not in types
    completed = [e for e in events if e["type"] == "contact.import.completed"]
    assert [e["data"]["created"] for e in completed] == [30] and completed[0]["data"]["id"] == done[
        "id"
    ]


def test_every_streamed_route_is_an_upload_path(app):
    """The server and the body limit learn upload paths from UPLOAD_PATHS, before any route
    exists: the list and the routes that stream their body must agree."""

    def routes(items: list) -> list:  # included routers hold their own routes
        found = []
        for item in items:
            router = getattr(item, "original_router", None)
            found += routes(router.routes) if router is not None else [item]
        return found

    streamed = {r.path for r in routes(app.routes) if getattr(r, "streams_body", False)}
    assert streamed == UPLOAD_PATHS


async def test_an_upload_abandoned_mid_way_is_swept(org: Org, database: Database):
    """A process that died mid-upload leaves a `receiving` import: the hourly sweep removes
    it and its chunks once it has stopped changing, and leaves a live upload alone."""
    now = utcnow()
    async with database.connect() as conn:
        for import_id, age in (
            ("cimp_01JN0000000000000000000001", 2),
            ("cimp_01JN0000000000000000000002", 0),
        ):
            row = {
                "organization_id": org.id,
                "id": import_id,
                "format": "ndjson",
                "status": "receiving",
                "columns": None,
                **dict.fromkeys(("bytes_received", "bytes_processed", "chunks", "next_chunk"), 0),
                **dict.fromkeys(("records", "created", "updated", "unchanged", "failed"), 0),
                "failure": None,
                "created_at": now - timedelta(hours=age),
                "updated_at": now - timedelta(hours=age),
                "completed_at": None,
            }
            await conn.execute(insert(contact_imports), row)
            chunk = {"organization_id": org.id, "import_id": import_id, "seq": 0}
            await conn.execute(
                insert(contact_import_chunks), chunk | {"first_line": 1, "data": b"{}\n"}
            )
        assert await sweep_abandoned(conn, timedelta(hours=1)) >= 1
    listed = (await org.get("/v1/contacts/imports")).json()["data"]
    assert [i["id"] for i in listed] == ["cimp_01JN0000000000000000000002"]
    async with database.connect() as conn:
        left = await conn.fetch_all(
            select(contact_import_chunks.c.import_id).where(
                contact_import_chunks.c.organization_id == org.id
            )
        )
    assert [r["import_id"] for r in left] == ["cimp_01JN0000000000000000000002"]


@pytest.mark.parametrize(("setting", "processes"), [(None, os.cpu_count()), (3, 3), (0, None)])
async def test_import_processes_are_one_per_cpu_unless_set(tmp_path, setting, processes):
    settings = Settings(data_dir=tmp_path, import_processes=setting)
    async with open_runtime(settings) as runtime:
        pool = runtime.processes
        assert (pool.processes if pool is not None else None) == processes


async def test_records_read_ahead_under_an_older_schema_are_read_again(
    org: Org, worker: Worker, database: Database
):
    """The pool reads the next chunks while one is applied; if the attribute schema changed
    meanwhile (a CSV cell is read by its attribute's type), those chunks are read again."""
    await define(org, {"name": "score", "type": "number"})
    rows = "".join(f"c{n:06},{n}\n" for n in range(60_000))
    r = await upload(org, f"external_id,score\n{rows}".encode(), "text/csv")
    import_id = r.json()["data"]["id"]
    async with database.connect() as conn:
        imported = await conn.fetch_one(
            select(contact_imports).where(contact_imports.c.id == import_id)
        )
        assert imported is not None and imported["chunks"] >= 2
        numbers = await attribute_definitions(conn, org.id)
        strings = numbers | {"score": numbers["score"].model_copy(update={"type": "string"})}
        chunks = _ReadAhead(worker.context.processes)
        try:
            _, first = await chunks.records(conn, imported, 0, numbers)  # reads 1 ahead too
            _, second = await chunks.records(conn, imported, 1, strings)
        finally:
            chunks.close()
    assert [type(record.attributes["score"]) for _, record in (first[0], second[0])] == [int, str]
    await worker.run_until_idle()  # the import itself, under the stored schema
    done = (await org.get(f"/v1/contacts/imports/{import_id}")).json()["data"]
    assert (done["status"], done["created"]) == ("completed", 60_000)

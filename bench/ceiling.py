"""The ceiling: a minimal FastAPI app doing the same reads and inserts as msgprofiles with raw
SQL (sqlite3 inline, or an asyncpg pool) and nothing else — no middleware, no idempotency,
no rate limit, no logging. `bench/run.py` runs it against the same database."""

import hashlib
import json
import secrets
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request

READ = (
    "SELECT o.id, o.name, o.email, o.metadata, o.is_operator, o.created_at, o.updated_at "
    "FROM api_keys k JOIN organizations o ON o.id = k.organization_id "
    "WHERE k.organization_id = {0} AND k.key_hash = {1}"
)
INSERT = (
    "INSERT INTO api_keys (organization_id, id, name, role, profile_id, key_hash, hint, "
    "created_at) VALUES ({0}, {1}, {2}, {3}, NULL, {4}, {5}, {6})"
)


def caller(request: Request) -> tuple[str, str]:
    key = request.headers["authorization"][len("Bearer ") :]
    return "org_" + key[4:30], hashlib.sha256(key.encode()).hexdigest()


def build(database_url: str) -> FastAPI:
    app = FastAPI()
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(
            database_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        read, insert = READ.format("?", "?"), INSERT.format(*"???????")

        async def fetch(*args: Any) -> Any:
            return conn.execute(read, args).fetchone()

        async def write(*args: Any) -> None:
            conn.execute(insert, args)

    else:
        pool: list[asyncpg.Pool] = []
        read, insert = READ.format("$1", "$2"), INSERT.format(*(f"${i}" for i in range(1, 8)))

        @app.on_event("startup")
        async def _open() -> None:
            pool.append(await asyncpg.create_pool(database_url, min_size=10, max_size=10))

        async def fetch(*args: Any) -> Any:
            return await pool[0].fetchrow(read, *args)

        async def write(*args: Any) -> None:
            await pool[0].execute(insert, *args)

    @app.get("/v1/organization")
    async def get_organization(request: Request) -> dict[str, Any]:
        row = await fetch(*caller(request))
        keys = ("id", "name", "email", "metadata", "is_operator", "created_at", "updated_at")
        return {"data": dict(zip(keys, row, strict=True)), "request_id": "req_ceiling"}

    @app.post("/v1/api_keys", status_code=201)
    async def create_api_key(request: Request) -> dict[str, Any]:
        body = json.loads(await request.body())
        organization_id, _ = caller(request)
        secret = f"mpk_{organization_id[4:]}_{secrets.token_urlsafe(32)}"
        key_id = "key_" + secrets.token_hex(13).upper()
        now = datetime.now(UTC)
        created = now.isoformat() if database_url.startswith("sqlite") else now
        await write(
            organization_id,
            key_id,
            body["name"],
            "member",
            hashlib.sha256(secret.encode()).hexdigest(),
            secret[-4:],
            created,
        )
        return {
            "data": {"id": key_id, "name": body["name"], "secret": secret},
            "request_id": "req_ceiling",
        }

    return app


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(build(url), host="127.0.0.1", port=port, log_level="warning", access_log=False)

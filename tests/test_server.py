"""The service as a user runs it: `msgprofiles serve`, a real process on a real port."""

import asyncio
import json
import subprocess

import httpx
import pytest

from tests.conftest import POSTGRES_SERVER
from tests.servers import EXECUTABLE, KEY, database_args, serve


def test_first_start_prints_the_operator_key_once_and_a_restart_keeps_data(
    tmp_path, fresh_database
):
    data_dir = tmp_path / "data"
    args = ["--data-dir", str(data_dir), *database_args(fresh_database)]
    with serve(*args) as (url, first_lines):
        # The key is printed before the server accepts requests; read it off the log after.
        pass
    output = "\n".join(first_lines)
    keys = KEY.findall(output)
    assert len(keys) == 1, output
    assert f"{url}/docs" in output
    key = keys[0]

    with serve(*args) as (url, second_lines):
        headers = {"Authorization": f"Bearer {key}"}
        org = httpx.get(f"{url}/v1/organization", headers=headers).json()["data"]
        assert org["is_operator"] is True
        created = httpx.post(
            f"{url}/v1/api_keys", json={"name": "from a test"}, headers=headers
        ).json()["data"]
        assert httpx.get(f"{url}/v1/api_keys/{created['id']}", headers=headers).status_code == 200
        assert httpx.get(f"{url}/docs").status_code == 200
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "msgprofiles"
    second = "\n".join(second_lines)
    assert not KEY.findall(second), "a second start prints no key, and logs never show one"
    assert created["secret"] not in second
    logged = [json.loads(line) for line in second_lines if line.startswith("{")]
    assert any(
        line.get("event") == "request"
        and line.get("path") == "/v1/api_keys"
        and line.get("status") == 201
        and line.get("request_id", "").startswith("req_")
        for line in logged
    )

    if not POSTGRES_SERVER:
        assert (data_dir / "msgprofiles.sqlite3").exists()
    with serve(*args) as (url, _):
        names = [k["name"] for k in httpx.get(f"{url}/v1/api_keys", headers=headers).json()["data"]]
    assert "from a test" in names, "data survives restarts"


def test_sqlite_refuses_several_workers(tmp_path):
    result = subprocess.run(
        [EXECUTABLE, "serve", "--workers", "2", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr


@pytest.mark.skipif(not POSTGRES_SERVER, reason="several processes need PostgreSQL")
def test_several_workers_share_postgresql_and_idempotency_holds(tmp_path, fresh_database):
    with serve("--workers", "2", "--database-url", fresh_database, "--data-dir", str(tmp_path)) as (
        url,
        lines,
    ):
        pass  # the first start prints the operator's key
    key = KEY.findall("\n".join(lines))[0]
    with serve("--workers", "2", "--database-url", fresh_database, "--data-dir", str(tmp_path)) as (
        url,
        _,
    ):

        async def race() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, headers={"x-api-key": key}) as client:
                return await asyncio.gather(
                    *[
                        client.post(
                            "/v1/api_keys",
                            json={"name": "raced"},
                            headers={"Idempotency-Key": "multi-process"},
                        )
                        for _ in range(12)
                    ]
                )

        responses = asyncio.run(race())
        assert {r.status_code for r in responses} == {201}
        assert len({r.json()["data"]["id"] for r in responses}) == 1
        listed = httpx.get(f"{url}/v1/api_keys", headers={"x-api-key": key}).json()["data"]
        assert sum(k["name"] == "raced" for k in listed) == 1

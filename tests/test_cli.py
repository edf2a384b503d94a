"""`msgprofiles orgs|keys|migrate` as an operator types them."""

import re
import subprocess

import httpx
import pytest

from tests.conftest import POSTGRES_SERVER
from tests.test_server import EXECUTABLE, KEY, serve


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([EXECUTABLE, *args], capture_output=True, text=True, timeout=60)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def where(tmp_path, fresh_database) -> list[str]:
    return [
        "--data-dir",
        str(tmp_path),
        *(["--database-url", fresh_database] if POSTGRES_SERVER else []),
    ]


def test_help_on_every_command():
    for command in (
        [],
        ["serve"],
        ["migrate"],
        ["orgs"],
        ["orgs", "create"],
        ["orgs", "list"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
    ):
        result = run(*command, "--help")
        assert "Usage" in result.stdout


def test_operator_manages_tenants_and_keys_from_the_command_line(where):
    assert "up to date" in run("migrate", *where).stdout
    missing = run("orgs", "create", "Early", *where, ok=False)
    assert missing.returncode == 1 and "msgprofiles serve" in missing.stderr

    with serve(*where):
        pass  # the first start creates the operator organization

    created = run("orgs", "create", "Initech", "--email", "it@initech.example", *where).stdout
    org_id = re.search(r"org_\w+", created).group(0)
    tenant_key = KEY.search(created).group(0)
    assert org_id in run("orgs", "list", *where).stdout

    made = run("keys", "create", "--org", org_id, "--name", "ci", "--role", "member", *where)
    key_id = re.search(r"key_\w+", made.stdout).group(0)
    member_key = KEY.search(made.stdout).group(0)
    listing = run("keys", "list", "--org", org_id, *where).stdout
    assert key_id in listing and member_key not in listing and tenant_key not in listing

    with serve(*where) as (url, _):
        r = httpx.get(f"{url}/v1/organization", headers={"x-api-key": member_key})
        assert r.json()["data"]["name"] == "Initech"
        run("keys", "revoke", key_id, "--org", org_id, *where)
        r = httpx.get(f"{url}/v1/organization", headers={"x-api-key": member_key})
        assert r.status_code == 401

    unknown = run(
        "keys", "revoke", key_id, "--org", "org_01ARZ3NDEKTSV4RRFFQ69G5FAV", *where, ok=False
    )
    assert unknown.returncode == 1 and "api_key_not_found" in unknown.stderr
    bad_role = run("keys", "create", "--org", org_id, "--role", "owner", *where, ok=False)
    assert bad_role.returncode == 2

"""`msgprofiles orgs|keys|migrate` as an operator types them."""

import json
import os
import pty
import re
import subprocess
import sys

import httpx
import pytest

from msgprofiles import __version__
from tests.conftest import POSTGRES_SERVER
from tests.servers import EXECUTABLE, KEY, serve


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
        ["backup"],
        ["restore"],
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


def test_version_and_the_environment_behind_each_option():
    assert run("--version").stdout.strip() == f"msgprofiles {__version__}"
    help_text = " ".join(run("serve", "--help").stdout.split())  # unwrapped
    for variable in ("MSGPROFILES_PORT", "MSGPROFILES_DATA_DIR", "MSGPROFILES_DATABASE_URL"):
        assert f"[env: {variable}]" in help_text


LOG_LINE = (
    "from msgprofiles.config import Settings; from msgprofiles.core.logging import "
    "configure_logging, logger; configure_logging('info', Settings().log_format); "
    "logger.info('hello', who='operator')"
)


def logged(env: dict[str, str], *, terminal: bool) -> str:
    """What one log line looks like on a terminal (a pseudo-terminal) or in a pipe."""
    command = [sys.executable, "-c", LOG_LINE]
    environment = {**os.environ, **env}
    if not terminal:
        return subprocess.run(command, capture_output=True, text=True, env=environment).stdout
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=follower, stderr=follower, env=environment) as child:
        os.close(follower)
        child.wait(30)
    with os.fdopen(leader, "rb") as output:
        return output.read1(65536).decode()


def test_logs_are_json_for_machines_and_lines_for_people():
    environment = {k: v for k, v in os.environ.items() if k != "MSGPROFILES_LOG_FORMAT"}
    piped = logged(environment, terminal=False)
    assert json.loads(piped)["who"] == "operator"
    on_terminal = logged(environment, terminal=True)
    assert "hello" in on_terminal and "who=operator" in on_terminal
    assert not on_terminal.lstrip().startswith("{")
    forced = logged({**environment, "MSGPROFILES_LOG_FORMAT": "json"}, terminal=True)
    assert json.loads(forced.strip())["event"] == "hello"


def test_operator_manages_tenants_and_keys_from_the_command_line(where):
    assert "up to date" in run("migrate", *where).stdout
    missing = run("orgs", "create", "Early", *where, ok=False)
    assert missing.returncode == 1 and "msgprofiles serve" in missing.stderr

    with serve(*where):
        pass  # the first start creates the operator organization

    created = run("orgs", "create", "Initech", "--email", "it@initech.example", *where).stdout
    org_id = re.search(r"org_\w+", created).group(0)
    tenant_key = KEY.search(created).group(0)
    organizations = run("orgs", "list", *where).stdout.splitlines()
    assert organizations[0].split("\t") == ["ID", "NAME", "CREATED", "OPERATOR"]
    assert any(line.startswith(f"{org_id}\tInitech\t") for line in organizations[1:])

    made = run("keys", "create", "--org", org_id, "--name", "ci", "--role", "member", *where)
    key_id = re.search(r"key_\w+", made.stdout).group(0)
    member_key = KEY.search(made.stdout).group(0)
    listing = run("keys", "list", "--org", org_id, *where).stdout
    assert key_id in listing and member_key not in listing and tenant_key not in listing
    header = listing.splitlines()[0].split("\t")
    assert header == ["ID", "ROLE", "STATUS", "HINT", "NAME", "LAST USED"]

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


@pytest.mark.skipif(bool(POSTGRES_SERVER), reason="the embedded database is SQLite")
def test_backup_while_serving_and_restore(where, tmp_path):
    copy = tmp_path / "backup.sqlite3"
    with serve(*where):
        run("orgs", "create", "Kept", *where)
        made = run("backup", str(copy), *where).stdout  # while the server runs
    assert "secret.key" in made  # the key that decrypts what the copy holds
    run("orgs", "create", "Later", *where)
    assert run("backup", str(copy), *where, ok=False).returncode == 1  # never overwritten

    run("restore", str(copy), "--yes", *where)
    names = run("orgs", "list", *where).stdout
    assert "Kept" in names and "Later" not in names

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    refused = run("restore", str(not_a_backup), "--yes", *where, ok=False)
    assert refused.returncode == 1 and "not a" in refused.stderr
    assert "Kept" in run("orgs", "list", *where).stdout  # a refused restore changes nothing


@pytest.mark.skipif(not POSTGRES_SERVER, reason="on PostgreSQL")
def test_postgresql_backups_are_pg_dumps(where, tmp_path):
    refused = run("backup", str(tmp_path / "b.sqlite3"), *where, ok=False)
    assert refused.returncode == 1 and "pg_dump" in refused.stderr

"""Each process remembers the keys it has recently authenticated (`known_keys`): a revocation
must still stop a key at once, in every process."""

import httpx
import pytest

from msgprofiles.api_keys.service import _KnownKeys, known_keys
from msgprofiles.core.auth import Caller
from msgprofiles.core.time import utcnow
from tests.conftest import POSTGRES_SERVER, make_database
from tests.servers import operator_key, start_server, tenant_keys, wait_for


def test_a_lookup_that_began_before_a_revocation_is_not_remembered():
    keys = _KnownKeys()
    caller = Caller(organization_id="org_A", role="admin", key_id="key_A")
    generation = keys.generation  # a request starts looking the key up …
    keys.forget()  # … a revocation commits meanwhile …
    keys.keep("digest", caller, utcnow(), generation)  # … and its row may predate it
    assert keys.get("digest") is None
    keys.keep("digest", caller, utcnow(), keys.generation)
    assert keys.get("digest") is not None


@pytest.mark.skipif(not POSTGRES_SERVER, reason="several API processes need PostgreSQL")
def test_a_key_revoked_through_one_process_stops_working_in_another(tmp_path):
    url, drop = make_database(tmp_path, tmp_path.name)
    where = ["--data-dir", str(tmp_path), "--database-url", url]
    operator = operator_key(where)
    servers = [start_server(where, {}) for _ in range(2)]
    (_, first), (_, second) = servers
    try:
        admin, member = tenant_keys(first, operator, "Two processes")
        as_member = {"x-api-key": member}
        assert httpx.get(f"{second}/v1/organization", headers=as_member).status_code == 200
        keys = httpx.get(f"{first}/v1/api_keys", headers={"x-api-key": admin}).json()["data"]
        member_id = next(k["id"] for k in keys if k["role"] == "member")
        revoked = httpx.delete(f"{first}/v1/api_keys/{member_id}", headers={"x-api-key": admin})
        assert revoked.status_code == 200
        # Well before the second process would forget the key on its own (ttl): the
        # revocation's notification reached it.
        wait_for(
            lambda: httpx.get(f"{second}/v1/organization", headers=as_member).status_code == 401,
            seconds=known_keys.ttl / 2,
        )
    finally:
        for process, _ in servers:
            process.kill()
            process.wait(10)
        drop()

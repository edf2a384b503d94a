"""Every operation of the native API, fed what its OpenAPI document allows (schemathesis,
against a real server): never a server error, and every answer is what the document says —
status code, content type and body."""

import os
from collections.abc import Iterator
from tempfile import mkdtemp

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from msgprofiles.app import create_app
from msgprofiles.config import Settings
from tests.conftest import make_database
from tests.jobs.test_worker_processes import operator_key, start_server


class Live:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    directory = tmp_path_factory.mktemp("fuzz")
    url, drop = make_database(directory, "fuzz")
    where = ["--data-dir", str(directory), "--database-url", url]
    key = operator_key(where)
    process, base = start_server(where, {"MSGPROFILES_RATE_LIMIT": "1000000/second"})
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    try:
        yield Live(base, key)
    finally:
        process.kill()
        process.wait(10)
        drop()


# The document is the app's own (the same one the server serves); loaded at import, since
# schemathesis's fixture-based loader does not work with pytest 9.
schema = schemathesis.openapi.from_dict(create_app(Settings(data_dir=mkdtemp())).openapi())


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,  # the same cases on every run: CI is reproducible
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_any_documented_input_gets_a_documented_answer(case, live: Live):
    case.call_and_validate(
        base_url=live.url,
        headers={"x-api-key": live.key},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )

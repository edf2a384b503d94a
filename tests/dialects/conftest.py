from collections.abc import Iterator

import pytest

from tests.dialects.sentdm import Server
from tests.servers import FAST_RETRIES, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A live `msgprofiles serve` of its own for each test module of the dialect."""
    with live_server(tmp_path_factory.mktemp("sentdm"), FAST_RETRIES) as (url, key):
        yield Server(url, key)

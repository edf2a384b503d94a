"""What each vendor dialect costs over the native API: the same object read and created
through the dialect and through /v1, alternately, on one server (goal: every dialect at 80 %
of native or better).

    python bench/dialects.py [--rounds 3] [--seconds 5] [--only plivo,telnyx]
    python bench/dialects.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Needs wrk. Each create makes a new object (names and ids are made unique per request), with
no Idempotency-Key on either side."""

import argparse
import base64
import json
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import (
    Result,
    drop_postgres,
    free_port,
    fresh_database,
    median,
    operator_key,
    start_msgprofiles,
    wrk,
)

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.factories import brand_body

AUTH_ID = "MAXXXXXXXXXXXXXXXXXX"
SCRIPT = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{headers}
local counter = 0
-- Unique across wrk's warm-up and measured runs of the same script, and across scripts.
local thread_id = "{token}" .. tostring(os.time()) .. tostring(math.random(1, 1e9))
local template = {body}
request = function()
  counter = counter + 1
  local body = nil
  if template then body = string.gsub(template, "UNIQUE", thread_id .. "x" .. counter) end
  return wrk.format(nil, "{path}", nil, body)
end
"""


@dataclass(frozen=True)
class Case:
    path: str
    headers: Mapping[str, str]
    body: object | None = None  # "UNIQUE" in it becomes a new value per request

    def script(self, method: str) -> str:
        headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in self.headers.items())
        body = "nil" if self.body is None else "[[" + json.dumps(self.body) + "]]"
        return SCRIPT.format(
            method=method, headers=headers, body=body, path=self.path, token=uuid.uuid4().hex[:8]
        )


def to_uuid(prefixed: str) -> str:
    from ulid import ULID

    return str(uuid.UUID(bytes=ULID.from_str(prefixed.rpartition("_")[2]).bytes))


def cases(url: str, key: str) -> dict[str, tuple[tuple[Case, Case], tuple[Case, Case]]]:
    """Per dialect: ((native read, dialect read), (native create, dialect create))."""
    bearer = {"Authorization": f"Bearer {key}"}

    def made(path: str, body: object, headers: Mapping[str, str] = bearer) -> dict:
        r = httpx.post(url + path, json=body, headers=dict(headers))
        assert r.is_success, r.text
        return r.json()  # type: ignore[no-any-return]

    profile = made("/v1/profiles", {"name": "Bench"})["data"]["id"]
    brand = made("/v1/brands", brand_body())["data"]["id"]
    customer = made("/v1/customers", {"name": "Bench"})["data"]["id"]
    contact = made("/v1/contacts", {"external_id": "bench-1", "name": "Bench"})["data"]["id"]
    basic = {"Authorization": "Basic " + base64.b64encode(f"{AUTH_ID}:{key}".encode()).decode()}
    plivo = f"/dialects/plivo/v1/Account/{AUTH_ID}/Profile/"
    kyc = brand_body(alias="UNIQUE")
    plivo_kyc = {
        "profile_alias": "UNIQUE",
        "customer_type": "DIRECT",
        "entity_type": "PRIVATE",
        "company_name": "Acme Inc.",
        "vertical": "TECHNOLOGY",
        "ein": "12-3456789",
        "ein_issuing_country": "US",
        "address": kyc["address"],
        "authorized_contact": kyc["authorized_contact"],
    }
    native_profile = Case(f"/v1/profiles/{profile}", bearer)
    native_profile_create = Case("/v1/profiles", bearer, {"name": "UNIQUE"})
    imi = "/dialects/imiconnect/resources/v2/customerprofile"
    return {
        "sentdm": (
            (native_profile, Case(f"/dialects/sentdm/v3/profiles/{profile}", bearer)),
            (
                native_profile_create,
                Case("/dialects/sentdm/v3/profiles", bearer, {"name": "UNIQUE"}),
            ),
        ),
        "telnyx": (
            (
                native_profile,
                Case(f"/dialects/telnyx/v2/messaging_profiles/{to_uuid(profile)}", bearer),
            ),
            (
                native_profile_create,
                Case(
                    "/dialects/telnyx/v2/messaging_profiles",
                    bearer,
                    {"name": "UNIQUE", "whitelisted_destinations": ["US"]},
                ),
            ),
        ),
        "opentact": (
            (
                native_profile,
                Case(
                    f"/dialects/opentact/rest/profile/messaging/{to_uuid(profile)}",
                    {"X-Auth-Token": key},
                ),
            ),
            (
                native_profile_create,
                Case(
                    "/dialects/opentact/rest/profile/messaging",
                    {"X-Auth-Token": key},
                    {"name": "UNIQUE"},
                ),
            ),
        ),
        "plivo": (
            (Case(f"/v1/brands/{brand}", bearer), Case(f"{plivo}{to_uuid(brand)}/", basic)),
            (Case("/v1/brands", bearer, kyc), Case(plivo, basic, plivo_kyc)),
        ),
        "kirimdev": (
            (
                Case(f"/v1/customers/{customer}", bearer),
                Case(f"/dialects/kirimdev/v1/customers/{customer}", bearer),
            ),
            (
                Case("/v1/customers", bearer, {"name": "UNIQUE"}),
                Case("/dialects/kirimdev/v1/customers", bearer, {"name": "UNIQUE"}),
            ),
        ),
        "imiconnect": (
            (
                Case(f"/v1/contacts/{contact}", bearer),
                Case(f"{imi}/bench-1", {"key": key}),
            ),
            (
                Case("/v1/contacts", bearer, {"external_id": "UNIQUE", "name": "Bench"}),
                Case(
                    imi,
                    {"key": key},
                    {"Records": [{"customerId": "UNIQUE", "Attributes": {"name": "Bench"}}]},
                ),
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; default: SQLite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated dialects (default: all)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="msgprofiles-bench-"))
    database_url = fresh_database(workdir, args.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_msgprofiles(workdir, port, database_url)
    rows: list[tuple[str, str, Result, Result]] = []
    try:
        key = operator_key(workdir, url)
        chosen = cases(url, key)
        if args.only:
            chosen = {name: chosen[name] for name in args.only.split(",")}
        for dialect, pairs in chosen.items():
            for (native, theirs), method, what in zip(
                pairs, ("GET", "POST"), ("read", "create"), strict=True
            ):
                ours: list[Result] = []
                vendor: list[Result] = []
                for _ in range(args.rounds):  # alternate, so drift hits both alike
                    ours.append(wrk(url, native.path, native.script(method), args.seconds, 16))
                    vendor.append(wrk(url, theirs.path, theirs.script(method), args.seconds, 16))
                rows.append((dialect, what, median(ours), median(vendor)))
    finally:
        server.terminate()
        server.wait(30)
        if args.database_url:
            drop_postgres(database_url)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{backend}, one server process, wrk -t1 -c16, median of {args.rounds} rounds\n")
    print(
        f"{'dialect':<12}{'request':<9}{'native/s':>10}{'dialect/s':>11}{'ratio':>7}"
        f"{'p99 native':>12}{'p99 dialect':>13}{'errors':>8}"
    )
    for dialect, what, native, theirs in rows:
        print(
            f"{dialect:<12}{what:<9}{native.rps:>10.0f}{theirs.rps:>11.0f}"
            f"{theirs.rps / native.rps:>7.0%}{native.p99_ms:>10.1f}ms{theirs.p99_ms:>11.1f}ms"
            f"{native.errors + theirs.errors:>8}"
        )


if __name__ == "__main__":
    main()

"""The conventions every endpoint shares: envelopes, request ids, malformed input, logs."""

import json

import pytest

from tests.conftest import Org


async def test_request_id_is_echoed_or_made(org: Org, client):
    r = await client.get(
        "/v1/organization", headers=org.headers(**{"X-Request-Id": "trace-abc.123"})
    )
    assert r.headers["x-request-id"] == "trace-abc.123"
    assert r.json()["request_id"] == "trace-abc.123"
    r = await client.get("/v1/organization", headers=org.headers(**{"X-Request-Id": "bad id!"}))
    assert r.headers["x-request-id"].startswith("req_")
    r = await client.get("/v1/nowhere")
    assert r.status_code == 404 and r.json()["request_id"] == r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "validation_error"),
        (b'"text"', "application/json", 400, "validation_error"),
        (b"", "application/json", 400, "validation_error"),
        (b'{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
        (b"name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"name": "\xff"}', "application/json", 400, "invalid_json"),
    ],
)
async def test_malformed_bodies_are_4xx_and_change_nothing(
    org: Org, client, content, content_type, status, code
):
    before = len((await org.get("/v1/api_keys")).json()["data"])
    r = await client.post(
        "/v1/api_keys", content=content, headers=org.headers(**{"Content-Type": content_type})
    )
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert len((await org.get("/v1/api_keys")).json()["data"]) == before


async def test_oversize_bodies_are_413(org: Org, client, settings):
    big = json.dumps({"name": "x" * (settings.max_body_bytes + 1)})
    r = await client.post(
        "/v1/api_keys", content=big, headers=org.headers(**{"Content-Type": "application/json"})
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: the limit applies while streaming
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536

    r = await client.post(
        "/v1/api_keys",
        content=chunks(),
        headers=org.headers(**{"Content-Type": "application/json"}),
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "validation_error"),
        ({"limit": 101}, "validation_error"),
        ({"limit": "ten"}, "validation_error"),
        ({"cursor": "%%%"}, "invalid_cursor"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
        ({"status": "deleted"}, "validation_error"),
    ],
)
async def test_bad_list_parameters_are_400(org: Org, params, code):
    r = await org.get("/v1/api_keys", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code


LISTS = [
    "/v1/api_keys",
    "/v1/profiles",
    "/v1/brands",
    "/v1/numbers",
    "/v1/webhook_subscriptions",
    "/v1/events",
]


@pytest.mark.parametrize("path", [*LISTS, "/v1/organizations"])
@pytest.mark.parametrize("cursor", ["MToA", "MjphYmM6AA", "MjoAOgA"])  # decode to NUL-laden text
async def test_a_cursor_hiding_a_nul_is_a_400_not_a_server_error(
    org: Org, operator_key, path, cursor
):
    key = operator_key if path == "/v1/organizations" else None
    r = await org.get(path, key=key, params={"cursor": cursor})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_cursor"


async def next_cursor(org: Org, path: str, **params: object) -> str:
    r = await org.get(path, params={"limit": 1, **params})
    assert r.status_code == 200 and r.json()["has_more"], r.text
    return str(r.json()["next_cursor"])


async def test_a_cursor_works_only_for_the_list_and_filters_it_came_from(org: Org):
    for n in range(3):  # events and keys enough for a second page of each
        assert (await org.post("/v1/api_keys", {"name": f"k{n}", "role": "member"})).is_success
    keys_cursor = await next_cursor(org, "/v1/api_keys")
    assert (await org.get("/v1/api_keys", params={"cursor": keys_cursor})).status_code == 200
    elsewhere = await org.get("/v1/events", params={"cursor": keys_cursor})
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"]["code"] == "invalid_cursor"
    filtered = await next_cursor(org, "/v1/events", type="api_key.created")
    other_filter = await org.get("/v1/events", params={"cursor": filtered, "type": "ping"})
    assert other_filter.status_code == 400
    same = await org.get("/v1/events", params={"cursor": filtered, "type": "api_key.created"})
    assert same.status_code == 200 and same.json()["data"]


async def test_unknown_paths_and_methods_use_the_error_envelope(client, org: Org):
    r = await client.get("/v1/unknown", headers=org.headers())
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.put("/v1/organization", json={}, headers=org.headers())
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, PATCH", "every method of the path (RFC 9110)"
    r = await client.request("TRACE", "/v1/profiles/prof_x", headers=org.headers())
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, PATCH"
    r = await client.put("/dialects/sentdm/v3/profiles", headers=org.headers())
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


async def test_health_checks_the_database(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


async def test_openapi_documents_every_endpoint_with_its_errors(client):
    spec = (await client.get("/openapi.json")).json()
    expected = {
        ("post", "/v1/organizations"),
        ("get", "/v1/organizations"),
        ("get", "/v1/organization"),
        ("patch", "/v1/organization"),
        ("post", "/v1/organization/callback_secret"),
        ("post", "/v1/api_keys"),
        ("get", "/v1/api_keys"),
        ("get", "/v1/api_keys/{key_id}"),
        ("delete", "/v1/api_keys/{key_id}"),
        ("post", "/v1/webhook_subscriptions"),
        ("get", "/v1/webhook_subscriptions"),
        ("get", "/v1/webhook_subscriptions/{subscription_id}"),
        ("patch", "/v1/webhook_subscriptions/{subscription_id}"),
        ("delete", "/v1/webhook_subscriptions/{subscription_id}"),
        ("post", "/v1/webhook_subscriptions/{subscription_id}/rotate_secret"),
        ("post", "/v1/webhook_subscriptions/{subscription_id}/pause"),
        ("post", "/v1/webhook_subscriptions/{subscription_id}/resume"),
        ("post", "/v1/webhook_subscriptions/{subscription_id}/test"),
        ("get", "/v1/webhook_subscriptions/{subscription_id}/deliveries"),
        ("get", "/v1/events"),
        ("get", "/v1/events/{event_id}"),
        ("post", "/v1/events/{event_id}/redeliver"),
        ("get", "/v1/event_types"),
        ("post", "/v1/profiles"),
        ("get", "/v1/profiles"),
        ("get", "/v1/profiles/{profile_id}"),
        ("patch", "/v1/profiles/{profile_id}"),
        ("delete", "/v1/profiles/{profile_id}"),
        ("get", "/v1/profiles/{profile_id}/numbers"),
        ("post", "/v1/profiles/{profile_id}/select_sender"),
        ("post", "/v1/profiles/{profile_id}/complete"),
        ("get", "/v1/profiles/{profile_id}/completion"),
        ("post", "/v1/numbers"),
        ("get", "/v1/numbers"),
        ("get", "/v1/numbers/{number_id}"),
        ("patch", "/v1/numbers/{number_id}"),
        ("delete", "/v1/numbers/{number_id}"),
        ("post", "/v1/brands"),
        ("get", "/v1/brands"),
        ("get", "/v1/brands/{brand_id}"),
        ("patch", "/v1/brands/{brand_id}"),
        ("delete", "/v1/brands/{brand_id}"),
        ("post", "/v1/brands/{brand_id}/submit"),
        ("post", "/v1/profiles/{profile_id}/campaigns"),
        ("get", "/v1/profiles/{profile_id}/campaigns"),
        ("get", "/v1/profiles/{profile_id}/campaigns/{campaign_id}"),
        ("put", "/v1/profiles/{profile_id}/campaigns/{campaign_id}"),
        ("delete", "/v1/profiles/{profile_id}/campaigns/{campaign_id}"),
        ("post", "/v1/profiles/{profile_id}/campaigns/{campaign_id}/submit"),
        ("post", "/v1/customers"),
        ("get", "/v1/customers"),
        ("get", "/v1/customers/{customer_id}"),
        ("patch", "/v1/customers/{customer_id}"),
        ("delete", "/v1/customers/{customer_id}"),
        ("post", "/v1/customers/{customer_id}/setup_links"),
        ("get", "/v1/customers/{customer_id}/setup_links"),
        ("patch", "/v1/customers/{customer_id}/setup_links/{link_id}"),
        ("delete", "/v1/customers/{customer_id}/setup_links/{link_id}"),
        ("get", "/v1/whatsapp_accounts"),
        ("get", "/v1/whatsapp_accounts/lookup"),
        ("get", "/v1/whatsapp_accounts/{account_id}"),
        ("patch", "/v1/whatsapp_accounts/{account_id}"),
        ("post", "/v1/send_checks"),
        ("get", "/v1/contact_attributes"),
        ("post", "/v1/contact_attributes"),
        ("get", "/v1/contact_attributes/{name}"),
        ("patch", "/v1/contact_attributes/{name}"),
        ("post", "/v1/contacts"),
        ("get", "/v1/contacts"),
        ("get", "/v1/contacts/lookup"),
        ("post", "/v1/contacts/batch"),
        ("post", "/v1/contacts/imports"),
        ("get", "/v1/contacts/imports"),
        ("get", "/v1/contacts/imports/{import_id}"),
        ("get", "/v1/contacts/imports/{import_id}/errors"),
        ("post", "/v1/contacts/imports/{import_id}/cancel"),
        ("get", "/v1/contacts/{contact_id}"),
        ("patch", "/v1/contacts/{contact_id}"),
        ("delete", "/v1/contacts/{contact_id}"),
        ("get", "/v1/contacts/{contact_id}/export"),
        ("post", "/v1/contacts/{contact_id}/app_profiles"),
        ("get", "/v1/contacts/{contact_id}/app_profiles"),
        ("get", "/v1/contacts/{contact_id}/app_profiles/{app_profile_id}"),
        ("patch", "/v1/contacts/{contact_id}/app_profiles/{app_profile_id}"),
        ("delete", "/v1/contacts/{contact_id}/app_profiles/{app_profile_id}"),
        ("delete", "/v1/contacts/{contact_id}/app_profiles/{app_profile_id}/devices/{device_id}"),
        ("get", "/v1/contacts/{contact_id}/consent"),
        ("put", "/v1/contacts/{contact_id}/consent/{channel}"),
    }
    found = {(m, p) for p, ops in spec["paths"].items() for m in ops if p.startswith("/v1/")}
    assert found == expected
    for method, path in expected:
        operation = spec["paths"][path][method]
        assert operation.get("description"), f"{method} {path} has no description"
        for status in ("400", "401", "403", "404", "429"):
            ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorEnvelope")
        success = next(s for s in operation["responses"] if s.startswith("2"))
        ref = operation["responses"][success]["content"]["application/json"]["schema"]["$ref"]
        model = spec["components"]["schemas"][ref.rpartition("/")[2]]
        assert {"data", "request_id"} <= set(model["properties"]), f"{method} {path}: {ref}"
        assert operation["security"] == [{"bearer": []}, {"apiKeyHeader": []}]
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert ("Idempotency-Key" in headers) == (method in ("post", "patch"))
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["apiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert (await client.get("/docs")).status_code == 200


async def test_openapi_shows_fields_a_patch_may_omit_but_not_null_as_not_nullable(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    status = schemas["WebhookSubscriptionUpdate"]["properties"]["status"]
    assert "anyOf" not in status and status["enum"] == ["active", "paused"]
    assert "default" not in status
    description = schemas["WebhookSubscriptionUpdate"]["properties"]["description"]
    assert {"type": "null"} in description["anyOf"], "a field that may be cleared stays nullable"


async def test_logs_carry_the_request_id_and_never_a_secret(org: Org, client, capsys):
    created = await org.post("/v1/api_keys", {"name": "logged"}, **{"X-Request-Id": "log-check-1"})
    secret = created.json()["data"]["secret"]
    await client.get(
        "/v1/organization", headers={"x-api-key": secret, "X-Request-Id": "log-check-2"}
    )
    await client.get("/v1/organization", headers={"x-api-key": secret[:-2] + "zz"})
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert any(
        line["request_id"] == "log-check-1" and line["status"] == 201 for line in request_lines
    )
    assert any(line["request_id"] == "log-check-2" for line in request_lines)
    assert secret not in out and secret[:-2] not in out
    assert org.admin_key not in out


def test_a_secret_passed_to_a_logger_by_mistake_is_redacted(capsys):
    from msgprofiles.core.logging import logger

    secret = "mpk_01ARZ3NDEKTSV4RRFFQ69G5FAV_" + "s3cr3t" * 7 + "x"
    logger.info("oops", detail=f"key={secret}", nested={"list": [secret]})
    out = capsys.readouterr().out
    assert secret not in out and "mpk_[redacted]" in out


async def test_a_nul_character_is_refused_on_every_database(org: Org):
    """PostgreSQL cannot store U+0000 (SQLite can): refused alike, before anything is written."""
    r = await org.post("/v1/profiles", {"name": "Nul\u0000"})
    body = r.json()
    assert r.status_code == 400 and body["error"]["code"] == "validation_error"
    assert body["error"]["details"][0]["field"] == "name"
    r = await org.patch("/v1/organization", {"metadata": {"k": ["ok", "bad\u0000"]}})
    assert r.status_code == 400
    assert [d["field"] for d in r.json()["error"]["details"]] == ["metadata.k.1"]
    r = await org.get("/v1/profiles", params={"search": "a\u0000b"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0] == {
        "field": "search",
        "location": "query",
        "type": "nul_character",
        "message": "U+0000 is not allowed in text.",
    }
    assert (await org.get("/v1/profiles/prof_%00")).status_code == 400
    names = [p["name"] for p in (await org.get("/v1/profiles")).json()["data"]]
    assert not any("Nul" in name for name in names), "nothing was written"
    r = await org.post("/v1/profiles", {"name": "A backslash-u, not a NUL: \\u0000"})
    assert r.status_code == 201, r.text


async def test_head_answers_like_get_without_a_body(org: Org, client):
    got = await client.get("/v1/organization", headers=org.headers())
    head = await client.head("/v1/organization", headers=org.headers())
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert (await client.head("/health")).status_code == 200


@pytest.mark.parametrize("path", ["/v1/profiles/", "/dialects/sentdm/v3/profiles/"])
async def test_no_redirect_is_built_from_the_host_header(org: Org, client, path):
    r = await client.get(path, headers=org.headers(Host="evil.example"))
    assert "location" not in r.headers
    assert r.status_code == 404

"""Contacts through /v1: the attribute schema, master profiles with their lookups, app
profiles with devices, consent, export and an erasure that leaves no trace."""

import secrets

import pytest
from sqlalchemy import select

from msgprofiles.db.metadata import metadata
from msgprofiles.jobs.runner import Worker
from tests.conftest import Org, Receiver, drain
from tests.factories import event_types, subscribe

SCHEMA = [
    {"name": "plan", "type": "enum", "values": ["free", "gold"]},
    {"name": "vip", "type": "boolean"},
    {"name": "score", "type": "number"},
    {"name": "joined", "type": "date"},
    {"name": "work_email", "type": "email"},
    {"name": "landline", "type": "phone"},
    {"name": "note", "type": "string", "description": "Free text."},
]


async def define(org: Org, *definitions: dict) -> None:
    for definition in definitions or SCHEMA:
        r = await org.post("/v1/contact_attributes", definition)
        assert r.status_code == 201, r.text


async def make_contact(org: Org, **fields: object) -> dict:
    r = await org.post("/v1/contacts", {"name": "Ann Lee", **fields})
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def test_the_schema_has_the_core_attributes_and_yours(org: Org):
    await define(org)
    listed = (await org.get("/v1/contact_attributes")).json()["data"]
    core = {a["name"] for a in listed if a["core"]}
    assert {"name", "email", "msisdn", "sms", "voice", "fb"} <= core
    assert [a["name"] for a in listed if not a["core"]] == sorted(d["name"] for d in SCHEMA)
    for body, status in (
        ({"name": "plan", "type": "string"}, 409),
        ({"name": "email", "type": "string"}, 409),
        ({"name": "tier", "type": "enum"}, 400),
        ({"name": "tier", "type": "string", "values": ["a"]}, 400),
        ({"name": "Bad-Name", "type": "string"}, 400),
    ):
        assert (await org.post("/v1/contact_attributes", body)).status_code == status, body
    grown = await org.patch("/v1/contact_attributes/plan", {"values": ["free", "gold", "pro"]})
    assert grown.status_code == 200 and grown.json()["data"]["values"] == ["free", "gold", "pro"]
    shrunk = await org.patch("/v1/contact_attributes/plan", {"values": ["gold"]})
    assert shrunk.status_code == 400, "stored values stay allowed"


async def test_attributes_are_written_by_their_type(org: Org):
    await define(org)
    created = await make_contact(
        org,
        external_id="crm-1",
        email="ann@example.com",
        msisdn="1 (415) 555-0123",
        attributes={
            "plan": "gold",
            "vip": True,
            "score": 4.5,
            "joined": "2024-03-01",
            "work_email": "ann@work.example.com",
            "landline": "+442079460958",
            "sms": True,
        },
    )
    assert created["id"].startswith("ct_") and created["msisdn"] == "+14155550123"
    assert created["attributes"]["plan"] == "gold" and created["attributes"]["vip"] is True
    for attributes, field in (
        ({"shoe_size": 42}, "attributes.shoe_size"),
        ({"plan": "platinum"}, "attributes.plan"),
        ({"vip": "yes"}, "attributes.vip"),
        ({"score": "4"}, "attributes.score"),
        ({"joined": "March"}, "attributes.joined"),
        ({"work_email": "nope"}, "attributes.work_email"),
        ({"landline": "12"}, "attributes.landline"),
        ({"sms": 1}, "attributes.sms"),
    ):
        r = await org.post("/v1/contacts", {"attributes": attributes})
        assert r.status_code == 400, attributes
        assert r.json()["error"]["details"][0]["field"] == field, r.text
    r = await org.post("/v1/contacts", {"msisdn": "12"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_phone_number"
    taken = await org.post("/v1/contacts", {"external_id": "crm-1"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "external_id_taken"

    patched = await org.patch(
        f"/v1/contacts/{created['id']}", {"attributes": {"score": 5, "note": None, "vip": None}}
    )
    assert patched.status_code == 200
    attributes = patched.json()["data"]["attributes"]
    assert attributes["score"] == 5 and "vip" not in attributes and attributes["plan"] == "gold"
    await define(org, {"name": "region", "type": "string", "required": True})
    assert (await org.post("/v1/contacts", {"name": "No region"})).status_code == 400
    assert "contact.created" in await event_types(org)


async def test_each_key_finds_the_contact_in_one_read(org: Org):
    contact = await make_contact(
        org, external_id="crm-7", email="bo@example.com", msisdn="+14155550177"
    )
    r = await org.post(
        f"/v1/contacts/{contact['id']}/app_profiles",
        {"app_id": "a_messenger", "key_name": "psid", "key": "psid-7"},
    )
    assert r.status_code == 201
    for params in (
        {"external_id": "crm-7"},
        {"msisdn": "14155550177"},
        {"email": "bo@example.com"},
        {"app_id": "a_messenger", "key": "psid-7"},
    ):
        found = await org.get("/v1/contacts/lookup", params=params)
        assert found.status_code == 200 and found.json()["data"]["id"] == contact["id"], params
    assert (
        await org.get("/v1/contacts/lookup", params={"external_id": "nobody"})
    ).status_code == 404
    assert (await org.get("/v1/contacts/lookup")).status_code == 400
    both = {"external_id": "crm-7", "email": "bo@example.com"}
    assert (await org.get("/v1/contacts/lookup", params=both)).status_code == 400


async def test_lists_filter_by_attribute_and_search(org: Org):
    await define(org)
    await make_contact(org, name="Gold Vip", attributes={"plan": "gold", "vip": True, "score": 9})
    await make_contact(org, name="Free Vip", attributes={"plan": "free", "vip": True, "score": 3})
    await make_contact(org, name="Gold Plain", attributes={"plan": "gold", "vip": False})

    async def names(*pairs: str, **params: str) -> list[str]:
        r = await org.get("/v1/contacts", params={"attribute": list(pairs), **params})
        assert r.status_code == 200, r.text
        return sorted(c["name"] for c in r.json()["data"])

    assert await names("plan:gold", "vip:true") == ["Gold Vip"]
    assert await names("score:9") == ["Gold Vip"]
    assert await names("vip:false") == ["Gold Plain"]
    assert await names(search="vip") == ["Free Vip", "Gold Vip"]
    assert await names("name:Gold Plain") == ["Gold Plain"]
    for bad in ("plan", "shoe:1", "vip:maybe", "score:many"):
        r = await org.get("/v1/contacts", params={"attribute": bad})
        assert r.status_code == 400, bad
    page = (await org.get("/v1/contacts", params={"limit": 2})).json()
    rest = await org.get("/v1/contacts", params={"limit": 2, "cursor": page["next_cursor"]})
    assert len(page["data"]) == 2 and len(rest.json()["data"]) == 1


async def test_app_profiles_keep_their_devices(org: Org):
    contact = await make_contact(org)
    other = await make_contact(org, name="Other")
    base = f"/v1/contacts/{contact['id']}/app_profiles"
    body = {
        "app_id": "a_push",
        "key_name": "push_token",
        "key": "tok-1",
        "attributes": {"locale": "en"},
        "devices": [{"device_id": "phone", "token": "t1", "platform": "ios"}],
    }
    created = (await org.post(base, body)).json()["data"]
    assert created["id"].startswith("cap_") and created["devices"][0]["platform"] == "ios"
    assert (await org.post(base, {**body, "key": "tok-2"})).status_code == 409, "one per app"
    theirs = await org.post(f"/v1/contacts/{other['id']}/app_profiles", body)
    assert theirs.status_code == 409 and theirs.json()["error"]["code"] == "app_profile_taken"

    path = f"{base}/{created['id']}"
    updated = await org.patch(
        path,
        {
            "attributes": {"tz": "UTC"},
            "devices": [
                {"device_id": "phone", "token": "t2", "platform": "ios"},
                {"device_id": "tablet", "platform": "android"},
            ],
        },
    )
    data = updated.json()["data"]
    assert data["attributes"] == {"locale": "en", "tz": "UTC"}
    assert {d["device_id"]: d["token"] for d in data["devices"]} == {"phone": "t2", "tablet": None}
    removed = await org.delete(f"{path}/devices/tablet")
    assert [d["device_id"] for d in removed.json()["data"]["devices"]] == ["phone"]
    assert (await org.delete(f"{path}/devices/tablet")).status_code == 404
    assert (await org.delete(path)).status_code == 200
    assert (await org.get(base)).json()["data"] == []
    assert (await org.get(path)).status_code == 404


async def test_consent_changes_are_events(org: Org):
    contact = await make_contact(org)
    path = f"/v1/contacts/{contact['id']}/consent"
    r = await org.client.put(f"{path}/sms", json={"status": "opted_in"}, headers=org.headers())
    assert r.status_code == 200 and r.json()["data"]["source"] == "api"
    await org.client.put(f"{path}/sms", json={"status": "opted_in"}, headers=org.headers())
    stop = {"status": "opted_out", "source": "inbound_keyword"}
    await org.client.put(f"{path}/sms", json=stop, headers=org.headers())
    await org.client.put(f"{path}/whatsapp", json={"status": "opted_in"}, headers=org.headers())
    listed = (await org.get(path)).json()["data"]
    assert {(c["channel"], c["status"]) for c in listed} == {
        ("sms", "opted_out"),
        ("whatsapp", "opted_in"),
    }
    types = await event_types(org)
    assert types.count("contact.opted_in") == 2 and types.count("contact.opted_out") == 1
    bad = await org.client.put(f"{path}/fax", json={"status": "opted_in"}, headers=org.headers())
    assert bad.status_code == 400


async def test_erasure_leaves_no_trace(org: Org, database):
    marker = secrets.token_hex(6)
    contact = await make_contact(
        org,
        name=f"Zelda {marker}",
        email=f"zelda-{marker}@example.com",
        external_id=f"crm-{marker}",
        msisdn="+14155550166",
    )
    await org.post(
        f"/v1/contacts/{contact['id']}/app_profiles",
        {"app_id": "a_fb", "key_name": "psid", "key": f"psid-{marker}"},
        **{"Idempotency-Key": f"app-{marker}"},
    )
    await org.patch(
        f"/v1/contacts/{contact['id']}",
        {"name": f"Zelda Q {marker}"},
        **{"Idempotency-Key": f"rename-{marker}"},
    )
    await org.client.put(
        f"/v1/contacts/{contact['id']}/consent/sms",
        json={"status": "opted_in"},
        headers=org.headers(),
    )
    exported = (await org.get(f"/v1/contacts/{contact['id']}/export")).json()["data"]
    assert exported["contact"]["name"] == f"Zelda Q {marker}"
    assert [p["key"] for p in exported["app_profiles"]] == [f"psid-{marker}"]
    assert exported["consents"][0]["channel"] == "sms"
    assert {"contact.created", "contact.updated"} <= {e["type"] for e in exported["events"]}

    erased = await org.delete(f"/v1/contacts/{contact['id']}")
    assert erased.json()["data"] == {"id": contact["id"], "object": "contact", "erased": True}
    assert (await org.get(f"/v1/contacts/{contact['id']}")).status_code == 404
    async with database.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.fetch_all(select(table)):
                text = str(dict(row))
                assert marker not in text and "4155550166" not in text, table.name
    told = (await org.get("/v1/events", params={"type": "contact.erased"})).json()["data"]
    assert told[0]["data"] == {"id": contact["id"]}


@pytest.mark.parametrize("role", ["other tenant", "member"])
async def test_out_of_reach_contacts_are_not_changed(org: Org, other_org: Org, role: str):
    contact = await make_contact(org, external_id="private-1")
    base = f"/v1/contacts/{contact['id']}"
    if role == "member":
        assert (await org.get(base, key=org.member_key)).status_code == 200
        r = await org.patch(base, {"name": "Changed"}, key=org.member_key)
        assert r.status_code == 403
        return
    for request in (
        other_org.get(base),
        other_org.patch(base, {"name": "Mine"}),
        other_org.delete(base),
        other_org.get(f"{base}/export"),
        other_org.get(f"{base}/app_profiles"),
        other_org.post(f"{base}/app_profiles", {"app_id": "a", "key_name": "k", "key": "v"}),
        other_org.get(f"{base}/consent"),
        other_org.get("/v1/contacts/lookup", params={"external_id": "private-1"}),
    ):
        assert (await request).status_code == 404
    assert (await other_org.get("/v1/contacts")).json()["data"] == []
    same = await other_org.post("/v1/contacts", {"external_id": "private-1"})
    assert same.status_code == 201, "external ids are unique per organization"


async def test_a_batch_answers_each_item_and_keeps_the_good_ones(org: Org):
    await define(org, {"name": "plan", "type": "enum", "values": ["free", "gold"]})
    existing = await make_contact(org, external_id="crm-b1")
    items = [
        {"action": "create", "contact": {"external_id": "crm-b2", "name": "New"}},
        {"action": "create", "contact": {"external_id": "crm-b3", "attributes": {"plan": "x"}}},
        {"action": "update", "external_id": "crm-b1", "contact": {"name": "Renamed"}},
        {"action": "create", "contact": {"external_id": "crm-b1"}},
        {"action": "delete", "id": "ct_01JN0000000000000000000000"},
        {"action": "create", "contact": {"surname": "typo"}},
        {"action": "update", "contact": {"name": "nobody named"}},
    ]
    for _ in range(2):  # with and without an Idempotency-Key, the same answers
        r = await org.post("/v1/contacts/batch", {"items": items}, **{"Idempotency-Key": "b-1"})
        assert r.status_code == 200, r.text
        outcome = r.json()["data"]
        assert [x["status"] for x in outcome["results"]] == [201, 400, 200, 409, 404, 400, 400]
        assert (outcome["succeeded"], outcome["failed"]) == (2, 5)
    assert outcome["results"][1]["error"]["details"][0]["field"] == "attributes.plan"
    assert outcome["results"][3]["error"]["code"] == "external_id_taken"
    lookup = await org.get("/v1/contacts/lookup", params={"external_id": "crm-b2"})
    assert lookup.status_code == 200, "the good items were kept"
    assert (await org.get(f"/v1/contacts/{existing['id']}")).json()["data"]["name"] == "Renamed"
    listed = (await org.get("/v1/contacts", params={"search": "crm-b3"})).json()["data"]
    assert listed == [], "the bad ones left nothing"
    types = await event_types(org)
    assert types.count("contact.created") == 2, "one for make_contact, one for the batch"

    erased = await org.post(
        "/v1/contacts/batch", {"items": [{"action": "delete", "external_id": "crm-b2"}]}
    )
    assert erased.json()["data"]["results"][0]["data"]["erased"] is True
    too_many = [{"action": "create", "contact": {}}] * 101
    assert (await org.post("/v1/contacts/batch", {"items": too_many})).status_code == 400


async def test_creates_in_bulk_answer_as_one_by_one(org: Org, receiver: Receiver, worker: Worker):
    """Consecutive creates are written together; the answers, the order and the events are
    those of one write after another."""
    await subscribe(org, receiver, event_types=["contact.created", "contact.updated"])
    await make_contact(org, external_id="bulk-0")
    items = [
        {"action": "create", "contact": {"external_id": "bulk-1", "name": "One"}},
        {"action": "create", "contact": {"external_id": "bulk-0"}},
        {"action": "create", "contact": {"name": "No external id"}},
        {"action": "create", "contact": {"external_id": "bulk-1", "name": "Again"}},
        {"action": "create", "contact": {"external_id": "bulk-2", "msisdn": "12"}},
        {"action": "update", "external_id": "bulk-1", "contact": {"name": "One, renamed"}},
        {"action": "create", "contact": {"external_id": "bulk-3"}},
    ]
    r = await org.post("/v1/contacts/batch", {"items": items})
    outcome = r.json()["data"]
    assert [x["status"] for x in outcome["results"]] == [201, 409, 201, 409, 400, 200, 201]
    assert [x["index"] for x in outcome["results"]] == list(range(7))
    one = await org.get("/v1/contacts/lookup", params={"external_id": "bulk-1"})
    assert one.json()["data"]["name"] == "One, renamed", "the update came after the create"
    assert outcome["results"][0]["data"]["id"] == one.json()["data"]["id"]

    await drain(worker, lambda: len(receiver.requests) >= 5)
    delivered = sorted((e["type"], e["data"].get("name") or "") for e in receiver.events())
    assert delivered == [
        ("contact.created", ""),
        ("contact.created", "Ann Lee"),
        ("contact.created", "No external id"),
        ("contact.created", "One"),
        ("contact.updated", "One, renamed"),
    ]


async def test_a_number_that_is_not_finite_is_refused(org: Org):
    """Python's JSON reader takes NaN and Infinity; PostgreSQL's jsonb does not: a 400 on both
    databases, not a 500 on one."""
    await define(org, {"name": "score", "type": "number"})
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        r = await org.client.post(
            "/v1/contacts",
            content=b'{"name": "Ann", "attributes": {"score": ' + literal + b"}}",
            headers=org.headers(**{"Content-Type": "application/json"}),
        )
        assert r.status_code == 400, (literal, r.text)
        assert r.json()["error"]["code"] == "validation_error"

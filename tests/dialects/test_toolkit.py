"""The dialect toolkit: what every vendor dialect is built from."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from msgprofiles.core.errors import STATUS, DomainError, ErrorCode
from msgprofiles.core.ids import new_id
from msgprofiles.core.pagination import Page
from msgprofiles.dialects.sentdm.wire import ERRORS as SENTDM_ERRORS
from msgprofiles.dialects.toolkit import (
    ErrorTable,
    Totals,
    from_uuid,
    numbered,
    offset,
    should_retry,
    to_uuid,
)


@given(st.sampled_from(["prof", "brand", "camp", "num", "whsub", "evt"]))
def test_ids_travel_as_uuids_and_come_back_unchanged(prefix):
    ours = new_id(prefix)
    as_uuid = to_uuid(ours)
    assert len(as_uuid) == 36 and as_uuid.count("-") == 4
    assert from_uuid(prefix, as_uuid, ErrorCode.profile_not_found, "profile") == ours
    assert from_uuid(prefix, as_uuid.upper(), ErrorCode.profile_not_found, "profile") == ours


@given(st.text(max_size=40))
def test_a_string_that_is_no_uuid_is_the_dialects_not_found(value):
    try:
        found = from_uuid("prof", value, ErrorCode.profile_not_found, "profile")
    except DomainError as error:
        assert error.code is ErrorCode.profile_not_found and STATUS[error.code] == 404
    else:  # the uuid module accepts a few spellings (braces, urn:uuid:, no dashes)
        assert found.startswith("prof_")


@given(st.binary(min_size=16, max_size=16))
def test_the_uuid_is_the_ulids_own_bits(value):
    ulid = ULID.from_bytes(value)
    assert to_uuid(f"prof_{ulid}") == str(uuid.UUID(bytes=value)) == to_uuid(f"prof_{ulid}".lower())


@given(st.text(max_size=30))
def test_what_is_no_ulid_has_no_uuid(value):
    try:
        ULID.from_str(value)
    except ValueError:
        with pytest.raises(ValueError):
            to_uuid(f"prof_{value}")


def test_ulid_order_survives_the_mapping():
    first, second = new_id("prof"), new_id("prof")
    assert (first < second) == (to_uuid(first) < to_uuid(second))


def test_an_error_table_must_name_every_code():
    with pytest.raises(TypeError, match="rate_limited"):
        ErrorTable("Partial", {code: "X" for code in ErrorCode if code != ErrorCode.rate_limited})


@pytest.mark.parametrize("code", list(ErrorCode))
def test_sdks_retry_only_what_retrying_can_fix(code):
    error = DomainError(code, "…")
    status = SENTDM_ERRORS.status(error)
    retried = "x-should-retry" not in SENTDM_ERRORS.headers(error)
    if 400 <= status < 500 and status != 429 and code is not ErrorCode.idempotency_key_in_progress:
        assert not retried, f"{code} would be repeated by the SDK"
    else:
        assert retried and should_retry(code, status)


def test_numbered_and_offset_pages_count_their_totals():
    assert numbered(3, 20).offset == 40 and numbered(3, 20).limit == 20
    assert offset(5, 10).offset == 5
    totals = Totals.of(Page(items=[1, 2], has_more=True, next_cursor=None, total=41), 20)
    assert (totals.total, totals.total_pages, totals.has_more) == (41, 3, True)
    empty = Totals.of(Page(items=[], has_more=False, next_cursor=None, total=0), 20)
    assert (empty.total, empty.total_pages) == (0, 0)

"""The validation rules over their whole input space."""

import re

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from msgprofiles.core.validation import e164
from msgprofiles.profiles.schemas import short_name


@given(st.text(max_size=15))
def test_short_names_are_3_to_11_letters_digits_or_spaces_with_a_letter(value):
    expected = bool(re.fullmatch(r"[A-Za-z0-9 ]{3,11}", value)) and any(c.isalpha() for c in value)
    try:
        assert short_name(value) == value
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == expected


@given(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_every_countrys_example_number_normalizes_to_itself(region):
    example = phonenumbers.example_number(region)
    if example is None:
        return
    formatted = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert e164(formatted) == formatted
    spaced = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert e164(spaced) == formatted


@given(st.text(alphabet="0123456789 -()", max_size=20))
def test_numbers_without_a_plus_are_refused(value):
    try:
        e164(value)
    except ValueError:
        return
    raise AssertionError(f"{value!r} was accepted")

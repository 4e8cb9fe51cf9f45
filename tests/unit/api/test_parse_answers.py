from __future__ import annotations

import base64
import json

import pytest

from mysfits_api.errors import PayloadTooLarge, RequestError
from mysfits_api.recommend import MAX_BODY_BYTES, parse_answers


def test_plain_and_base64_bodies_give_the_same_answers():
    body = '{"entry": [3, 1, 4, 1, 5]}'
    encoded = base64.b64encode(body.encode()).decode()
    assert parse_answers(body) == (3, 1, 4, 1, 5)
    assert parse_answers(encoded, is_base64=True) == (3, 1, 4, 1, 5)


def test_extra_fields_are_ignored():
    assert parse_answers('{"entry": [8, 8, 8, 8, 8], "client": "old-site"}') == (8, 8, 8, 8, 8)


@pytest.mark.parametrize(
    ("body", "field", "allowed_part", "received"),
    [
        ('{"entry": [3, 1, 9, 1, 5]}', "entry[2]", "an integer from 1 to 8", 9),
        ('{"entry": [0, 1, 1, 1, 1]}', "entry[0]", "an integer from 1 to 8", 0),
        ('{"entry": [3, 1, 4, 1, 5.0]}', "entry[4]", "an integer from 1 to 8", 5.0),
        ('{"entry": [3, 1, 4, true, 5]}', "entry[3]", "an integer from 1 to 8", True),
        ('{"entry": ["3", 1, 4, 1, 5]}', "entry[0]", "an integer from 1 to 8", "3"),
        ('{"entry": [3, 1, 4]}', "entry", "exactly 5 answers", [3, 1, 4]),
        ('{"entry": "3,1,4,1,5"}', "entry", "a list of 5 integers", "3,1,4,1,5"),
        ('{"entry": null}', "entry", "a list of 5 integers", None),
        ('{"answers": [3, 1, 4, 1, 5]}', "entry", "a list of 5 integers from 1 to 8", None),
        ("[3, 1, 4, 1, 5]", "body", "a JSON object", "[3, 1, 4, 1, 5]"),
        ("entry=3,1,4,1,5", "body", "a JSON object", "entry=3,1,4,1,5"),
        ('{"entry": [NaN, 1, 4, 1, 5]}', "body", "a JSON object", '{"entry": [NaN, 1, 4, 1, 5]}'),
        ("", "body", "a JSON object", ""),
        (None, "body", "a JSON object", None),
    ],
)
def test_bad_bodies_name_the_field_what_is_allowed_and_what_came(body, field, allowed_part, received):
    with pytest.raises(RequestError) as caught:
        parse_answers(body)
    error = caught.value
    assert type(error) is RequestError
    assert error.status == 400
    assert (error.field, error.received) == (field, received)
    assert allowed_part in error.allowed
    assert error.body()["message"]


def test_base64_flag_with_text_that_is_not_base64():
    with pytest.raises(RequestError) as caught:
        parse_answers('{"entry": [3, 1, 4, 1, 5]}', is_base64=True)
    assert (caught.value.field, caught.value.allowed) == ("body", "base64 text")


def test_base64_of_bytes_that_are_not_utf8():
    with pytest.raises(RequestError) as caught:
        parse_answers(base64.b64encode(b"\xff\xfe{}").decode(), is_base64=True)
    assert caught.value.message == "the body is not UTF-8 text"


@pytest.mark.parametrize("is_base64", [False, True])
def test_bodies_over_the_limit_are_413_and_report_their_size(is_base64):
    text = json.dumps({"entry": [3, 1, 4, 1, 5], "note": "x" * MAX_BODY_BYTES})
    body = base64.b64encode(text.encode()).decode() if is_base64 else text
    with pytest.raises(PayloadTooLarge) as caught:
        parse_answers(body, is_base64=is_base64)
    assert caught.value.status == 413
    assert caught.value.allowed == f"at most {MAX_BODY_BYTES} bytes"
    assert caught.value.received >= len(text) - 3


def test_a_body_exactly_at_the_limit_is_parsed():
    text = '{"entry": [3, 1, 4, 1, 5], "note": "'
    text += "x" * (MAX_BODY_BYTES - len(text) - 2) + '"}'
    assert len(text.encode()) == MAX_BODY_BYTES
    assert parse_answers(text) == (3, 1, 4, 1, 5)


def test_the_deepest_nesting_that_fits_is_refused_cleanly():
    depth = (MAX_BODY_BYTES - len('{"entry": }')) // 2
    body = '{"entry": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(RequestError) as caught:
        parse_answers(body)
    assert caught.value.field == "entry"
    json.dumps(caught.value.body())


def test_a_huge_number_is_echoed_as_valid_json():
    with pytest.raises(RequestError) as caught:
        parse_answers('{"entry": [1e400, 1, 1, 1, 1]}')
    body = caught.value.body()
    assert body["field"] == "entry[0]"
    assert body["received"] == "inf"
    json.dumps(body, allow_nan=False)


def test_a_long_body_is_previewed_not_echoed_whole():
    body = "x" * 500
    with pytest.raises(RequestError) as caught:
        parse_answers(body)
    assert len(caught.value.received) == 60
    assert caught.value.received.endswith("...")


def test_a_utf8_byte_order_mark_is_not_part_of_the_json():
    """Issue 22, item 11: a body starting with a BOM (as PowerShell sends it) was refused as invalid JSON."""
    import base64

    from mysfits_api.recommend import parse_answers

    assert parse_answers('\ufeff{"entry": [1, 2, 3, 4, 5]}') == (1, 2, 3, 4, 5)
    encoded = base64.b64encode(b'\xef\xbb\xbf{"entry": [5, 4, 3, 2, 1]}').decode()
    assert parse_answers(encoded, is_base64=True) == (5, 4, 3, 2, 1)

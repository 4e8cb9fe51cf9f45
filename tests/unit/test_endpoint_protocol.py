"""The kNN wire formats: every request form in, both response forms out, and a clear refusal for each bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mysfits.local.endpoint.protocol import (
    CSV,
    JSON,
    JSONLINES,
    Neighbourhood,
    PayloadError,
    ResponseFormat,
    grid_cell,
    negotiate,
    parse_media_type,
    parse_response,
    parse_rows,
    request_media_type,
    serialize,
)
from mysfits_api.questionnaire import cell_index

answers = st.tuples(*[st.integers(1, 8)] * 5)


def refusal(body: bytes, content_type: str | None = CSV) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse_rows(body, content_type)
    return caught.value


# -- media types and content negotiation ------------------------------------------------------------------------------


def test_media_type_parameters_are_split_and_lower_cased():
    media = parse_media_type('Application/JSON; Verbose=true ; charset="utf-8"')
    assert media.essence == "application/json"
    assert media.param("verbose") == "true"
    assert media.param("charset") == "utf-8"
    assert media.param("missing", "x") == "x"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, ResponseFormat(JSON)),
        ("", ResponseFormat(JSON)),
        ("*/*", ResponseFormat(JSON)),
        ("application/*", ResponseFormat(JSON)),
        ("application/json", ResponseFormat(JSON)),
        ("application/jsonlines", ResponseFormat(JSONLINES)),
        ("application/json; verbose=true", ResponseFormat(JSON, verbose=True)),
        ("application/jsonlines;verbose=TRUE", ResponseFormat(JSONLINES, verbose=True)),
        ("application/json; verbose=false", ResponseFormat(JSON)),
        ("text/csv, application/jsonlines", ResponseFormat(JSONLINES)),
    ],
)
def test_accept_picks_the_first_supported_type(accept, expected):
    assert negotiate(accept) == expected


def test_unsupported_accept_is_refused_with_406_naming_the_choices():
    with pytest.raises(PayloadError) as caught:
        negotiate("text/csv")
    assert caught.value.status == 406
    assert "'text/csv'" in str(caught.value)
    assert "application/json or application/jsonlines" in str(caught.value)


def test_unknown_verbose_value_is_refused():
    with pytest.raises(PayloadError, match="verbose='yes'"):
        negotiate("application/json; verbose=yes")


@pytest.mark.parametrize("content_type", ["application/x-recordio-protobuf", "application/octet-stream", "text/plain"])
def test_unsupported_content_type_is_refused_with_415(content_type):
    error = refusal(b"1,2,3,4,5", content_type)
    assert error.status == 415
    assert repr(content_type) in str(error)
    assert "text/csv, application/json, application/jsonlines" in str(error)


def test_missing_content_type_is_refused_with_415():
    assert refusal(b"1,2,3,4,5", None).status == 415
    assert "missing" in str(refusal(b"1,2,3,4,5", None))


def test_non_utf8_charset_is_refused():
    with pytest.raises(PayloadError, match="latin-1"):
        request_media_type("text/csv; charset=latin-1")
    assert request_media_type("text/csv; charset=UTF-8").essence == CSV


# -- text/csv ---------------------------------------------------------------------------------------------------------


def test_csv_rows_in_request_order_with_any_line_ending():
    assert parse_rows(b"1,2,3,4,5\r\n8,7,6,5,4\n2.5,3,3,3,9\n\n", CSV) == [
        (1, 2, 3, 4, 5),
        (8, 7, 6, 5, 4),
        (2.5, 3, 3, 3, 9),
    ]


def test_csv_accepts_spaces_and_whole_floats():
    assert parse_rows(b" 1, 2.0 ,3e0,4,5", "text/csv; charset=utf-8") == [(1, 2.0, 3.0, 4, 5)]


def test_csv_label_size_drops_the_label_column():
    assert parse_rows(b"11,1,2,3,4,5\n0,8,8,8,8,8", "text/csv; label_size=1") == [(1, 2, 3, 4, 5), (8, 8, 8, 8, 8)]
    assert "label_size='2'" in str(refusal(b"1,2,3,4,5", "text/csv;label_size=2"))


def test_csv_wrong_feature_count_names_the_row():
    error = refusal(b"1,2,3,4,5\n1,2,3,4,5\n1,2,3,4\n")
    assert error.status == 400
    assert error.row == 2
    assert str(error) == "row 3 (line 3): expected 5 comma-separated numbers (the model's feature_dim), got 4 values"


def test_csv_non_numeric_value_names_row_and_column():
    error = refusal(b"1,2,3,4,5\n1,2,three,4,5")
    assert error.row == 1
    assert str(error).startswith("row 2 (line 2, column 3): 'three' is not a number")


@pytest.mark.parametrize("token", ["nan", "inf", "-Infinity"])
def test_csv_non_finite_values_are_refused(token):
    assert "not a finite number" in str(refusal(f"1,2,{token},4,5".encode()))


@pytest.mark.parametrize("token", ["1_0", "\u0663", ""])
def test_csv_refuses_what_int_would_stretch_to_read(token):
    assert "is not a number" in str(refusal(f"1,2,{token},4,5".encode()))


def test_csv_empty_line_in_the_middle_is_refused():
    error = refusal(b"1,2,3,4,5\n\n1,2,3,4,5")
    assert error.row == 1
    assert "row 2 (line 2) is empty" in str(error)


@pytest.mark.parametrize("body", [b"", b"\n\n", b"   "])
def test_empty_body_is_refused(body):
    error = refusal(body)
    assert error.status == 400
    assert "empty" in str(error)


def test_non_utf8_body_is_refused():
    assert "not UTF-8" in str(refusal(b"1,2,3,4,\xff"))


# -- application/json and application/jsonlines -----------------------------------------------------------------------


def test_json_instances_in_both_forms():
    body = {"instances": [{"features": [1, 2, 3, 4, 5]}, {"data": {"features": {"values": [8, 7, 6, 5, 4.5]}}}]}
    assert parse_rows(json.dumps(body).encode(), JSON) == [(1, 2, 3, 4, 5), (8, 7, 6, 5, 4.5)]


@pytest.mark.parametrize("body", [{"features": [1, 2, 3, 4, 5]}, {"data": {"features": {"values": [1, 2, 3, 4, 5]}}}])
def test_json_single_instance_without_the_instances_wrapper(body):
    assert parse_rows(json.dumps(body).encode(), JSON) == [(1, 2, 3, 4, 5)]


def test_json_sparse_tensor_form_is_densified():
    body = {"instances": [{"data": {"features": {"keys": [0, 4, 2], "values": [1, 5, 3], "shape": [5]}}}]}
    assert parse_rows(json.dumps(body).encode(), JSON) == [(1, 0, 3, 0, 5)]


@pytest.mark.parametrize(
    ("body", "fragment", "row"),
    [
        ({"instances": [{"features": [1, 2, 3, 4, 5]}, {"features": [1, 2, 3]}]}, "row 2 (instances[1].features)", 1),
        ({"instances": [{"features": [1, 2, True, 4, 5]}]}, "instances[0].features[2]): expected a number", 0),
        ({"instances": [{"features": [1, 2, "3", 4, 5]}]}, '"3" (string)', 0),
        ({"instances": [{"features": [1, 2, 3, 4, 10**400]}]}, "not a finite number", 0),
        ({"instances": [{}, {"values": [1]}]}, "row 1 (instances[0]): expected", 0),
        ({"instances": [{"features": [1, 2, 3, 4, 5]}, [1, 2, 3, 4, 5]]}, "row 2 (instances[1])", 1),
        ({"instances": [{"data": {"features": {"values": [1, 2]}}}]}, "instances[0].data.features.values", 0),
    ],
)
def test_json_bad_rows_are_named(body, fragment, row):
    error = refusal(json.dumps(body).encode(), JSON)
    assert fragment in str(error)
    assert error.row == row
    assert error.status == 400


def test_json_overflowing_number_is_refused_with_its_row():
    error = refusal(b'{"instances": [{"features": [1, 2, 3, 4, 5]}, {"features": [1, 2, 3, 4, 1e400]}]}', JSON)
    assert error.row == 1
    assert str(error) == (
        "row 2 (instances[1].features[4]): Infinity (number) is not a finite number within ±3.403e+38 "
        "(the largest 32-bit float)"
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"instances": []}', '"instances" must be a non-empty list'),
        (b'{"instances": {"features": [1,2,3,4,5]}}', '"instances" must be a non-empty list'),
        (b"[[1,2,3,4,5]]", "got [[1, 2, 3, 4, 5]] (list)"),
        (b'{"instances": [', "not valid JSON"),
        (b'{"instances": [{"features": [1,2,3,4,NaN]}]}', "NaN is not a finite number"),
    ],
)
def test_json_bad_documents_are_explained(body, fragment):
    assert fragment in str(refusal(body, JSON))


def test_jsonlines_one_row_per_line_in_both_forms():
    body = b'{"features": [1, 2, 3, 4, 5]}\n{"data": {"features": {"values": [2, 2, 2, 2, 2]}}}\n'
    assert parse_rows(body, JSONLINES) == [(1, 2, 3, 4, 5), (2, 2, 2, 2, 2)]


def test_jsonlines_bad_line_is_named():
    error = refusal(b'{"features": [1, 2, 3, 4, 5]}\n{"features": [1, 2, 3, 4, 5]\n', JSONLINES)
    assert error.row == 1
    assert str(error).startswith("row 2 (line 2) is not valid JSON")


# -- grid cells and serialization -------------------------------------------------------------------------------------


@given(answers)
def test_grid_cell_matches_the_questionnaire_cell_index(row):
    assert grid_cell(row) == cell_index(row)
    assert grid_cell(tuple(float(v) for v in row)) == cell_index(row)


@pytest.mark.parametrize("row", [(1, 2, 3, 4, 9), (0, 1, 1, 1, 1), (1, 2, 2.5, 4, 5), (1, 1, 1, 1, -1)])
def test_off_grid_rows_have_no_cell(row):
    assert grid_cell(row) is None


@given(st.lists(answers, min_size=1, max_size=40))
def test_every_request_format_reads_the_same_rows(rows):
    csv = "\n".join(",".join(map(str, row)) for row in rows).encode()
    instances = [{"features": list(row)} for row in rows]
    as_json = json.dumps({"instances": instances}).encode()
    as_jsonl = "\n".join(json.dumps({"data": {"features": {"values": list(row)}}}) for row in rows).encode()
    assert parse_rows(csv, CSV) == parse_rows(as_json, JSON) == parse_rows(as_jsonl, JSONLINES) == rows


def test_labels_serialize_as_floats_in_both_response_types():
    assert serialize(ResponseFormat(JSON), [3, 0, 11]) == (
        b'{"predictions":[{"predicted_label":3.0},{"predicted_label":0.0},{"predicted_label":11.0}]}'
    )
    assert serialize(ResponseFormat(JSONLINES), [3, 0]) == b'{"predicted_label":3.0}\n{"predicted_label":0.0}\n'


@pytest.mark.parametrize("media_type", [JSON, JSONLINES])
def test_verbose_answers_carry_distances_and_labels(media_type):
    hoods = [Neighbourhood(2, [0.0, 1.0, 1.5], [2, 2, 7]), Neighbourhood(5, [1.0, 2.0, 2.0], [5, 1, 5])]
    body = serialize(ResponseFormat(media_type, verbose=True), [2, 5], hoods)
    assert parse_response(body, media_type) == [
        {"predicted_label": 2.0, "distances": [0.0, 1.0, 1.5], "labels": [2.0, 2.0, 7.0]},
        {"predicted_label": 5.0, "distances": [1.0, 2.0, 2.0], "labels": [5.0, 1.0, 5.0]},
    ]
    predicted = json.loads(body.splitlines()[0]) if media_type == JSONLINES else json.loads(body)["predictions"][0]
    assert isinstance(predicted["predicted_label"], float)


def test_verbose_needs_one_neighbourhood_per_row():
    with pytest.raises(ValueError, match="one neighbourhood per row"):
        serialize(ResponseFormat(JSON, verbose=True), [1, 2], [Neighbourhood(1, [0.0], [1])])

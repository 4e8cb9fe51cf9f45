"""Encoding and decoding feature rows, checked against rows worked out by hand and against every answer vector.

``decode`` decides which rows the endpoint answers from the compiled table (the exact encoding of some answers) and
which go to the direct kNN: a row it wrongly accepts gets the table's answer for answers nobody gave, a row it
wrongly refuses costs only speed, so both directions are pinned here rather than left to latency.
"""

from __future__ import annotations

import itertools

import pytest

from mysfits_api import encoding as enc

EVERY_ANSWER_VECTOR = list(itertools.product(range(1, 9), repeat=5))


def one_hot_by_hand(*set_indices: int) -> list[int]:
    row = [0] * 40
    for index in set_indices:
        row[index] = 1
    return row


def test_the_names_and_feature_counts_are_what_model_files_and_sagemaker_carry():
    """Pinned: "ordinal" and "one-hot" are written into every model file, and feature_dim is SageMaker's
    hyperparameter; a model file from before the field existed must still read as ordinal."""
    assert (enc.ORDINAL, enc.ONE_HOT, enc.DEFAULT) == ("ordinal", "one-hot", "ordinal")
    assert (enc.feature_dim("ordinal"), enc.feature_dim("one-hot")) == (5, 40)


def test_an_unknown_encoding_is_refused_naming_where_it_came_from():
    with pytest.raises(ValueError, match=r"model\.encoding must be one of ordinal, one-hot; got 'onehot'"):
        enc.check("onehot", "model.encoding")
    with pytest.raises(ValueError, match=r"^encoding must be"):
        enc.feature_dim("binary")
    assert enc.check("one-hot") == "one-hot"


def test_one_hot_rows_worked_out_by_hand():
    # question q, answer a sets feature 8q + a - 1
    assert enc.encode((1, 8, 3, 1, 2), "one-hot") == tuple(one_hot_by_hand(0, 15, 18, 24, 33))
    assert enc.encode((8, 8, 8, 8, 8), "one-hot") == tuple(one_hot_by_hand(7, 15, 23, 31, 39))
    assert enc.encode((2, 7, 4, 5, 6), "ordinal") == (2, 7, 4, 5, 6)


def test_decoding_hand_worked_rows():
    assert enc.decode(one_hot_by_hand(0, 15, 18, 24, 33), "one-hot") == (1, 8, 3, 1, 2)
    assert enc.decode(one_hot_by_hand(7, 8, 16, 31, 39), "one-hot") == (8, 1, 1, 8, 8)
    assert enc.decode([1.0, 8.0, 3.0, 1.0, 2.0], "ordinal") == (1, 8, 3, 1, 2)
    floats = [float(v) for v in one_hot_by_hand(1, 9, 17, 25, 33)]
    assert enc.decode(floats, "one-hot") == (2, 2, 2, 2, 2)


@pytest.mark.parametrize("encoding", enc.ENCODINGS)
def test_every_answer_vector_decodes_back_to_itself(encoding):
    for answers in EVERY_ANSWER_VECTOR:
        decoded = enc.decode(enc.encode(answers, encoding), encoding)
        assert decoded == answers and all(type(a) is int for a in decoded)


@pytest.mark.parametrize(
    "row",
    [
        [1, 2, 3, 4],  # too short
        [1, 2, 3, 4, 5, 6],  # too long
        [0, 2, 3, 4, 5],  # below option 1
        [1, 2, 3, 4, 9],  # above option 8
        [1, 2, 3.5, 4, 5],  # between options
        [1, 2, 3, 4, -5],
        [],
    ],
)
def test_an_ordinal_row_that_is_no_answer_vector_goes_to_the_direct_knn(row):
    assert enc.decode(row, "ordinal") is None


def _with(row: list[int], index: int, value: float) -> list[float]:
    changed = list(row)
    changed[index] = value
    return changed


GOOD = one_hot_by_hand(0, 15, 18, 24, 33)


@pytest.mark.parametrize(
    "row",
    [
        GOOD[:39],  # one feature short
        [*GOOD, 0],  # one feature too many
        GOOD[:5],  # an ordinal row's length
        _with(GOOD, 1, 1),  # two options of the first question
        _with(GOOD, 39, 1),  # two options of the last question
        _with(GOOD, 33, 0),  # the last question unanswered
        _with(GOOD, 0, 0),  # the first question unanswered
        _with(_with(GOOD, 0, 0.5), 1, 0.5),  # half of two options sums to one
        _with(_with(GOOD, 0, 2), 1, -1),  # two and minus one sum to one
        _with(GOOD, 18, 2),  # a feature of two
        [0] * 40,
    ],
)
def test_a_one_hot_row_that_encodes_no_answer_vector_goes_to_the_direct_knn(row):
    assert enc.decode(row, "one-hot") is None


def test_decoding_checks_the_encoding_name_first():
    with pytest.raises(ValueError, match="encoding must be one of"):
        enc.decode([1, 2, 3, 4, 5], "ordinals")

import json

import pytest

from mysfits_api.catalog import label_ids, load_catalog, mysfit_for_label
from mysfits_api.questionnaire import InvalidAnswers, cell_index, load_questionnaire, validate_answers

# The ids, names, species, ages and alignments of the Mysfits site, in label order.
EXPECTED = [
    ("4e53920c-505a-4a90-a694-b9300791f0ae", "Evangeline", "Chimera", 43, "Evil", "Lawful"),
    ("2b473002-36f8-4b87-954e-9a377e0ccbec", "Pauly", "Cyclops", 2, "Neutral", "Lawful"),
    ("0e37d916-f960-4772-a25a-01b762b5c1bd", "CoCo", "Dragon", 501, "Good", "Chaotic"),
    ("da5303ae-5aba-495c-b5d6-eb5c4a66b941", "Gretta", "Gorgon", 31, "Evil", "Neutral"),
    ("a901bb08-1985-42f5-bb77-27439ac14300", "Hasla", "Haetae", 2000000000, "Good", "Neutral"),
    ("b41ff031-141e-4a8d-bb56-158a22bea0b3", "Snowflake", "Yeti", 13, "Evil", "Neutral"),
    ("3f0f196c-4a7b-43af-9e29-6522a715342d", "Gary", "Kraken", 2709, "Neutral", "Chaotic"),
    ("a68db521-c031-44c7-b5ef-bfa4c0850e2a", "Nessi", "Plesiosaurus", 75000000, "Neutral", "Neutral"),
    ("c0684344-1eb7-40e7-b334-06d25ac9268c", "Atlantis", "Mandrake", 100, "Neutral", "Neutral"),
    ("ac3e95f3-eb40-4e4e-a605-9fdd0224877c", "Twilight Glitter", "Pegasus", 6, "Good", "Lawful"),
    ("33e1fbd4-2fd8-45fb-a42f-f92551694506", "Cole", "Phoenix", 1393, "Good", "Chaotic"),
    ("b6d16e02-6aeb-413c-b457-321151bb403d", "Rujin", "Troll", 221, "Evil", "Chaotic"),
]


def test_catalog_matches_the_mysfits_site_in_label_order():
    got = [(m.id, m.name, m.species, m.age, m.goodevil, m.lawchaos) for m in load_catalog()]
    assert got == EXPECTED
    assert [m.label for m in load_catalog()] == list(range(12))
    assert label_ids() == [row[0] for row in EXPECTED]


def test_every_mysfit_has_its_own_description_and_distinct_favourites():
    catalog = load_catalog()
    assert all(len(m.description) > 80 for m in catalog)
    assert len({m.description for m in catalog}) == 12
    assert len({m.favourites for m in catalog}) == 12
    assert "favourites" not in catalog[0].profile()


@pytest.mark.parametrize("label", [-1, 12, True, 1.0, "3", None])
def test_mysfit_for_label_rejects_anything_but_0_to_11(label):
    with pytest.raises(LookupError, match="0 to 11"):
        mysfit_for_label(label)


def test_questionnaire_has_five_questions_of_eight_options_served_with_values_1_to_8():
    served = load_questionnaire().to_dict()
    assert len(served["questions"]) == 5
    for question in served["questions"]:
        assert [o["value"] for o in question["options"]] == list(range(1, 9))
        assert len({o["label"] for o in question["options"]}) == 8
    json.dumps(served)  # the API serves it as-is


def test_validate_answers_accepts_lists_and_tuples_of_1_to_8():
    assert validate_answers([1, 2, 3, 4, 8]) == (1, 2, 3, 4, 8)
    assert validate_answers((8, 8, 8, 8, 8)) == (8, 8, 8, 8, 8)


@pytest.mark.parametrize(
    ("entry", "field", "allowed_part", "received_part"),
    [
        ("12345", "entry", "list of 5", '"12345"'),
        ({"a": 1}, "entry", "list of 5", "dict"),
        (None, "entry", "list of 5", "null"),
        ([1, 2, 3, 4], "entry", "exactly 5", "[1, 2, 3, 4]"),
        ([1, 2, 3, 4, 5, 6], "entry", "exactly 5", "list"),
        ([1, True, 3, 4, 5], "entry[1]", "integer from 1 to 8", "true (bool)"),
        ([1, 2, 3.0, 4, 5], "entry[2]", "integer from 1 to 8", "3.0 (float)"),
        ([1, 2, 3, "4", 5], "entry[3]", "integer from 1 to 8", '"4" (str)'),
        ([1, 2, 3, 4, 9], "entry[4]", "integer from 1 to 8", "9 (int)"),
        ([0, 2, 3, 4, 5], "entry[0]", "integer from 1 to 8", "0 (int)"),
        ([1, 2, None, 4, 5], "entry[2]", "integer from 1 to 8", "null"),
    ],
)
def test_validate_answers_names_position_allowed_range_and_received_value(entry, field, allowed_part, received_part):
    with pytest.raises(InvalidAnswers) as caught:
        validate_answers(entry)
    error = caught.value
    assert error.field == field
    assert allowed_part in error.allowed
    assert received_part in str(error)
    assert str(error).startswith(field + ":")


def test_cell_index_covers_the_answer_space_in_order():
    assert cell_index((1, 1, 1, 1, 1)) == 0
    assert cell_index((1, 1, 1, 1, 2)) == 1
    assert cell_index((2, 1, 1, 1, 1)) == 8**4
    assert cell_index((8, 8, 8, 8, 8)) == 8**5 - 1

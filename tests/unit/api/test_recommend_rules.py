"""The recommendation's rules with their own oracles: the limits as literal numbers (not the imported constants,
which a test would follow wherever they moved), votes worked out by hand, a unanimous neighbourhood, and the
visitor's own reasons against a second reading of the catalog's data file."""

from __future__ import annotations

import base64
import dataclasses
import json
from importlib import resources

import pytest
from botocore.stub import Stubber

from mysfits_api.catalog import label_ids
from mysfits_api.errors import ModelBusy, ModelFailed, ModelUnavailable, PayloadTooLarge, RequestError
from mysfits_api.recommend import (
    answers_pointing_to,
    explain,
    json_body,
    neighbour_labels,
    parse_answers,
    predict_label,
    recommendation_for,
    runner_up,
)
from tests.api_support import ENDPOINT_NAME, runtime_client

IDS = label_ids()
ALLOWED = "a JSON object"


def padded(size: int) -> str:
    """A valid body of exactly ``size`` bytes."""
    text = '{"entry": [3, 1, 4, 1, 5], "pad": "'
    return text + "x" * (size - len(text) - 2) + '"}'


def test_a_body_of_1024_bytes_is_read_and_1025_is_too_large():
    assert parse_answers(padded(1024)) == (3, 1, 4, 1, 5)
    with pytest.raises(PayloadTooLarge) as caught:
        parse_answers(padded(1025))
    assert (caught.value.status, caught.value.received, caught.value.allowed) == (413, 1025, "at most 1024 bytes")


def test_the_same_limits_hold_for_a_base64_body():
    assert parse_answers(base64.b64encode(padded(1024).encode()).decode(), is_base64=True) == (3, 1, 4, 1, 5)
    with pytest.raises(PayloadTooLarge) as caught:
        parse_answers(base64.b64encode(padded(1025).encode()).decode(), is_base64=True)
    assert caught.value.received == 1025


def test_base64_text_longer_than_1368_characters_is_refused_before_decoding():
    """1,024 bytes take at most 1,368 base64 characters: anything longer is too large whatever it holds, so even
    text that is not base64 at all gets 413 rather than being decoded."""
    with pytest.raises(PayloadTooLarge) as caught:
        json_body("!" * 1369, ALLOWED, is_base64=True)
    assert caught.value.received == 1369 * 3 // 4
    with pytest.raises(RequestError, match="not base64") as caught:
        json_body("!" * 1368, ALLOWED, is_base64=True)
    assert not isinstance(caught.value, PayloadTooLarge)


def test_a_byte_order_mark_carries_no_content():
    assert json_body('\ufeff{"a": 1}', ALLOWED) == {"a": 1}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_s_non_standard_constants_are_refused(constant):
    with pytest.raises(RequestError, match="not valid JSON"):
        json_body(f'{{"entry": [1, 2, 3, 4, {constant}]}}', ALLOWED)


def test_what_is_echoed_back_is_cut_at_60_characters():
    sixty = "x" * 60
    with pytest.raises(RequestError) as caught:
        json_body(sixty, ALLOWED)
    assert caught.value.received == sixty
    with pytest.raises(RequestError) as caught:
        json_body(sixty + "y", ALLOWED)
    assert caught.value.received == "x" * 57 + "..."


def test_1024_neighbour_labels_are_read_and_1025_are_a_broken_answer():
    """SageMaker's built-in kNN allows k up to 1,024 (its hyperparameter reference)."""
    assert len(neighbour_labels({"labels": [3.0] * 1024}, 3)) == 1024
    assert neighbour_labels({"labels": [3.0]}, 3) == (3,)  # k = 1: one neighbour is a whole neighbourhood
    with pytest.raises(ValueError, match="1 to 1024 labels"):
        neighbour_labels({"labels": [3.0] * 1025}, 3)
    with pytest.raises(ValueError, match="1 to 1024 labels"):
        neighbour_labels({"labels": []}, 3)


@pytest.mark.parametrize("bad", [True, 3.5, "3", None, 12, -1, 12.0])
def test_a_neighbour_label_must_be_a_whole_mysfit_label(bad):
    with pytest.raises(ValueError, match="neighbour label 1 must be a whole number from 0 to 11"):
        neighbour_labels({"labels": [3, bad, 3]}, 3)


def test_labels_0_and_11_are_mysfits_and_whole_floats_count():
    assert neighbour_labels({"labels": [0.0, 0, 11.0]}, 0) == (0, 0, 11)
    assert neighbour_labels({"labels": [11, 11, 0]}, 11) == (11, 11, 0)


def test_distances_must_pair_with_labels_when_present():
    assert neighbour_labels({"labels": [3, 3], "distances": [0.0, 1.0]}, 3) == (3, 3)
    assert neighbour_labels({"labels": [3, 3], "distances": None}, 3) == (3, 3)
    for distances in ([0.0], [0.0, 1.0, 2.0], "0,1"):
        with pytest.raises(ValueError, match="2 neighbour labels but distances"):
            neighbour_labels({"labels": [3, 3], "distances": distances}, 3)


def test_the_predicted_label_must_have_the_most_votes_but_may_share_them():
    assert neighbour_labels({"labels": [3, 7, 3, 7]}, 3) == (3, 7, 3, 7)  # a tie the endpoint broke for 3
    with pytest.raises(ValueError, match="do not elect the predicted label 3"):
        neighbour_labels({"labels": [7, 3, 7]}, 3)
    with pytest.raises(ValueError, match="no neighbour labels"):
        neighbour_labels({"predicted_label": 3.0}, 3)
    with pytest.raises(ValueError, match="no neighbour labels"):
        neighbour_labels([3, 3], 3)


def test_a_unanimous_neighbourhood_has_no_runner_up():
    """Every neighbour voted for the pick: there is nobody second to offer (issue 34: this crashed once)."""
    assert runner_up(3, (3, 3, 3, 3, 3)) is None
    assert runner_up(3, (3,)) is None
    assert runner_up(3, None) is None and runner_up(3, ()) is None
    body = recommendation_for(3, (3, 3, 3), (3, 1, 4, 1, 5))
    assert body["why"]["votes"] == [{"mysfitId": IDS[3], "count": 3}] and body["why"]["neighbours"] == 3


def test_votes_worked_out_by_hand():
    """Label 3 first; then by votes; equal votes by whose neighbour came first (nearest first)."""
    neighbours = (5, 7, 7, 3, 5, 3, 9)
    votes = explain(3, neighbours)["votes"]
    assert [(v["mysfitId"], v["count"]) for v in votes] == [(IDS[3], 2), (IDS[5], 2), (IDS[7], 2), (IDS[9], 1)]
    assert runner_up(3, neighbours) == IDS[5]
    later_first = (7, 5, 5, 7, 3, 3)  # 7 is nearer than 5 although 5 also comes before 7's second vote
    assert [v["mysfitId"] for v in explain(3, later_first)["votes"]] == [IDS[3], IDS[7], IDS[5]]
    assert runner_up(3, (3, 3, 1, 2, 2)) == IDS[2]  # more votes beat nearness
    assert explain(3, neighbours)["neighbours"] == 7


def _favourites_from_the_data_file() -> dict[int, list[int]]:
    document = json.loads(resources.files("mysfits_api").joinpath("data/catalog.json").read_text())
    mysfits = document["mysfits"] if isinstance(document, dict) else document
    return {position: mysfit["favourites"] for position, mysfit in enumerate(mysfits)}


def test_the_answers_pointing_to_each_mysfit_against_the_data_file():
    favourites = _favourites_from_the_data_file()
    assert len(favourites) == 12
    for label, liked in favourites.items():
        for shift in range(-8, 9):
            answers = [min(8, max(1, f + shift)) for f in liked]
            expected = [q for q in range(5) if -1 <= answers[q] - liked[q] <= 1]
            assert answers_pointing_to(label, answers) == expected, (label, answers)


def test_an_exploring_body_names_the_shown_mysfit_and_the_model_s_pick():
    body = recommendation_for(3, (3, 3, 7), (3, 1, 4, 1, 5), shown=9)
    assert (body["recommendedMysfit"], body["modelPick"], body["explored"]) == (IDS[9], IDS[3], True)
    assert body["mysfit"]["id"] == IDS[9]
    assert body["why"]["votes"][0]["mysfitId"] == IDS[3]  # the why is the model's, not the draw's
    plain = recommendation_for(3, (3, 3, 7), None)
    assert plain["explored"] is False and "answersPointing" not in plain["why"]
    assert "why" not in recommendation_for(3)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ValidationError", ModelUnavailable),
        ("AccessDeniedException", ModelUnavailable),
        ("UnrecognizedClientException", ModelUnavailable),
        ("ModelError", ModelFailed),
        ("InternalFailure", ModelFailed),
        ("InternalDependencyException", ModelFailed),
        ("ServiceUnavailable", ModelBusy),
        ("ModelNotReadyException", ModelBusy),
        ("ThrottlingException", ModelBusy),
    ],
)
@pytest.mark.parametrize("status", [400, 429, 500])
def test_a_code_sagemaker_documents_decides_the_kind_whatever_the_status(code, kind, status):
    """The status is only the fallback for codes SageMaker may add later: a known code means what its reference
    says (a throttled call is worth retrying even when it comes back 400; a missing endpoint is not, even as 500)."""
    client = runtime_client()
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code=code, http_status_code=status)
        with pytest.raises(kind):
            predict_label(client, ENDPOINT_NAME, (3, 1, 4, 1, 5))


def test_a_body_with_a_lone_surrogate_is_measured_not_crashed_on():
    """A proxy event's body is a str, and it can hold a lone surrogate (an escaped half of a UTF-16 pair that API
    Gateway passed on): measuring its size must not raise, and the JSON inside is still read."""
    assert json_body('{"a": "\ud800"}', ALLOWED) == {"a": "\ud800"}
    with pytest.raises(PayloadTooLarge) as caught:
        json_body('{"a": "' + "\ud800" * 400 + '"}', ALLOWED)
    assert caught.value.received == 9 + 400 * 3  # each surrogate counts as the 3 bytes it would take


def test_a_prediction_cannot_be_changed_once_made():
    from mysfits_api.recommend import Prediction

    with pytest.raises(dataclasses.FrozenInstanceError):
        Prediction(3).label = 4


def test_reasons_for_fewer_or_more_answers_than_questions_are_refused():
    """Reasons for three of five answers would silently describe part of a visitor: a caller's bug, so it raises."""
    for answers in ((3, 1, 4), (3, 1, 4, 1, 5, 9)):
        with pytest.raises(ValueError):
            answers_pointing_to(3, answers)


def test_why_neighbours_are_unusable_quotes_the_value_cut_at_60_characters():
    """The reason goes to the log: short values whole, long ones cut (a 1,025-label list must not fill the log)."""
    with pytest.raises(ValueError) as short:
        neighbour_labels({"labels": "abc"}, 3)
    assert str(short.value).endswith("got 'abc'")
    exactly_60 = "x" * 58  # its repr, quotes included, is 60 characters
    with pytest.raises(ValueError) as whole:
        neighbour_labels({"labels": exactly_60}, 3)
    assert str(whole.value).endswith(f"got '{exactly_60}'")
    with pytest.raises(ValueError) as cut:
        neighbour_labels({"labels": exactly_60 + "y"}, 3)
    assert str(cut.value).endswith("got '" + "x" * 56 + "...")

"""What POST /choices accepts and what each store refusal becomes, checked on the functions the handler calls,
with a real SQLite store: the exact forms of an id, times kept to the second, and the window the message names."""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid

import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api import adopt
from mysfits_api.catalog import label_ids
from mysfits_api.choices import CHOICE_WINDOW_SECONDS, CLOCK_SKEW_SECONDS, Choice, Recommendation
from mysfits_api.errors import AlreadyAdopted, RecommendationNotFound, RequestError, StoreDown

IDS = label_ids()
NOW = 1_800_000_000.0
REC_ID = "0b7e4c1e-8f5d-4a8e-9b1c-2d3e4f5a6b7c"


def body(recommendation_id: object = REC_ID, mysfit_id: object = IDS[4]) -> str:
    return json.dumps({"recommendationId": recommendation_id, "mysfitId": mysfit_id})


@pytest.fixture
def store(tmp_path):
    sqlite = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
    yield sqlite
    sqlite.close()


def made(created_at: float = NOW, recommendation_id: str = REC_ID) -> Recommendation:
    return Recommendation(recommendation_id, (3, 1, 4, 1, 5), IDS[1], IDS[2], "ordinal-0123456789ab", created_at)


def test_a_plain_body_is_read_as_json_unless_the_event_says_base64():
    assert adopt.parse_choice(body()) == (REC_ID, IDS[4])
    encoded = base64.b64encode(body().encode()).decode()
    assert adopt.parse_choice(encoded, is_base64=True) == (REC_ID, IDS[4])


def test_an_upper_case_id_is_the_same_recommendation():
    """Stores key on the lower-case form str(uuid.UUID(...)) writes; an upper-case copy of it must find the row."""
    assert adopt.parse_choice(body(REC_ID.upper())) == (REC_ID, IDS[4])


@pytest.mark.parametrize(
    "written",
    [
        REC_ID.replace("-", ""),  # uuid.UUID reads these three forms, but no recommendation ever had them as its id
        "{" + REC_ID + "}",
        "urn:uuid:" + REC_ID,
        REC_ID[:-1],
        "",
    ],
)
def test_only_the_canonical_form_of_an_id_is_accepted(written):
    with pytest.raises(RequestError) as refused:
        adopt.parse_choice(body(written))
    assert (refused.value.field, refused.value.received) == ("recommendationId", written)


@pytest.mark.parametrize("mysfit", [IDS[0][:-1], IDS[0] + " ", None, 3])
def test_a_mysfit_that_is_not_in_the_catalog_is_refused(mysfit):
    with pytest.raises(RequestError) as refused:
        adopt.parse_choice(body(mysfit_id=mysfit))
    assert (refused.value.field, refused.value.received) == ("mysfitId", mysfit)


def test_every_mysfit_in_the_catalog_can_be_adopted():
    assert [adopt.parse_choice(body(mysfit_id=i))[1] for i in IDS] == IDS


def test_times_are_kept_to_the_second_rounded_down(store):
    """0.99 s after a second is still that second: rounding up would date a row later than it happened."""
    adopt.keep_recommendation(store, made(created_at=NOW + 0.99))
    choice = adopt.record_choice(store, REC_ID, IDS[7], now=NOW + 60.999)
    assert isinstance(choice, Choice)
    assert (choice.recommendation.created_at, choice.chosen_at) == (NOW, NOW + 60)
    assert adopt.stored_time(-0.5) == -1.0


def test_a_new_choice_id_is_a_fresh_uuid4_each_time(store):
    adopt.keep_recommendation(store, made())
    other = str(uuid.UUID(int=1))
    adopt.keep_recommendation(store, made(recommendation_id=other))
    first = adopt.record_choice(store, REC_ID, IDS[0], now=NOW)
    second = adopt.record_choice(store, other, IDS[0], now=NOW)
    assert first.choice_id != second.choice_id
    assert {uuid.UUID(first.choice_id).version, uuid.UUID(second.choice_id).version} == {4}


def test_a_missing_recommendation_is_not_found_and_the_message_names_the_24_hours(store):
    with pytest.raises(RecommendationNotFound) as missing:
        adopt.record_choice(store, REC_ID, IDS[0], now=NOW)
    assert missing.value.status == 404
    assert f"from the last {CHOICE_WINDOW_SECONDS // 3600} hours" in missing.value.message
    assert "the last 24 hours" in missing.value.message


def test_one_second_past_the_window_is_not_found_the_last_second_in_it_is_adopted(store):
    adopt.keep_recommendation(store, made(created_at=NOW))
    with pytest.raises(RecommendationNotFound):
        adopt.record_choice(store, REC_ID, IDS[0], now=NOW + 24 * 3600 + 1)
    assert adopt.record_choice(store, REC_ID, IDS[0], now=NOW + 24 * 3600).chosen_at == NOW + 86_400


def test_a_second_adoption_is_already_adopted(store):
    adopt.keep_recommendation(store, made())
    adopt.record_choice(store, REC_ID, IDS[0], now=NOW)
    with pytest.raises(AlreadyAdopted) as again:
        adopt.record_choice(store, REC_ID, IDS[1], now=NOW + 1)
    assert again.value.status == 409 and REC_ID in again.value.message


def test_a_store_that_cannot_take_the_choice_is_store_down(tmp_path):
    path = tmp_path / "choices.sqlite3"
    broken = SqliteChoiceStore(path, save_wait_s=30)
    path.unlink()
    path.mkdir()  # nothing can open a database here
    with pytest.raises(StoreDown) as down:
        adopt.record_choice(broken, REC_ID, IDS[0], now=NOW)
    assert down.value.status == 503 and "retry" in down.value.message


def test_the_window_and_the_skew_are_a_day_and_five_seconds():
    """Pinned: the page tells visitors they have a day to adopt (docs/api.md), and five seconds is the most two
    Lambda instances' clocks, kept to the second, are allowed to differ before a row counts as forged."""
    assert CHOICE_WINDOW_SECONDS == 86_400
    assert CLOCK_SKEW_SECONDS == 5


def test_a_recommendation_from_before_exploration_showed_the_pick_with_certainty():
    """Rows written before exploration existed carry none of its fields; reading them as "the recommended Mysfit,
    shown with probability 1, nothing drawn" is what happened, and what the judge's taste scores assume for them."""
    old = made()
    assert (old.shown, old.shown_mysfit_id, old.propensity, old.exploration_rate, old.randomized) == (
        IDS[1],
        IDS[1],
        1.0,
        0.0,
        False,
    )


def test_what_was_shown_decides_accepted_and_the_pick_decides_agreement():
    drawn = Recommendation(REC_ID, (3, 1, 4, 1, 5), IDS[1], IDS[2], "v", NOW, IDS[6], 0.0125, 0.15, True)
    assert drawn.shown == IDS[6]
    took_shown = Choice("c", drawn, IDS[6], NOW)
    took_pick = Choice("c", drawn, IDS[1], NOW)
    assert (took_shown.accepted, took_shown.agrees_with_model) == (True, False)
    assert (took_pick.accepted, took_pick.agrees_with_model) == (False, True)


def test_a_kept_recommendation_and_a_choice_cannot_be_changed():
    """What was shown and adopted is evidence: once made, nothing downstream (export, retrain) may rewrite it."""
    kept = made()
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept.answers = (1, 1, 1, 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Choice("c", kept, IDS[0], NOW).chosen_mysfit_id = IDS[1]

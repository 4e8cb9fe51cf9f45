"""The data loop's two writes: keep each recommendation, then record the Mysfit the visitor adopted after it.

Pure functions over an injected :class:`~mysfits_api.choices.ChoiceStore`, like :mod:`mysfits_api.recommend` over
its sagemaker-runtime client. A choice names only a recommendation id and a Mysfit id: the answers it becomes
training data with are the ones stored with the recommendation, so a client cannot invent answer vectors.
"""

from __future__ import annotations

import dataclasses
import math
import uuid

from mysfits_api.catalog import load_catalog
from mysfits_api.choices import (
    CHOICE_WINDOW_SECONDS,
    AlreadyChosen,
    Choice,
    ChoiceStore,
    Recommendation,
    StoreUnavailable,
    UnknownRecommendation,
)
from mysfits_api.errors import AlreadyAdopted, RecommendationNotFound, RequestError, StoreDown

__all__ = ["StoreDown", "keep_recommendation", "parse_choice", "record_choice"]
from mysfits_api.recommend import json_body

_ALLOWED_BODY = (
    'a JSON object such as {"recommendationId": "<the id POST /recommendations returned>", "mysfitId": "<id>"}'
)
_ALLOWED_ID = "the recommendationId of a recommendation made in the last 24 hours (a UUID)"
_ALLOWED_MYSFIT = "the id of one of the twelve Mysfits (GET /questionnaire's page content lists them)"


def new_id() -> str:
    return str(uuid.uuid4())


def parse_choice(body: str | None, *, is_base64: bool = False) -> tuple[str, str]:
    """``(recommendation_id, mysfit_id)`` from a ``POST /choices`` body, or a :class:`RequestError` naming the field."""
    document = json_body(body, _ALLOWED_BODY, is_base64=is_base64)
    recommendation_id = document.get("recommendationId")
    if not isinstance(recommendation_id, str) or not _is_uuid(recommendation_id):
        raise RequestError(
            "recommendationId must be the id a recommendation returned",
            "recommendationId",
            _ALLOWED_ID,
            recommendation_id,
        )
    mysfit_id = document.get("mysfitId")
    if not isinstance(mysfit_id, str) or mysfit_id not in {mysfit.id for mysfit in load_catalog()}:
        raise RequestError("mysfitId is not one of the twelve Mysfits", "mysfitId", _ALLOWED_MYSFIT, mysfit_id)
    return recommendation_id.lower(), mysfit_id


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def stored_time(timestamp: float) -> float:
    """A time as the stores keep it: to the second, rounded down (never later than it happened). Microseconds would
    let anyone holding API Gateway's access log (caller IP and request time) tell which visitor made which row."""
    return float(math.floor(timestamp))


def keep_recommendation(store: ChoiceStore, recommendation: Recommendation) -> None:
    """Raises StoreUnavailable; the caller decides that a recommendation without an id is still worth answering."""
    store.save_recommendation(dataclasses.replace(recommendation, created_at=stored_time(recommendation.created_at)))


def record_choice(store: ChoiceStore, recommendation_id: str, mysfit_id: str, now: float) -> Choice:
    """The stored choice, or the API error that tells the visitor what happened to it."""
    try:
        return store.record_choice(recommendation_id, mysfit_id, choice_id=new_id(), now=stored_time(now))
    except UnknownRecommendation as exc:
        hours = CHOICE_WINDOW_SECONDS // 3600
        raise RecommendationNotFound(
            f"no recommendation {recommendation_id} from the last {hours} hours; ask for a new one", str(exc)
        ) from exc
    except AlreadyChosen as exc:
        raise AlreadyAdopted(f"a Mysfit was already adopted for recommendation {recommendation_id}", str(exc)) from exc
    except StoreUnavailable as exc:
        raise StoreDown("choices cannot be recorded right now; retry shortly", str(exc)) from exc

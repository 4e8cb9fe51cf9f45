"""How five answers become the feature vector the kNN model measures distances in: the one definition.

Two encodings exist, and a model is trained on exactly one of them:

* ``ordinal``: the answers themselves, ``[a1, ..., a5]`` (5 features). L2 distance then treats option 3 as closer to
  option 4 than to option 8, which suits questions whose options form a scale. It is what the original workshop's
  Lambda sends, so an ordinal model keeps that client working unchanged.
* ``one-hot``: eight 0/1 features per question, feature ``8 * q + (a - 1)`` set for answer ``a`` to question ``q``
  (40 features). Two visitors' squared L2 distance is then twice the number of questions they answered
  differently, so every pair of different options is equally far apart, which suits categorical questions
  (occupation, colour, sport).

The Lambda encodes a visitor's answers with :func:`encode` before it calls the endpoint, and the trainer builds its
numpy encoding from the same function, so the two can never disagree. Standard library only: the Lambda imports it.
"""

from __future__ import annotations

from collections.abc import Sequence

from mysfits_api.questionnaire import N_OPTIONS, N_QUESTIONS, OPTION_MIN

ORDINAL = "ordinal"
ONE_HOT = "one-hot"
ENCODINGS = (ORDINAL, ONE_HOT)
DEFAULT = ORDINAL
"""Models trained before the encoding was recorded were ordinal; a file without the field still means that."""

_FEATURE_DIM = {ORDINAL: N_QUESTIONS, ONE_HOT: N_QUESTIONS * N_OPTIONS}


def check(encoding: object, where: str = "encoding") -> str:
    """The encoding's name, or ``ValueError`` naming ``where`` it came from and the names allowed."""
    if encoding not in _FEATURE_DIM:
        raise ValueError(f"{where} must be one of {', '.join(ENCODINGS)}; got {encoding!r}")
    return encoding  # type: ignore[return-value]


def feature_dim(encoding: str) -> int:
    """How many features a row has under ``encoding`` (SageMaker's ``feature_dim`` hyperparameter)."""
    return _FEATURE_DIM[check(encoding)]


def encode(answers: Sequence[int], encoding: str) -> tuple[int, ...]:
    """The feature row for one valid answer vector (answers already checked to be 1..8)."""
    if check(encoding) == ORDINAL:
        return tuple(answers)
    features = [0] * (N_QUESTIONS * N_OPTIONS)
    for question, answer in enumerate(answers):
        features[question * N_OPTIONS + answer - OPTION_MIN] = 1
    return tuple(features)


def decode(features: Sequence[float], encoding: str) -> tuple[int, ...] | None:
    """The answers a feature row encodes, or ``None`` when it is not the exact encoding of any answer vector.

    The endpoint answers decodable rows from the compiled table and anything else with the direct kNN.
    """
    if check(encoding) == ORDINAL:
        if len(features) != N_QUESTIONS or any(v not in _OPTION_VALUES for v in features):
            return None
        return tuple(int(v) for v in features)
    if len(features) != N_QUESTIONS * N_OPTIONS:
        return None
    answers = []
    for question in range(N_QUESTIONS):
        block = features[question * N_OPTIONS : (question + 1) * N_OPTIONS]
        if any(v not in (0, 1) for v in block) or sum(block) != 1:
            return None
        answers.append(list(block).index(1) + OPTION_MIN)
    return tuple(answers)


_OPTION_VALUES = frozenset(range(OPTION_MIN, OPTION_MIN + N_OPTIONS))

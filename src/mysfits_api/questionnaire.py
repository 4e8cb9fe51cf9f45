"""The five questions a visitor answers, and the one check every answer vector passes.

The texts live in ``data/questionnaire.json``; this module is the only reader, so the
trainer, the endpoint, the handler and the page all agree on the shape of an answer.
Standard library only: the Lambda imports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

N_QUESTIONS = 5
N_OPTIONS = 8
OPTION_MIN = 1
OPTION_MAX = N_OPTIONS


class InvalidAnswers(ValueError):
    """An answer vector that cannot be scored.

    ``field`` points at the offending value (``entry`` or ``entry[i]``), ``allowed``
    says what would have been accepted and ``received`` echoes what came in, so an
    API can hand all three back to the caller.
    """

    def __init__(self, field: str, allowed: str, received: object):
        self.field = field
        self.allowed = allowed
        self.received = received
        super().__init__(f"{field}: expected {allowed}, got {_describe(received)}")


def _describe(value: object) -> str:
    text = json.dumps(value) if _jsonable(value) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Questionnaire:
    version: int
    title: str
    intro: str
    questions: tuple[Question, ...]

    def to_dict(self) -> dict:
        """The JSON shape served by ``GET /questionnaire`` (option values are 1-based)."""
        return {
            "version": self.version,
            "title": self.title,
            "intro": self.intro,
            "questions": [
                {
                    "id": q.id,
                    "text": q.text,
                    "options": [{"value": i, "label": label} for i, label in enumerate(q.options, start=OPTION_MIN)],
                }
                for q in self.questions
            ],
        }


@cache
def load_questionnaire() -> Questionnaire:
    raw = json.loads(resources.files("mysfits_api").joinpath("data", "questionnaire.json").read_text("utf-8"))
    questions = tuple(Question(q["id"], q["text"], tuple(q["options"])) for q in raw["questions"])
    if len(questions) != N_QUESTIONS or any(len(q.options) != N_OPTIONS for q in questions):
        raise RuntimeError(f"questionnaire.json must hold {N_QUESTIONS} questions of {N_OPTIONS} options each")
    return Questionnaire(raw["version"], raw["title"], raw["intro"], questions)


def validate_answers(entry: object, field: str = "entry") -> tuple[int, ...]:
    """Return the answers as a tuple of ints, or raise :class:`InvalidAnswers`.

    Booleans and floats are refused even when they look like whole numbers
    (``True`` or ``3.0``): a client sending them has a bug we should surface,
    not paper over.
    """
    if not isinstance(entry, (list, tuple)):
        raise InvalidAnswers(field, f"a list of {N_QUESTIONS} integers", entry)
    if len(entry) != N_QUESTIONS:
        raise InvalidAnswers(field, f"exactly {N_QUESTIONS} answers", entry)
    allowed = f"an integer from {OPTION_MIN} to {OPTION_MAX}"
    for i, value in enumerate(entry):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswers(f"{field}[{i}]", allowed, value)
        if not OPTION_MIN <= value <= OPTION_MAX:
            raise InvalidAnswers(f"{field}[{i}]", allowed, value)
    return tuple(entry)


def cell_index(answers: tuple[int, ...] | list[int]) -> int:
    """Position of a valid answer vector in the 8**5 answer space (row-major, first answer most significant)."""
    index = 0
    for value in answers:
        index = index * N_OPTIONS + (value - OPTION_MIN)
    return index


N_CELLS = N_OPTIONS**N_QUESTIONS

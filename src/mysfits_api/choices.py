"""What the data loop stores: each recommendation the API made, and the Mysfit a visitor adopted after it.

One small interface, two stores: DynamoDB on AWS (the Lambda writes it) and SQLite on one machine (the local
stack writes it). Both pass the same contract tests, so the handler, ``mysfits choices`` and ``mysfits retrain``
never know which one they hold. Nothing here identifies a visitor: no address, agent or cookie is ever stored.
Standard library only, so the Lambda package stays small.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

CHOICE_WINDOW_SECONDS = 24 * 60 * 60
"""A recommendation can be adopted for a day. Later, its answers may no longer describe the visitor who chose."""
CLOCK_SKEW_SECONDS = 5
"""How far ahead of the adopting instance's clock a recommendation may be dated (another instance's clock, with
times stored to the second). Anything later was not made by this API, and cannot be adopted."""


class StoreError(Exception):
    """Base of what a store raises; the handler maps each kind to one HTTP status."""


class StoreUnavailable(StoreError):
    """The store cannot take or give data now (down, throttled, full disk, read-only): the client may retry."""


class UnknownRecommendation(StoreError):
    """No recommendation has this id, or it is older than the choice window."""


class AlreadyChosen(StoreError):
    """A choice was already recorded for this recommendation; a recommendation is adopted at most once."""


@dataclass(frozen=True)
class Recommendation:
    """A recommendation as the API made it. ``answers`` come from here, never from a later request."""

    recommendation_id: str
    answers: tuple[int, ...]
    recommended_mysfit_id: str
    runner_up_mysfit_id: str | None
    model_version: str
    created_at: float
    """Seconds since the epoch, UTC."""
    shown_mysfit_id: str | None = None
    """The Mysfit the page showed first (mysfits_api.exploration). Rows from before exploration always showed the
    recommended one, so None means that and is stored as such."""
    propensity: float = 1.0
    """The probability that the policy shows ``shown`` for these answers: 1.0 where nothing was ever explored."""
    exploration_rate: float = 0.0
    randomized: bool = False
    """The shown Mysfit was drawn uniformly from the twelve rather than taken from the model."""

    def __post_init__(self) -> None:
        if self.shown_mysfit_id is None:
            object.__setattr__(self, "shown_mysfit_id", self.recommended_mysfit_id)

    @property
    def shown(self) -> str:
        return self.shown_mysfit_id or self.recommended_mysfit_id


@dataclass(frozen=True)
class Choice:
    """A visitor adopted ``chosen_mysfit_id`` after ``recommendation``: one row of real training data."""

    choice_id: str
    recommendation: Recommendation
    chosen_mysfit_id: str
    chosen_at: float

    @property
    def accepted(self) -> bool:
        """The visitor adopted the Mysfit the page showed first: what the acceptance rate counts."""
        return self.chosen_mysfit_id == self.recommendation.shown

    @property
    def agrees_with_model(self) -> bool:
        """The adopted Mysfit is the model's own pick, whatever was shown."""
        return self.chosen_mysfit_id == self.recommendation.recommended_mysfit_id


class ChoiceStore(Protocol):
    def save_recommendation(self, recommendation: Recommendation) -> None:
        """Durable on return. Raises StoreUnavailable."""

    def record_choice(self, recommendation_id: str, mysfit_id: str, *, choice_id: str, now: float) -> Choice:
        """Durable on return. Raises UnknownRecommendation, AlreadyChosen or StoreUnavailable."""


class ChoiceReader(Protocol):
    """What ``mysfits choices`` and ``mysfits retrain`` read; the Lambda never needs it."""

    def recommendations(self) -> Iterator[Recommendation]: ...

    def choices(self) -> Iterator[Choice]:
        """Every recorded choice, oldest first."""

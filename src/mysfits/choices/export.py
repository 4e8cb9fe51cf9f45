"""Choices as training rows, in the workshop's format: the five stored answers, then the adopted Mysfit's label."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mysfits.files import write_text_atomic
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Choice, ChoiceReader

Row = tuple[tuple[int, ...], int]


def training_rows(reader: ChoiceReader) -> list[Row]:
    """Every recorded choice, oldest first, as ``(answers, label)``: what ``mysfits retrain`` learns from."""
    return rows_of(reader.choices())


def rows_of(choices: Iterable[Choice]) -> list[Row]:
    label_of = {mysfit_id: label for label, mysfit_id in enumerate(label_ids())}
    rows = []
    for choice in choices:
        label = label_of.get(choice.chosen_mysfit_id)
        if label is None:
            # The API only accepts the twelve; a row naming another came from a foreign writer or an old catalog.
            raise ValueError(
                f"choice {choice.choice_id} names Mysfit {choice.chosen_mysfit_id!r}, which is not in the catalog"
            )
        rows.append((choice.recommendation.answers, label))
    return rows


def write_rows(rows: Iterable[Row], out: str | os.PathLike) -> Path:
    """Atomically, so a failed export never leaves a half-written training file."""
    text = "".join(",".join(map(str, (*answers, label))) + "\n" for answers, label in rows)
    return write_text_atomic(out, text)


EXPOSURE_HEADER = (
    "a1,a2,a3,a4,a5,chosen,shown,model_pick,propensity,exploration_rate,randomized,model_version,choice_id"
)


def exposure_csv(choices: Iterable[Choice]) -> str:
    """Every choice with what the page showed and how (``mysfits choices export --exposure``): the columns the loop
    needs to tell taste from trust, with labels as the training format numbers them and a header naming each."""
    label_of = {mysfit_id: label for label, mysfit_id in enumerate(label_ids())}
    every = list(choices)
    lines = [EXPOSURE_HEADER]
    for choice, (answers, label) in zip(every, rows_of(every), strict=True):
        rec = choice.recommendation
        fields = [
            *answers, label, label_of[rec.shown], label_of[rec.recommended_mysfit_id], repr(rec.propensity),
            repr(rec.exploration_rate), int(rec.randomized), rec.model_version, choice.choice_id,
        ]  # fmt: skip
        lines.append(",".join(map(str, fields)))
    return "\n".join(lines) + "\n"

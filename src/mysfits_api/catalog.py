"""The twelve Mysfits, in label order: label ``i`` is the i-th entry of ``data/catalog.json``.

Ids, names and species match the Mythical Mysfits site, so a ``recommendedMysfit`` id
from this project opens the right profile there. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from mysfits_api.questionnaire import N_QUESTIONS, OPTION_MAX, OPTION_MIN

N_MYSFITS = 12


@dataclass(frozen=True)
class Mysfit:
    label: int
    id: str
    name: str
    species: str
    age: int
    goodevil: str
    lawchaos: str
    description: str
    favourites: tuple[int, ...]

    def profile(self) -> dict:
        """What the API and the page show of a Mysfit (the generator's favourites stay private)."""
        return {
            "id": self.id,
            "name": self.name,
            "species": self.species,
            "age": self.age,
            "goodevil": self.goodevil,
            "lawchaos": self.lawchaos,
            "description": self.description,
        }


@cache
def load_catalog() -> tuple[Mysfit, ...]:
    raw = json.loads(resources.files("mysfits_api").joinpath("data", "catalog.json").read_text("utf-8"))
    mysfits = tuple(
        Mysfit(
            label=label,
            id=m["id"],
            name=m["name"],
            species=m["species"],
            age=m["age"],
            goodevil=m["goodevil"],
            lawchaos=m["lawchaos"],
            description=m["description"],
            favourites=tuple(m["favourites"]),
        )
        for label, m in enumerate(raw["mysfits"])
    )
    if len(mysfits) != N_MYSFITS:
        raise RuntimeError(f"catalog.json must list {N_MYSFITS} Mysfits, found {len(mysfits)}")
    for m in mysfits:
        if len(m.favourites) != N_QUESTIONS or not all(OPTION_MIN <= f <= OPTION_MAX for f in m.favourites):
            raise RuntimeError(f"catalog.json: {m.name} needs {N_QUESTIONS} favourites in {OPTION_MIN}..{OPTION_MAX}")
    return mysfits


def mysfit_for_label(label: int) -> Mysfit:
    """The Mysfit a model label stands for; raises ``LookupError`` for anything outside 0..11."""
    catalog = load_catalog()
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(catalog):
        raise LookupError(f"model label must be an integer from 0 to {len(catalog) - 1}, got {label!r}")
    return catalog[label]


def label_ids() -> list[str]:
    """Label -> Mysfit id, in label order; stored in every model artifact."""
    return [m.id for m in load_catalog()]

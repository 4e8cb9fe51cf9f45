"""`make mutate`'s mutator (tools/mutate): which faults it plants, and where it plants none."""

from __future__ import annotations

import ast
import textwrap

from tools.mutate.mutants import mutate, sites

MODULE = textwrap.dedent(
    '''
    """A docstring."""
    from __future__ import annotations

    import math

    __all__ = ["check"]
    LIMIT = 10
    KIND = "ordinal"
    """An attribute docstring."""


    def check(value: int, name: str = "value") -> int:
        """Why it checks."""
        if value > LIMIT and not math.isnan(value):
            raise ValueError(f"{name} must be at most {LIMIT}, got {value}")
        print("checked")
        return value * 2 if name == "x" else -value
    '''
)


def descriptions() -> list[tuple[int, str]]:
    return [(site.line, site.description) for site in sites(MODULE)]


def test_each_kind_of_fault_is_planted_once_per_site():
    assert descriptions() == [
        (8, "`10` -> `11`"),
        (9, "`ordinal` -> `XXordinalXX`"),
        (13, "`value` -> `XXvalueXX`"),
        (15, "`if` condition negated"),
        (15, "`and` -> `or`"),
        (15, "`>` -> `>=`"),
        (15, "`not` dropped"),
        (16, "`raise` dropped"),
        (17, "call `print` dropped"),
        (18, "conditional expression's test negated"),
        (18, "`==` -> `!=`"),
        (18, "`x` -> `XXxXX`"),
        (18, "`*` -> `/`"),
        (18, "`2` -> `3`"),
        (18, "unary `-` dropped"),
    ]


def test_docstrings_annotations_imports_all_and_messages_are_left_alone():
    described = " ".join(description for _, description in descriptions())
    for untouched in ("docstring", "Why it checks", "annotations", "math", "check", "must be at most", "checked"):
        assert untouched not in described


def test_each_mutant_changes_exactly_its_site_and_is_valid_python():
    original = ast.dump(ast.parse(MODULE))
    for site in sites(MODULE):
        mutant = mutate(MODULE, site.index)
        assert ast.dump(ast.parse(mutant)) != original
    assert "if not (value > LIMIT and (not math.isnan(value))):" in mutate(MODULE, 3).replace("((", "(")
    assert "value >= LIMIT" in mutate(MODULE, 5)
    assert "raise" not in mutate(MODULE, 7)

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


def test_tests_replaces_the_modules_own_tests_for_a_quick_first_pass(monkeypatch, capsys):
    from tools.mutate import __main__ as cli
    from tools.mutate.run import Score
    from tools.mutate.targets import TARGETS

    ran = []

    def fake_run(name, target, root, *, jobs, only):
        ran.append((name, target.tests, jobs, only))
        return Score(name, target.path)

    monkeypatch.setattr(cli, "run_target", fake_run)
    assert cli.main(["retrain", "--tests", "tests/unit/test_retrain_rules.py, tests/unit/test_judge_rules.py"]) == 0
    assert cli.main(["retrain", "--sites", "3,5", "-j", "2"]) == 0
    assert ran == [
        ("retrain", ("tests/unit/test_retrain_rules.py", "tests/unit/test_judge_rules.py"), 1, None),
        ("retrain", TARGETS["retrain"].tests, 2, {3, 5}),
    ]

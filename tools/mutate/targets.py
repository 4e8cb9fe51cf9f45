"""Which modules `make mutate` plants faults in, and the tests that must notice them: kept small and explicit.

Each module maps to the unit tests of its own behaviour, so a mutant's run takes seconds: the suite's slower
integration and end-to-end tests also cover these modules, but a fault the unit tests miss is one to pin with a
unit test. Keys are what ``make mutate MODULES=...`` takes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    path: str
    """The module, relative to the repository."""
    tests: tuple[str, ...]


API = "tests/unit/api"

TARGETS: dict[str, Target] = {
    "adopt": Target("src/mysfits_api/adopt.py", (f"{API}/test_adopt_rules.py", f"{API}/test_choices_api.py")),
    "recommend": Target(
        "src/mysfits_api/recommend.py",
        tuple(
            f"{API}/{name}.py"
            for name in (
                # its own tests first, so most mutants are caught in seconds; then every test of the Lambda
                "test_recommend_rules",
                "test_parse_answers",
                "test_predict_label",
                "test_reasons",
                "test_handler",
                "test_fuzz_handler",
                "test_events_contract",
                "test_encoding_follow",
                "test_exploration_api",
                "test_choices_api",
                "test_adopt_rules",
                "test_encoding_rows",
                "test_import_isolation",
            )
        ),
    ),
    "choices": Target(
        "src/mysfits_api/choices.py",
        (
            f"{API}/test_adopt_rules.py",
            f"{API}/test_choices_api.py",
            "tests/unit/test_choice_stores.py",
            "tests/unit/test_exposure.py",
        ),
    ),
    "encoding": Target(
        "src/mysfits_api/encoding.py",
        (f"{API}/test_encoding_rows.py", f"{API}/test_encoding_follow.py", f"{API}/test_handler.py"),
    ),
    "retrain": Target(
        "src/mysfits/loop/retrain.py",
        # The defences' tests decide promotion with the shift and the caps (Decision.promoted, learning_data).
        (
            "tests/unit/test_retrain_rules.py",
            "tests/unit/test_thinnings.py",
            "tests/unit/test_poisoning_defences.py",
            "tests/unit/test_retrain.py",
        ),
    ),
    "judge": Target("src/mysfits/loop/judge.py", ("tests/unit/test_judge_rules.py",)),
    "choices_store": Target(
        "src/mysfits/local/choices_store.py",
        (
            "tests/unit/test_sqlite_store_settings.py",
            "tests/unit/test_choice_stores.py",
            "tests/unit/test_sqlite_store_faults.py",
        ),
    ),
}

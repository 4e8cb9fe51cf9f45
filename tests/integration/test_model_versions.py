"""Issue 33: every promotion can be undone locally, and `mysfits models list` shows each version with its scores and
its acceptance rate.

The endpoint is the real server over HTTP (``serve_in_thread``), reloading the served file as `mysfits serve` does;
promotions go through ``retrain.promote`` and rollbacks through the `mysfits models rollback` command.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import urllib.parse

import pytest

from mysfits.cli import main
from mysfits.local.choices_store import SqliteChoiceStore
from mysfits.local.endpoint.server import serve_in_thread
from mysfits.loop import retrain
from mysfits.loop.exposure import Follow
from mysfits.loop.judge import Verdict
from mysfits.model import versions
from mysfits.model.artifact import ModelArtifact, load_model, save_model, variant_name
from mysfits_api.catalog import mysfit_for_label
from mysfits_api.choices import Recommendation
from mysfits_api.questionnaire import cell_index
from tests.endpoint_artifacts import make_artifact
from tests.integration.test_endpoint_lifecycle import wait_until

ROWS = ["1,2,3,4,5", "8,8,1,2,7", "3,3,3,3,3", "5,1,8,2,6"]


def _promoted(challenger: ModelArtifact, score: float) -> retrain.Decision:
    verdict = Verdict(
        promoted=True,
        reason="challenger is better",
        choices=400,
        follow=Follow(0.2, 50),
        challenger=score,
        champion=score - 0.05,
        difference=0.05,
        standard_error=0.01,
        confidence=0.95,
        min_gain=0.0,
    )
    challenger = dataclasses.replace(
        challenger,
        metrics={**challenger.metrics, "champion_challenger": retrain.verdict_record(verdict, "before")},
    )
    return retrain.Decision(verdict, 2000, 400, 100, challenger)


class Load:
    """Threads that keep asking the endpoint over HTTP and record every answer's status and variant."""

    def __init__(self, url: str, threads: int = 6):
        parts = urllib.parse.urlsplit(url)
        self.address = (parts.hostname, parts.port)
        self.answers: list[tuple[int, str | None, bytes]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, index: int) -> None:
        connection = http.client.HTTPConnection(*self.address, timeout=10)
        n = index
        try:
            while not self._stop.is_set():
                row = ROWS[n % len(ROWS)]
                n += 1
                connection.request(
                    "POST",
                    "/endpoints/mysfits-knn/invocations",
                    body=row,
                    headers={"Content-Type": "text/csv", "Accept": "application/json"},
                )
                response = connection.getresponse()
                body = response.read()
                with self._lock:
                    self.answers.append(
                        (response.status, response.getheader("X-Amzn-Invoked-Production-Variant"), body)
                    )
        except BaseException as exc:  # noqa: BLE001 - any failure of a request is what the test is about
            with self._lock:
                self.errors.append(exc)
        finally:
            connection.close()

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def seen(self) -> int:
        with self._lock:
            return len(self.answers)


def _serving(endpoint, model: ModelArtifact) -> None:
    wait_until(lambda: endpoint.model.variant == variant_name(model), what=f"{variant_name(model)} to serve")


def _answers_from(endpoint, model: ModelArtifact) -> None:
    """Every row answered by ``model`` itself (its variant and its table), over HTTP."""
    parts = urllib.parse.urlsplit(endpoint.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for row in ROWS:
            connection.request(
                "POST", "/endpoints/mysfits-knn/invocations", body=row, headers={"Content-Type": "text/csv"}
            )
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, body
            assert response.getheader("X-Amzn-Invoked-Production-Variant") == variant_name(model)
            label = model.table[cell_index([int(v) for v in row.split(",")])]
            assert json.loads(body)["predictions"][0]["predicted_label"] == label
    finally:
        connection.close()


def test_promote_twice_and_roll_back_twice_under_load(tmp_path, capsys):
    path = tmp_path / "models" / "mysfits-knn.json"
    save_model(make_artifact(seed=1, rows=400), path)
    history = [load_model(path)]

    with serve_in_thread(str(path), "mysfits-knn", refresh_interval=0.02) as endpoint, Load(endpoint.url) as load:
        wait_until(lambda: load.seen() > 20, what="the load to start")
        for seed, score in ((2, 0.4), (3, 0.5)):
            assert retrain.promote(_promoted(make_artifact(seed=seed, rows=400), score), path) == path
            history.append(load_model(path))
            _serving(endpoint, history[-1])
            _answers_from(endpoint, history[-1])
        names = [variant_name(model) for model in history]
        assert len(set(names)) == 3
        assert [v.name for v in versions.list_versions(path)[0]] == [names[2], names[1], names[0]]

        # Undo the second promotion, then the first, by the command; each earlier model serves in turn.
        for target in (history[1], history[0]):
            before = load.seen()
            assert main(["models", "rollback", variant_name(target), "--model", str(path)]) == 0
            assert path.read_bytes() == (versions.versions_dir(path) / f"{variant_name(target)}.json").read_bytes()
            _serving(endpoint, target)
            _answers_from(endpoint, target)
            wait_until(lambda before=before: load.seen() > before + 20, what="more load on the restored model")

    assert not load.errors, load.errors[:3]
    assert [a for a in load.answers if a[0] != 200] == []
    assert {variant for _status, variant, _body in load.answers} == set(names)
    assert load.answers[-1][1] == names[0]
    out = capsys.readouterr().out
    assert f"now serves {names[1]} (was {names[2]}" in out and f"now serves {names[0]} (was {names[1]}" in out
    # Every version stays kept: the last rollback can itself be undone.
    assert {v.name for v in versions.list_versions(path)[0]} == set(names)


def _store_with(path, served: dict[str, tuple[int, int, int]]) -> None:
    """``served[version] = (recommendations, choices, accepted)``, none of them drawn at random."""
    store = SqliteChoiceStore(path, save_wait_s=5)
    n = 0
    try:
        for version, (made, chosen, accepted) in served.items():
            for i in range(made):
                n += 1
                pick = mysfit_for_label(i % 12).id
                store.save_recommendation(
                    Recommendation(f"r{n}", (1, 2, 3, 4, 5), pick, None, version, 1_800_000_000.0 + n)
                )
                if i < chosen:
                    other = mysfit_for_label((i + 1) % 12).id
                    store.record_choice(f"r{n}", pick if i < accepted else other, choice_id=f"c{n}", now=1.8e9 + n)
    finally:
        store.close()


def test_the_list_shows_scores_and_acceptance_per_version(tmp_path, capsys):
    path = tmp_path / "mysfits-knn.json"
    save_model(make_artifact(seed=1, rows=400), path)
    base = variant_name(load_model(path))
    retrain.promote(_promoted(make_artifact(seed=2, rows=400), 0.4321), path)
    promoted = variant_name(load_model(path))
    store = tmp_path / "choices.sqlite3"
    _store_with(store, {base: (10, 8, 2), promoted: (20, 10, 5)})

    assert main(["models", "list", "--model", str(path), "--choices", str(store)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"serving {promoted}")
    assert "held-out taste accuracy 43.21% on 400 choices (champion then 38.21%)" in lines[0]
    assert "20 recommendations, 10 choices, acceptance 50.0% (50.0% of 10 where the model's pick was shown)" in lines[1]
    assert lines[2].startswith(f"kept    {base}")
    assert "test accuracy" in lines[2]
    assert "10 recommendations, 8 choices, acceptance 25.0%" in lines[3]


def test_rollback_refuses_what_it_cannot_do_and_changes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/choices.sqlite3 here: the list runs without a store
    path = tmp_path / "mysfits-knn.json"
    save_model(make_artifact(seed=1, rows=400), path)
    first = variant_name(load_model(path))
    retrain.promote(_promoted(make_artifact(seed=2, rows=400), 0.4), path)

    assert main(["models", "rollback", "ordinal-000000000000", "--model", str(path)]) == 2
    assert "no kept version 'ordinal-000000000000'" in capsys.readouterr().err
    assert main(["models", "rollback", variant_name(load_model(path)), "--model", str(path)]) == 2
    assert "already the model" in capsys.readouterr().err
    assert main(["models", "rollback", "ordinal-", "--model", str(path)]) == 0, "one kept version: the part names it"
    assert variant_name(load_model(path)) == first
    capsys.readouterr()
    retrain.promote(_promoted(make_artifact(seed=3, rows=400), 0.5), path)
    served = path.read_bytes()
    assert main(["models", "rollback", "ordinal-", "--model", str(path)]) == 2
    assert "names 2 versions" in capsys.readouterr().err

    kept = versions.versions_dir(path) / f"{first}.json"
    kept.write_bytes(kept.read_bytes().replace(b'"k": 10', b'"k": 11'))
    assert main(["models", "rollback", first[-6:], "--model", str(path)]) == 2
    assert path.read_bytes() == served
    assert main(["models", "list", "--model", str(path), "--choices", str(tmp_path / "none.sqlite3")]) == 2
    assert main(["models", "list", "--model", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"not a usable version: {kept}: checksum mismatch" in out
    assert "no recommendations stored" not in out and "(no choices store: acceptance not shown" in out


@pytest.mark.parametrize("present", [False, True])
def test_a_promotion_keeps_the_model_it_replaces_once(tmp_path, present):
    path = tmp_path / "mysfits-knn.json"
    if present:
        save_model(make_artifact(seed=1, rows=400), path)
    replaced = path.read_bytes() if present else None
    retrain.promote(_promoted(make_artifact(seed=2, rows=400), 0.4), path)
    kept = sorted(versions.versions_dir(path).glob("*.json")) if versions.versions_dir(path).exists() else []
    assert [p.read_bytes() for p in kept] == ([replaced] if present else [])

"""``mysfits simulate``: the data loop played through the real local API, to show that the model gets better.

Visitors with hidden tastes (the generator's, ordinal or categorical) arrive at `mysfits serve`, answer, get a
recommendation over HTTP and adopt a Mysfit: the one their hidden taste picks, or with probability ``bias`` the one
the page showed first (real visitors lean towards what they are shown). After each round `mysfits retrain` runs, as
an operator would run it. The model starts where the workshop did: ordinal, trained on uniform random answers,
knowing nothing. Retraining tunes the encoding with k and the sample size, and the API follows the model it serves.
Each round reports the choices so far, the round's acceptance rate (adopted what was shown first), how often the
page showed a drawn Mysfit rather than the model's pick, and the served model's exact expected accuracy on fresh
visitors from the same hidden tastes (no test-set noise), against the Bayes optimum.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mysfits.cli_base import CliError, positive_int
from mysfits.loop import retrain
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import load_model, save_model
from mysfits_api.catalog import label_ids
from mysfits_api.exploration import MAX_RATE

START_ENCODING = "ordinal"
"""The workshop's encoding: answers as numbers on a scale. Retraining may switch to one-hot."""
BASE_ROWS = 100_000
CLIENTS = 8
MISSING_ID_RETRIES = 20
RELOAD_WAIT_S = 1.5
"""The endpoint checks its model file every second; after a promotion the next round waits for the new model."""


@dataclass(frozen=True)
class Round:
    number: int
    choices: int
    acceptance: float
    explored: float
    """Share of the round's recommendations that showed something other than the model's pick."""
    accuracy: float
    bayes: float
    promoted: bool
    seconds: float


@dataclass(frozen=True)
class Run:
    preferences: str
    signal: float
    bias: float
    exploration_rate: float
    rounds: list[Round]
    shuffled_promoted: bool
    shuffled_accuracy: float
    champion_accuracy: float
    start_accuracy: float


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate",
        help="play the data loop through the local API: visitors adopt, retrain runs, accuracy is measured",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--preferences", choices=(ds.ORDINAL, ds.CATEGORICAL, "both"), default="both")
    parser.add_argument("--visitors", type=positive_int, default=20_000, help="visitors in all (default %(default)s)")
    parser.add_argument("--rounds", type=positive_int, default=8, help="retraining rounds (default %(default)s)")
    parser.add_argument("--signal", type=float, default=ds.DEFAULT_SIGNAL, help="strength of the hidden tastes")
    parser.add_argument(
        "--bias", type=float, default=0.0, help="chance that a visitor adopts the recommended Mysfit instead"
    )
    parser.add_argument(
        "--exploration-rate",
        type=float,
        default=None,
        help="share of recommendations that show a drawn Mysfit first (default: template.yaml's ExplorationRate)",
    )
    parser.add_argument(
        "--recombine",
        type=positive_int,
        default=None,
        help="passed to every `mysfits retrain` (default: retrain's own, about a million rows, tuned against off)",
    )
    parser.add_argument("--png", type=Path, help="draw accuracy against choices into this PNG")
    parser.add_argument("--seed", type=int, default=7)
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    if not 0 <= args.bias <= 1:
        raise CliError(f"--bias must be a probability from 0 to 1, got {args.bias}")
    if args.exploration_rate is not None and not 0 <= args.exploration_rate <= MAX_RATE:
        raise CliError(f"--exploration-rate must be from 0 to {MAX_RATE}, got {args.exploration_rate}")
    modes = (ds.ORDINAL, ds.CATEGORICAL) if args.preferences == "both" else (args.preferences,)
    runs = []
    for preferences in modes:
        print(f"== {preferences} tastes, signal {args.signal}, bias {args.bias}", flush=True)
        runs.append(
            simulate(
                preferences,
                visitors=args.visitors,
                rounds=args.rounds,
                signal=args.signal,
                bias=args.bias,
                exploration_rate=args.exploration_rate,
                recombine=args.recombine,
                seed=args.seed,
                report=lambda line: print(line, flush=True),
            )
        )
    if args.png:
        write_png(runs, args.png)
        print(f"wrote {args.png}")
    return 0


def simulate(
    preferences: str,
    *,
    visitors: int,
    rounds: int,
    signal: float = ds.DEFAULT_SIGNAL,
    bias: float = 0.0,
    exploration_rate: float | None = None,
    seed: int = 7,
    base_rows: int = BASE_ROWS,
    tune: bool = True,
    recombine: int | None = None,
    report=print,
) -> Run:
    encoding = START_ENCODING
    rate = template_exploration_rate() if exploration_rate is None else exploration_rate
    bayes = ds.bayes_accuracy(signal, preferences)
    rng = np.random.default_rng(seed)
    ids = label_ids()
    with tempfile.TemporaryDirectory(prefix="mysfits-simulate-") as tmp:
        work = Path(tmp)
        base_path, model_path, store = work / "base.csv", work / "model.json", work / "choices.sqlite3"
        base = ds.generate(base_rows, seed=seed, signal=0.0)
        ds.write_csv(base, base_path, metadata={"generator": "mysfits.model.dataset", "seed": seed, "signal": 0.0})
        save_model(training.train_model(base, seed=seed, encoding=encoding), model_path)
        start_accuracy = _accuracy(model_path, signal, preferences)
        report(
            f"start: the {encoding} model, trained on {base_rows:,} uniform random rows; "
            f"expected accuracy {start_accuracy:.2%}, Bayes {bayes:.2%}"
        )
        history: list[Round] = []
        per_round = -(-visitors // rounds)
        seen = 0
        with _stack(model_path, base_path, store, work, rate) as url:
            for number in range(1, rounds + 1):
                started = time.perf_counter()
                batch = ds.generate(min(per_round, visitors - seen), seed=seed * 1000 + number, signal=signal,
                                    preferences=preferences)  # fmt: skip
                seen += batch.rows
                leaning = rng.random(batch.rows) < bias
                accepted, explored = _visit(url, batch, leaning, ids)
                promoted = _retrain(base_path, store, model_path, tune, recombine)
                if promoted:
                    time.sleep(RELOAD_WAIT_S)
                history.append(
                    Round(
                        number,
                        seen,
                        accepted / batch.rows,
                        explored / batch.rows,
                        _accuracy(model_path, signal, preferences),
                        bayes,
                        promoted,
                        time.perf_counter() - started,
                    )
                )
                last = history[-1]
                report(
                    f"round {number}: {last.choices:>6,} choices, acceptance {last.acceptance:6.2%}, "
                    f"explored {last.explored:5.2%}, "
                    f"held-out accuracy {last.accuracy:6.2%} (Bayes {bayes:.2%}, "
                    f"gap {(bayes - last.accuracy) * 100:.2f} pts), {'promoted' if promoted else 'kept'}, "
                    f"{last.seconds:.0f} s"
                )
        shuffled = _shuffled_challenge(store, base_path, model_path, seed, tune, recombine)
        verdict = shuffled.verdict
        report(
            f"a challenger trained on shuffled labels scored {verdict.challenger:.2%} against the "
            f"champion's {verdict.champion:.2%}: {'PROMOTED' if verdict.promoted else 'not promoted'}"
        )
    return Run(preferences, signal, bias, rate, history, verdict.promoted, verdict.challenger,
               verdict.champion, start_accuracy)  # fmt: skip


def template_exploration_rate() -> float:
    """The rate `mysfits serve` applies when nothing overrides it: template.yaml's ExplorationRate default."""
    from mysfits.local.gateway.template import TemplateSyntaxError, load_template

    template = Path("template.yaml")
    if not template.is_file():
        raise CliError(
            f"no template.yaml in {Path.cwd()}: the exploration rate is its ExplorationRate default, so run mysfits "
            "simulate from the project's folder, or pass --exploration-rate"
        )
    try:
        return float(load_template(template)["Parameters"]["ExplorationRate"]["Default"])
    except TemplateSyntaxError as exc:
        raise CliError(f"{exc}; or pass --exploration-rate") from None


def _accuracy(model_path: Path, signal: float, preferences: str) -> float:
    table = np.frombuffer(load_model(model_path).table, np.uint8)
    return ds.expected_accuracy(table, signal, preferences)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    source = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([source, *filter(None, [env.get("PYTHONPATH")])])
    return env


@contextlib.contextmanager
def _stack(model: Path, data: Path, store: Path, work: Path, rate: float) -> Iterator[str]:
    """`mysfits serve` on free ports with two gateway workers, as `make run` would start it."""
    port, endpoint_port = _free_port(), _free_port()
    command = [
        sys.executable, "-m", "mysfits", "serve", "--model", str(model), "--data", str(data), "--choices", str(store),
        "--port", str(port), "--endpoint-port", str(endpoint_port), "--quiet", "--workers", "2",
        "--parameter-overrides", f"ExplorationRate={rate}",
        # Every visitor posts from 127.0.0.1, thousands a minute: a load test from one address.
        "--client-limit", "off",
    ]  # fmt: skip
    log = (work / "serve.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=_child_env())  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise CliError(f"mysfits serve did not start:\n{(work / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/questionnaire")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def post(connection: http.client.HTTPConnection, path: str, body: dict, attempts: int = 20) -> tuple[int, dict]:
    """One call, retried as a well-behaved client does while the API answers 503 with Retry-After (a gateway
    worker is busy, for example while retrain takes the CPU)."""
    for _ in range(attempts):
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read() or b"{}")
        if response.status != 503:
            return response.status, answer
        time.sleep(min(float(response.getheader("Retry-After") or 1), 1.0))
    return response.status, answer


def _recommend(connection: http.client.HTTPConnection, entry: list[int]) -> tuple[int, dict]:
    """A recommendation with its id. The store may not take one in time (a save waits 0.2 s at most, which a busy
    machine can pass); the visitor is then answered without an id, and the simulated visitor asks again."""
    for _ in range(MISSING_ID_RETRIES):
        status, rec = post(connection, "/recommendations", {"entry": entry})
        if status != 200 or "recommendationId" in rec:
            break
        time.sleep(0.05)
    return status, rec


def _visit(address: str, batch: ds.Dataset, leaning: np.ndarray, ids: list[str]) -> tuple[int, int]:
    """Every visitor of the batch recommends then adopts, over HTTP from CLIENTS keep-alive connections. Returns how
    many adopted the Mysfit shown first, and how many were shown a drawn Mysfit rather than the model's pick."""
    host, port = address.split(":")
    accepted = explored = 0
    lock = threading.Lock()

    def client(indices: range) -> None:
        nonlocal accepted, explored
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = drawn = 0
        try:
            for i in indices:
                status, rec = _recommend(connection, batch.X[i].tolist())
                if status != 200 or "recommendationId" not in rec:
                    raise RuntimeError(f"POST /recommendations answered {status}: {rec}")
                chosen = rec["recommendedMysfit"] if leaning[i] else ids[int(batch.y[i])]
                status, body = post(
                    connection, "/choices", {"recommendationId": rec["recommendationId"], "mysfitId": chosen}
                )
                if status != 201:
                    raise RuntimeError(f"POST /choices answered {status}: {body}")
                mine += chosen == rec["recommendedMysfit"]
                drawn += bool(rec.get("explored"))
        finally:
            connection.close()
        with lock:
            accepted += mine
            explored += drawn

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client, range(c, batch.rows, CLIENTS)) for c in range(CLIENTS)]:
            future.result()
    return accepted, explored


def _retrain(base: Path, store: Path, model: Path, tune: bool, recombine: int | None) -> bool:
    command = [sys.executable, "-m", "mysfits", "retrain", "--data", str(base), "--choices", str(store),
               "--model", str(model), *([] if tune else ["--no-tune"]),
               *([] if recombine is None else ["--recombine", str(recombine)])]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=_child_env(), check=False)  # noqa: S603
    if done.returncode != 0:
        if "too few choices" in done.stderr:
            return False
        raise CliError(f"mysfits retrain failed:\n{done.stderr[-2000:]}")
    return "wrote " in done.stdout


def _shuffled_challenge(store: Path, base_path: Path, model_path: Path, seed: int, tune: bool, recombine: int | None):
    """A challenger that learned nothing true (labels shuffled) must lose to the champion the loop produced."""
    from mysfits.local.choices_store import SqliteChoiceStore
    from mysfits_api.choices import Choice

    choices = list(SqliteChoiceStore(store, read_only=True).choices())
    shuffled_ids = [c.chosen_mysfit_id for c in choices]
    np.random.default_rng(seed).shuffle(shuffled_ids)
    fake = [Choice(c.choice_id, c.recommendation, m, c.chosen_at) for c, m in zip(choices, shuffled_ids, strict=True)]
    # Judged on the real held-out choices: only the training side is shuffled.
    learn = [c for c in fake if not retrain.held_out(c)] + [c for c in choices if retrain.held_out(c)]
    return retrain.challenge(
        ds.load_csv(base_path), learn, load_model(model_path), tune=tune, recombine=recombine, seed=seed
    )


def write_png(runs: list[Run], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mysfits.files import write_figure_png

    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=100)
    for run, colour in zip(runs, ("tab:blue", "tab:orange"), strict=False):
        xs = [0] + [r.choices for r in run.rounds]
        ys = [run.start_accuracy * 100] + [r.accuracy * 100 for r in run.rounds]
        axis.plot(xs, ys, marker="o", color=colour, label=f"{run.preferences} tastes: served model")
        axis.axhline(run.rounds[0].bayes * 100, color=colour, linestyle="--", label=f"{run.preferences}: Bayes optimum")
    axis.set_xlabel("visitors' choices so far")
    axis.set_ylabel("expected accuracy on new visitors, %")
    axis.set_title("The data loop: from a model trained on random answers to one trained on choices")
    axis.set_ylim(0, 100)
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    write_figure_png(figure, out)

"""The recommendation Lambda: cold import, per-request overhead, and the size of what `sam build` ships.

Cold imports run in fresh interpreters, interleaved so that load from other processes on the
machine hits every variant alike; the figure is the median. The Lambda-like rows use the real
`sam build` output under python3.13 with a bytecode-compiled boto3 standing in for the runtime's,
and never write bytecode, as on Lambda's read-only /var/task. Per-request overhead runs the real
handler in a child process against a client whose invoke_endpoint returns at once, so the figure
is everything but the endpoint call.

The "before the split" rows build the project as it was at ``LAYOUT_BEFORE`` (the last commit whose Lambda shipped
the whole ``mysfits`` package) from git, in the same run, so the two builds are compared under the same load.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tests import sam_build
from tests.api_support import HANDLER_ENV

ROOT = Path(__file__).resolve().parent.parent
IMPORT_RUNS = 7
LAYOUT_BEFORE = "8b9cd72"
HANDLER_BEFORE = "import mysfits.api.handler"
REQUESTS = 3000

IMPORT_PROBE = """
import json, resource, time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(json.dumps({{"ms": elapsed * 1000, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
BOTO3_ONLY = "import boto3; boto3.client('sagemaker-runtime')"
WITH_POWERTOOLS = BOTO3_ONLY + "; import aws_lambda_powertools.event_handler, aws_lambda_powertools.logging"
HANDLER = "import mysfits_api.handler"

REQUEST_PROBE = """
import io, json, statistics, sys, time
import mysfits_api.handler as handler
from mysfits_api.recommend import parse_answers, predict_label, recommendation_for
from tests.api_support import LambdaContext, answering_client, event_with

class InstantRuntime:
    def invoke_endpoint(self, **_):
        return {"Body": io.BytesIO(b'{"predictions": [{"predicted_label": 3.0}]}')}

handler.logger.registered_handler.setStream(open("/dev/null", "w"))
good = event_with(b'{"entry": [3, 1, 4, 1, 5]}')
bad = event_with(b'{"entry": [3, 1, 9, 1, 5]}')
context = LambdaContext()
instant, real_client = InstantRuntime(), answering_client(lambda answers: 3)

def pure():
    answers = parse_answers(good["body"], is_base64=True)
    json.dumps(recommendation_for(predict_label(instant, "mysfits-knn", answers)))

def through_handler(event, client):
    def call():
        handler.runtime = client
        handler.lambda_handler(event, context)
    return call

def timed(call, n):
    for _ in range(200):
        call()
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return {"median_us": statistics.median(samples) / 1000, "p99_us": samples[int(len(samples) * 0.99)] / 1000}

n = int(sys.argv[1])
print(json.dumps({
    "pure": timed(pure, n),
    "handler_200": timed(through_handler(good, instant), n),
    "handler_400": timed(through_handler(bad, instant), n),
    "handler_botocore": timed(through_handler(good, real_client), n),
}))
"""


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-handler-") as scratch:
        scratch_dir = Path(scratch)
        sections = [_cold_imports(scratch_dir), _per_request(), _package(scratch_dir)]
    return "## Recommendation Lambda (`benchmarks/handler.py`)\n\n" + "\n\n".join(sections)


def _cold_imports(scratch: Path) -> str:
    venv_env = {**os.environ, **HANDLER_ENV, "PYTHONPATH": str(ROOT / "src")}
    variants = {"dev venv, boto3 + client only": (sys.executable, BOTO3_ONLY, venv_env)}
    variants["dev venv, handler"] = (sys.executable, HANDLER, venv_env)
    notes = []
    try:
        artifact = sam_build.sam_build(scratch / "build")
        sdk = sam_build.runtime_sdk(scratch / "sdk")
        stripped = scratch / "stripped"
        shutil.copytree(artifact, stripped, ignore=shutil.ignore_patterns("__pycache__"))
        python313 = sam_build.runtime_python()
        lambda_env = sam_build.runtime_env(artifact, sdk, **HANDLER_ENV)
        variants["Lambda-like, boto3 + client only (baseline)"] = (python313, BOTO3_ONLY, lambda_env)
        variants["Lambda-like, boto3 + client + Powertools imports"] = (python313, WITH_POWERTOOLS, lambda_env)
        variants["Lambda-like, handler as shipped (bytecode compiled)"] = (python313, HANDLER, lambda_env)
        variants["Lambda-like, handler without shipped bytecode"] = (
            python313,
            HANDLER,
            sam_build.runtime_env(stripped, sdk, **HANDLER_ENV),
        )
        before = _build_before(scratch)
        if before is None:
            notes.append(f"No before-the-split row: commit {LAYOUT_BEFORE} is not in this clone's history.")
        else:
            variants[f"Lambda-like, handler as shipped before the split ({LAYOUT_BEFORE})"] = (
                python313,
                HANDLER_BEFORE,
                sam_build.runtime_env(before, sdk, **HANDLER_ENV),
            )
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        notes.append(f"Lambda-like rows skipped: {exc}")
    samples: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(IMPORT_RUNS):
        for name, (python, statement, env) in variants.items():
            samples[name].append(_probe(python, IMPORT_PROBE.format(statement=statement), env))
    medians = {name: statistics.median(s["ms"] for s in runs) for name, runs in samples.items()}
    baseline = medians.get("Lambda-like, boto3 + client only (baseline)", medians["dev venv, boto3 + client only"])
    rows = [
        f"| {name} | {medians[name]:.0f} | {min(s['ms'] for s in runs):.0f} | {max(s['rss_mb'] for s in runs):.0f}"
        f" | {medians[name] - baseline:+.0f} | {medians[name] / baseline:.2f} |"
        for name, runs in samples.items()
    ]
    return "\n".join(
        [
            f"### Cold import (median of {IMPORT_RUNS} fresh interpreters; goal ≤ 300 ms)",
            "",
            "Command: `python -m benchmarks handler`. Time of the import statement inside the child, which",
            "includes creating the sagemaker-runtime client; interpreter start-up is not included.",
            "",
            "| variant | median ms | best ms | peak RSS MB | ms vs baseline | × baseline |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            *(f"\n{note}" for note in notes),
        ]
    )


def _per_request() -> str:
    env = {**os.environ, **HANDLER_ENV, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    figures = _probe(sys.executable, REQUEST_PROBE, env, str(REQUESTS))
    base = figures["pure"]["median_us"]
    labels = {
        "pure": "pure functions only: parse, predict (instant client), body, json.dumps (baseline)",
        "handler_200": "lambda_handler, 200 (Powertools routing, CORS, logger context)",
        "handler_400": "lambda_handler, 400 for entry[2] = 9 (one log line written)",
        "handler_botocore": "lambda_handler, 200, real botocore client answered at before-send",
    }
    rows = [
        f"| {labels[key]} | {value['median_us']:.0f} | {value['p99_us']:.0f} | {value['median_us'] / base:.1f} |"
        for key, value in figures.items()
    ]
    return "\n".join(
        [
            f"### Handler overhead per request ({REQUESTS} calls each, after 200 warm-up; goal ≤ 1 ms)",
            "",
            "| path | median µs | p99 µs | × baseline |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )


def _build_before(scratch: Path) -> Path | None:
    """`sam build` of the project at LAYOUT_BEFORE (its template and src/, from git), or None without that commit."""
    project = scratch / "before"
    project.mkdir()
    archive = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "archive", LAYOUT_BEFORE, "template.yaml", "src"],  # noqa: S607
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(project)], input=archive.stdout, check=True, timeout=120)  # noqa: S603, S607
    return sam_build.sam_build(scratch / "before-build", project)


def _zip_size(artifact: Path, archive: Path) -> int:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file in sorted(artifact.rglob("*")):
            if file.is_file():
                bundle.write(file, file.relative_to(artifact))
    return archive.stat().st_size


def _parts(artifact: Path, ours: str) -> dict[str, int]:
    parts = {
        "our code and data": sam_build.tree_size(artifact / ours),
        "aws_lambda_powertools": sam_build.tree_size(artifact / "aws_lambda_powertools"),
    }
    parts["everything else (jmespath, typing_extensions, metadata)"] = sam_build.tree_size(artifact) - sum(
        parts.values()
    )
    return parts


def _package(scratch: Path) -> str:
    artifact = scratch / "build" / sam_build.FUNCTION
    if not artifact.is_dir():
        return "### `sam build` output\n\nnot built (see the cold-import notes)."
    builds = {"now (`mysfits_api`)": (artifact, "mysfits_api")}
    before = scratch / "before-build" / sam_build.FUNCTION
    if before.is_dir():
        builds[f"before the split ({LAYOUT_BEFORE}, `mysfits`)"] = (before, "mysfits")
    parts = {name: _parts(path, ours) for name, (path, ours) in builds.items()}
    totals = {name: sam_build.tree_size(path) for name, (path, _) in builds.items()}
    zipped = {
        name: _zip_size(path, scratch / f"function-{n}.zip") for n, (name, (path, _)) in enumerate(builds.items())
    }
    names = list(builds)
    rows = [
        f"| {part} | " + " | ".join(f"{parts[name][part] / 1e6:.2f}" for name in names) + " |"
        for part in parts[names[0]]
    ]
    return "\n".join(
        [
            "### `sam build` output (`RecommendationsFunction`, python3.13 arm64, bytecode included)",
            "",
            "| part, MB | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
            *rows,
            "| **total unzipped** | " + " | ".join(f"**{totals[name] / 1e6:.2f}**" for name in names) + " |",
            "| zipped (deflate), as uploaded | " + " | ".join(f"{zipped[name] / 1e6:.2f}" for name in names) + " |",
        ]
    )


def _probe(python: str, code: str, env: dict[str, str], *args: str) -> dict:
    result = subprocess.run(  # noqa: S603
        [python, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])


if __name__ == "__main__":
    print(run())

"""AWS path figures that can be measured offline: what the lazy SageMaker SDK import saves, and why evaluation
through an endpoint sends CSV batches instead of one row per request (measured against the local endpoint, which
speaks the same protocol; a SageMaker endpoint adds network latency per request, so batching matters more there)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
EVAL_ROWS = 3_000


def _import_seconds(statement: str, repeats: int = 3) -> float:
    env = {**os.environ, "PYTHONPATH": SRC, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env=env, capture_output=True)  # noqa: S603
        best = min(best, time.perf_counter() - started)
    return best


def imports() -> list[str]:
    baseline = _import_seconds("pass")
    ours = _import_seconds("import mysfits.aws.train_and_deploy, mysfits.aws.cleanup_cli")
    sdk = _import_seconds("import sagemaker, sagemaker.estimator")
    rows = [
        "| process start + import | seconds (best of 3) | vs `python -c pass` |",
        "|---|---|---|",
        f"| `python -c pass` | {baseline:.2f} | 1.0x |",
        f"| our AWS scripts' modules (SDK not imported) | {ours:.2f} | {ours / baseline:.1f}x |",
        f"| `import sagemaker` (SDK 2.x) | {sdk:.2f} | {sdk / baseline:.1f}x |",
    ]
    return rows


def batching() -> list[str]:
    import boto3

    from mysfits.aws.sagemaker_endpoint import predict_through_endpoint
    from mysfits.local.endpoint.server import serve_in_thread
    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits.model.artifact import save_model

    data = ds.generate(60_000, seed=1)
    model = training.train_model(data, sample_size=20_000)
    test = data.X[:EVAL_ROWS]
    rows = [
        "| rows per request | requests | seconds for 3,000 rows | rows/s | vs 1 row per request |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = save_model(model, Path(tmp) / "m.json")
        with serve_in_thread(str(path), name="mysfits-knn", port=0) as endpoint:
            # The local endpoint ignores credentials, but botocore wants some to sign with.
            dummy = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
            runtime = boto3.client("sagemaker-runtime", endpoint_url=endpoint.url, region_name="us-east-1", **dummy)
            predict_through_endpoint(runtime, "mysfits-knn", test[:10], batch_size=10)  # warm up
            base = None
            for batch in (1, 50, 500):
                started = time.perf_counter()
                predict_through_endpoint(runtime, "mysfits-knn", test, batch_size=batch)
                seconds = time.perf_counter() - started
                base = base or seconds
                requests = -(-EVAL_ROWS // batch)
                rows.append(
                    f"| {batch} | {requests:,} | {seconds:.2f} | {EVAL_ROWS / seconds:,.0f} | {base / seconds:.1f}x |"
                )
    return rows


def run() -> str:
    lines = [
        "## AWS path (offline)",
        "",
        "Command: `python -m benchmarks aws`.",
        "",
        *imports(),
        "",
        "Evaluation through an endpoint (`mysfits.aws.sagemaker_endpoint.predict_through_endpoint`, real boto3",
        "sagemaker-runtime client, local endpoint on loopback):",
        "",
        *batching(),
    ]
    return "\n".join(lines)

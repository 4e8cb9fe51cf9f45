"""The endpoint's runtime path must not pull in the SageMaker SDK (4 s and ~300 MB to import; an optional extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def test_serving_imports_no_sagemaker_sdk():
    code = (
        "import sys; import mysfits.cli, mysfits.local.endpoint.cli, mysfits.local.endpoint.server; "
        "mysfits.cli.build_parser(); "
        "print(sorted(m for m in sys.modules if m == 'sagemaker' or m.startswith('sagemaker.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

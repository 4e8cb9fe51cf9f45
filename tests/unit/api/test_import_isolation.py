"""The Lambda package ships without numpy or the SageMaker SDK, so the handler must import without them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.api_support import HANDLER_ENV, ROOT

BLOCKED = ("numpy", "sagemaker", "pandas", "scipy", "sklearn")

PROBE = textwrap.dedent(
    f"""
    import json, sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {BLOCKED!r}:
                raise ImportError(f"{{name}} is blocked: the Lambda package does not contain it")
            return None

    sys.meta_path.insert(0, Block())
    import mysfits_api.handler
    print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {BLOCKED!r})))
    """
)


def run_probe(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **HANDLER_ENV, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_handler_imports_with_numpy_and_sagemaker_blocked():
    result = run_probe(PROBE)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_the_block_really_blocks():
    result = run_probe(PROBE.replace("import mysfits_api.handler", "import numpy"))
    assert result.returncode != 0
    assert "numpy is blocked" in result.stderr

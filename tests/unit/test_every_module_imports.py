"""Every module of both packages imports in a fresh interpreter, on whichever Python runs the tests.

`make test` also runs this file on Python 3.10, the SageMaker notebook kernel's version: syntax or standard-library
names that 3.10 lacks (``tomllib``, ``datetime.UTC``, ``typing.Self``, ``except*``) fail here, in every module,
not only in the modules some other test happens to reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

_PROBE = """
import importlib, json, pkgutil, traceback
found, failed = [], {}
for package in ("mysfits_api", "mysfits"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if info.name.endswith(".__main__"):
            continue  # runs the command line when imported
        found.append(info.name)
        try:
            importlib.import_module(info.name)
        except BaseException:
            failed[info.name] = traceback.format_exc(limit=3)
print(json.dumps({"found": found, "failed": failed}))
"""

# What the handler module reads at import (template.yaml sets these on Lambda).
_HANDLER_ENV = {
    "SAGEMAKER_ENDPOINT_NAME": "mysfits-knn",
    "MODEL_ENCODING": "ordinal",
    "ALLOWED_ORIGIN": "*",
    "ENDPOINT_READ_TIMEOUT_S": "20",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_every_module_of_both_packages_imports():
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), **_HANDLER_ENV}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["failed"] == {}, "\n".join(report["failed"].values())
    # The walk itself must have found the packages' modules, or the test proves nothing.
    assert {"mysfits_api.handler", "mysfits.model.knn", "mysfits.local.endpoint.server"} <= set(report["found"])

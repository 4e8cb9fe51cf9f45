"""Build the function with the real `sam build`, and load it the way the python3.13 Lambda runtime does.

Shared by tests/templates (does it build and import?) and benchmarks/handler.py (how big, how
fast to import). The runtime brings its own boto3; ``runtime_sdk`` stands in for it with a
bytecode-compiled copy of this environment's boto3 and its dependencies, and nothing else
(no awscrt, no pyOpenSSL), which is what the runtime's site-packages hold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = "RecommendationsFunction"
RUNTIME_PYTHON = "python3.13"
# pyenv's shims only find 3.13 when PYENV_VERSION lists it (see ARCHITECTURE.md); harmless elsewhere.
PYENV_VERSIONS = "3.11.7:3.12.1:3.13.0"
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYENV_VERSION", PYENV_VERSIONS)
    env["SAM_CLI_TELEMETRY"] = "0"
    return env


def sam_cli() -> str:
    beside = Path(sys.executable).with_name("sam")
    found = str(beside) if beside.exists() else shutil.which("sam")
    if not found:
        raise RuntimeError("the SAM CLI is not installed (it is in the dev extras: pip install -e '.[dev]')")
    return found


def runtime_python() -> str:
    found = shutil.which(RUNTIME_PYTHON, path=tool_env().get("PATH"))
    if not found:
        raise RuntimeError(f"{RUNTIME_PYTHON} is not on PATH; `sam build` needs the function's runtime")
    return found


def sam_build(build_dir: Path, project: Path = ROOT, env: dict[str, str] | None = None) -> Path:
    """Run `sam build` on a project's template.yaml into build_dir (outside it); return the function's artifact dir.
    ``env`` replaces :func:`tool_env` (a machine without python3.13, say); SAM's output is kept in build.log."""
    command = [
        sam_cli(), "build", "--template-file", str(project / "template.yaml"),
        "--build-dir", str(build_dir), "--no-cached",
    ]  # fmt: skip
    # cwd outside the project, so nothing lands in the worktree's .aws-sam/.
    result = subprocess.run(
        command, cwd=build_dir.parent, env=env or tool_env(), capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"sam build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    (build_dir.parent / "build.log").write_text(result.stdout + result.stderr)
    return build_dir / FUNCTION


def runtime_sdk(target: Path) -> Path:
    """A bytecode-compiled copy of boto3 and its dependencies, standing in for the runtime's own."""
    import boto3

    packages = Path(boto3.__file__).resolve().parent.parent
    target.mkdir(parents=True, exist_ok=True)
    for name in SDK_PACKAGES:
        source = packages / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    subprocess.run(
        [runtime_python(), "-m", "compileall", "-q", "-j", "0", str(target)],
        env=tool_env(), check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return target


def runtime_env(artifact: Path, sdk: Path, **extra: str) -> dict[str, str]:
    """The environment of a cold Lambda: the package first on the path, then the runtime's SDK.

    Bytecode is never written, as on Lambda's read-only /var/task: what is not shipped
    compiled is compiled again on every cold start.
    """
    env = tool_env()
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONPYCACHEPREFIX", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        env.pop(name, None)
    env.update(PYTHONPATH=f"{artifact}{os.pathsep}{sdk}", PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1")
    env.update(extra)
    return env


def tree_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())

"""Write events/*.json: API Gateway proxy events from `sam local generate-event`, for `sam local invoke -e` and tests.

Generated rather than hand-written so they carry exactly what SAM sends (a base64 body with
``isBase64Encoded: true``, the sample headers and request context). The only edit is on the
preflight: SAM cannot add headers, and a preflight without ``Origin`` and
``Access-Control-Request-Method`` is not one, so those two are added after generation.

    python scripts/generate_events.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = "v1"
PREFLIGHT_ORIGIN = "https://mysfits.example.com"


@dataclass(frozen=True)
class EventSpec:
    name: str
    method: str
    path: str
    body: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)


EVENTS = (
    EventSpec("post-recommendation", "POST", "/recommendations", '{"entry": [3, 1, 4, 1, 5]}'),
    EventSpec("post-recommendation-out-of-range", "POST", "/recommendations", '{"entry": [3, 1, 9, 1, 5]}'),
    EventSpec("post-recommendation-wrong-length", "POST", "/recommendations", '{"entry": [3, 1, 4]}'),
    EventSpec("post-recommendation-wrong-type", "POST", "/recommendations", '{"entry": ["3", 1, 4, 1, 5]}'),
    EventSpec("post-recommendation-missing-entry", "POST", "/recommendations", '{"answers": [3, 1, 4, 1, 5]}'),
    EventSpec("post-recommendation-not-json", "POST", "/recommendations", "entry=3,1,4,1,5"),
    EventSpec(
        "post-recommendation-oversized",
        "POST",
        "/recommendations",
        json.dumps({"entry": [3, 1, 4, 1, 5], "note": "x" * 2000}),
    ),
    # A well-formed choice; its recommendation id exists only where a test has stored it first.
    EventSpec(
        "post-choice",
        "POST",
        "/choices",
        '{"recommendationId": "0d9b6a57-3c51-4f44-9b7e-2f1c1a6e8a11", '
        '"mysfitId": "2b473002-36f8-4b87-954e-9a377e0ccbec"}',
    ),
    EventSpec(
        "post-choice-unknown-mysfit",
        "POST",
        "/choices",
        '{"recommendationId": "0d9b6a57-3c51-4f44-9b7e-2f1c1a6e8a11", "mysfitId": "not-a-mysfit"}',
    ),
    EventSpec("get-questionnaire", "GET", "/questionnaire"),
    EventSpec(
        "options-recommendations-preflight",
        "OPTIONS",
        "/recommendations",
        extra_headers={"Origin": PREFLIGHT_ORIGIN, "Access-Control-Request-Method": "POST"},
    ),
)


def sam_executable() -> str:
    """The SAM CLI next to this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("sam")
    found = str(beside) if beside.exists() else shutil.which("sam")
    if not found:
        raise SystemExit("sam not found: install the dev extras (pip install -e '.[dev]') or the AWS SAM CLI")
    return found


def generate(spec: EventSpec, sam: str) -> dict:
    command = [
        sam, "local", "generate-event", "apigateway", "aws-proxy",
        "--method", spec.method, "--path", spec.path.lstrip("/"), "--resource", spec.path,
        "--stage", STAGE, "--body", spec.body,
    ]  # fmt: skip
    # Run outside the project so samconfig.toml cannot change the output.
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:5])} failed for {spec.name}:\n{result.stderr}")
    event = json.loads(result.stdout)
    for name, value in spec.extra_headers.items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these are ordinary project files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "events", help="directory to write to (default: events/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sam = sam_executable()
    for spec in EVENTS:
        write_atomically(args.out / f"{spec.name}.json", json.dumps(generate(spec, sam), indent=2) + "\n")
        print(f"wrote {args.out / spec.name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

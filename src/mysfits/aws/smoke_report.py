"""The smoke run's report: what ran, how long each step took, what it found, in a form fit to attach to an issue.

One record feeds both files, so the Markdown and the JSON never disagree. Account ids are redacted from every string
on the way out (ARNs, role names, bucket names and URLs carry them), whatever step put them there.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

PASSED, FAILED, SKIPPED, INTERRUPTED = "passed", "failed", "skipped", "interrupted"
REDACTED = "<account>"
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def redact(text: str, account: str | None = None) -> str:
    """Replace the account id, and any other 12-digit run (AWS account ids are 12 digits), with a placeholder."""
    if account:
        text = text.replace(account, REDACTED)
    return _TWELVE_DIGITS.sub(REDACTED, text)


def _redact_strings(value: object, account: str | None) -> object:
    """``redact`` on every string (keys too) of a JSON-ready value, and on nothing else: run over the dumped text, it
    also caught a float that happened to print 12 digits in a row (a step's seconds), and broke the JSON."""
    if isinstance(value, str):
        return redact(value, account)
    if isinstance(value, dict):
        return {redact(str(key), account): _redact_strings(item, account) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_strings(item, account) for item in value]
    return value


@dataclass
class Check:
    """One prerequisite or one client-side check: its name, whether it held, and the line a person reads."""

    name: str
    ok: bool
    line: str


@dataclass
class StepRecord:
    name: str
    action: str
    result: str = SKIPPED
    seconds: float = 0.0
    detail: str = ""
    checks: list[Check] = field(default_factory=list)


@dataclass
class Report:
    region: str
    mode: str  # "dry run" or "real run"
    settings: dict[str, str]
    prerequisites: list[Check] = field(default_factory=list)
    cost: list[dict[str, str]] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    latency: dict[str, float] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    others_tagged: list[str] = field(default_factory=list)
    kept_by_design: list[str] = field(default_factory=list)
    outcome: str = ""
    account: str | None = None  # never written out; used to redact

    @property
    def findings(self) -> list[str]:
        """What a passing run shows that AWS's documentation does not state (issue 18, item 9)."""
        if self.outcome != PASSED or "serverless" not in self.settings.get("endpoint", ""):
            return []
        return [
            "SageMaker serverless inference ran the built-in kNN container and answered every check. AWS's docs do "
            "not list which built-in algorithms serverless inference supports; this run is the evidence."
        ]

    @property
    def failed_step(self) -> str | None:
        return next((s.name for s in self.steps if s.result in {FAILED, INTERRUPTED}), None)

    def as_json(self) -> str:
        record = asdict(self)
        record.pop("account")
        record["failed_step"] = self.failed_step
        record["findings"] = self.findings
        return json.dumps(_redact_strings(record, self.account), indent=2) + "\n"

    def as_markdown(self) -> str:
        lines = [
            f"# AWS smoke run: {self.outcome}",
            "",
            f"{self.mode}, region `{self.region}`, account redacted. Failed step: `{self.failed_step or 'none'}`.",
            "",
            *(["## Findings", "", *(f"- {finding}" for finding in self.findings), ""] if self.findings else []),
            "## Settings",
            "",
            *(f"- {key}: `{value}`" for key, value in self.settings.items()),
            "",
            "## Prerequisites",
            "",
            *(f"- {'ok' if c.ok else 'MISSING'} {c.name}: {c.line}" for c in self.prerequisites),
            "",
            "## Expected cost",
            "",
            "| item | estimate | basis |",
            "|---|---:|---|",
            *(f"| {c['item']} | {c['estimate']} | {c['basis']} |" for c in self.cost),
            "",
            "## Steps",
            "",
            "| # | step | result | seconds | detail |",
            "|---:|---|---|---:|---|",
        ]
        for number, step in enumerate(self.steps, 1):
            detail = step.detail.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {number} | {step.name} | {step.result} | {step.seconds:.1f} | {detail} |")
        for step in self.steps:
            if step.checks:
                lines += ["", f"### {step.name}", ""]
                lines += [f"- {'ok' if c.ok else 'FAILED'} {c.name}: {c.line}" for c in step.checks]
        lines += ["", "## What each step does", ""]
        lines += [f"{n}. **{s.name}**: {s.action}" for n, s in enumerate(self.steps, 1)]
        lines += ["", "## Latency", ""]
        if self.latency:
            lines += [f"- {key}: {value:.1f}" for key, value in self.latency.items()]
        else:
            lines.append("- not measured in this run")
        lines += ["", "## Left after teardown", ""]
        lines += [f"- {arn}" for arn in self.leftovers] or ["- nothing of this smoke run was found"]
        if self.others_tagged:
            lines += ["", "Tagged for the project but not made by the smoke run (left alone):", ""]
            lines += [f"- {arn}" for arn in self.others_tagged]
        if self.kept_by_design:
            lines += ["", "Kept on purpose:", ""]
            lines += [f"- {item}" for item in self.kept_by_design]
        return redact("\n".join(lines) + "\n", self.account)

    def write(self, directory: Path, stem: str = "smoke-aws") -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, data = directory / f"{stem}.md", directory / f"{stem}.json"
        markdown.write_text(self.as_markdown(), "utf-8")
        data.write_text(self.as_json(), "utf-8")
        return markdown, data

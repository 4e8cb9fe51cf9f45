"""``python -m tools.mutate [MODULE ...]``: mutation testing of the core modules (``make mutate``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
from pathlib import Path

from tools.mutate.mutants import sites
from tools.mutate.run import SURVIVED, TIMEOUT, BaselineFailed, Score, run_target
from tools.mutate.targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__)
    parser.add_argument("modules", nargs="*", help=f"which modules (default: all): {', '.join(TARGETS)}")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--sites", help="only these site numbers, comma-separated (with one module)")
    parser.add_argument("--list", action="store_true", help="list the mutation sites and run nothing")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--tests",
        help="run the mutants against these test files (comma-separated) instead of the module's own: a quick first "
        "pass with the fast ones, after which --sites runs only its survivors against the full set",
    )
    args = parser.parse_args(argv)
    # SIGTERM (make's, a CI's) unwinds like Ctrl-C, so the test runs in flight are killed and the scratch copy removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [name for part in args.modules for name in part.replace(",", " ").split()] or list(TARGETS)
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; the modules are {', '.join(TARGETS)}")
    only = {int(n) for n in args.sites.split(",")} if args.sites else None
    if only is not None and len(names) != 1:
        parser.error("--sites needs exactly one module")
    if args.list:
        for name in names:
            path = TARGETS[name].path
            for site in sites((ROOT / path).read_text()):
                print(f"{site.index:4d} {path}:{site.line}: {site.description}")
        return 0
    scores: list[Score] = []
    for name in names:
        try:
            target = TARGETS[name]
            if args.tests:
                target = dataclasses.replace(target, tests=tuple(t.strip() for t in args.tests.split(",")))
            scores.append(run_target(name, target, ROOT, jobs=args.jobs, only=only))
        except BaselineFailed as exc:
            print(exc, file=sys.stderr)
            return 2
        print(flush=True)
    print(report(scores))
    if args.json:
        args.json.write_text(json.dumps([_record(s) for s in scores], indent=2) + "\n")
    return 0


def report(scores: list[Score]) -> str:
    lines = ["| module | mutants | killed | timeout | survived | score |", "|---|---:|---:|---:|---:|---:|"]
    for s in scores:
        run = len(s.outcomes)
        killed = run - s.count(SURVIVED) - s.count(TIMEOUT)
        lines.append(f"| `{s.path}` | {run} | {killed} | {s.count(TIMEOUT)} | {s.count(SURVIVED)} | {s.score:.0%} |")
    for s in scores:
        if s.survivors():
            lines.append(f"\nSurvivors in {s.path}:")
            lines.extend(f"  {s.path}:{site.line}: {site.description}  [site {site.index}]" for site in s.survivors())
    return "\n".join(lines)


def _record(score: Score) -> dict:
    return {
        "module": score.path,
        "baseline_s": round(score.baseline_s, 2),
        "outcomes": {str(i): o for i, o in sorted(score.outcomes.items())},
        "survivors": [{"line": s.line, "site": s.index, "mutation": s.description} for s in score.survivors()],
    }


if __name__ == "__main__":
    sys.exit(main())

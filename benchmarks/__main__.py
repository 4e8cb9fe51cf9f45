"""Run every benchmark module and write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import benchmarks

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(_modules())})")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    names = args.names or _modules()
    unknown = sorted(set(names) - set(_modules()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(_modules())}")
    sections = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        section = importlib.import_module(f"benchmarks.{name}").run()
        print(section, flush=True)
        print(f"({name} took {time.perf_counter() - started:.1f} s)\n", flush=True)
        sections.append(section)
    if not args.no_write and not args.names:
        header = (
            "# Benchmarks\n\n"
            f"Produced by `make bench` (`python -m benchmarks`) on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}. "
            "Every ratio compares two figures measured in the same run on the same machine.\n\n"
        )
        OUT.write_text(header + "\n\n".join(sections) + "\n")
        print(f"wrote {OUT}")
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


if __name__ == "__main__":
    sys.exit(main())

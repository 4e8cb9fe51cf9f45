"""Run each mutant of a module in a fresh pytest process against that module's tests, and count what they catch.

The mutant never touches the checkout: the module's whole package is copied into a temporary folder that goes on
``PYTHONPATH`` ahead of ``src`` (the editable install's path entry), and the mutated source is written into that
copy. An interrupted run leaves nothing behind but the temporary folder, which is removed on the way out.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue

from tools.mutate.mutants import Site, mutate, sites
from tools.mutate.targets import Target

PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0", "--no-header")
"""Each run also gets ``-o pythonpath=<the copy>``: pyproject's ``pythonpath = ["src"]`` would otherwise put the
checkout's own modules ahead of the mutated copy (``PYTHONPATH`` alone carries it into any subprocess a test starts)."""
KILLED, SURVIVED, TIMEOUT = "killed", "survived", "timeout"
_LIVE: set[subprocess.Popen] = set()
"""Test runs in progress, killed (with their process groups) when the run is interrupted."""


@dataclass
class Score:
    name: str
    path: str
    outcomes: dict[int, str] = field(default_factory=dict)
    sites: list[Site] = field(default_factory=list)
    baseline_s: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)

    @property
    def score(self) -> float:
        run = len(self.outcomes)
        return (run - self.count(SURVIVED)) / run if run else 1.0

    def survivors(self) -> list[Site]:
        return [s for s in self.sites if self.outcomes.get(s.index) == SURVIVED]


class BaselineFailed(RuntimeError):
    """The unmutated module fails its own tests: no mutant could be judged."""


def run_target(
    name: str, target: Target, root: Path, *, jobs: int = 1, only: set[int] | None = None, echo=None
) -> Score:
    echo = echo or (lambda line: print(line, flush=True))
    module = root / target.path
    source = module.read_text()
    package_dir, relative = _package_of(module, root)
    score = Score(name, target.path, sites=sites(source))
    chosen = [s for s in score.sites if only is None or s.index in only]
    with tempfile.TemporaryDirectory(prefix=f"mutate-{name}-") as scratch:
        copies: SimpleQueue[Path] = SimpleQueue()
        for worker in range(max(1, jobs)):
            copy = Path(scratch) / f"w{worker}"
            shutil.copytree(package_dir, copy / package_dir.name, ignore=shutil.ignore_patterns("__pycache__"))
            copies.put(copy)
        first = copies.get()
        started = time.monotonic()
        outcome, output = _pytest(root, first, target.tests, timeout=None)
        score.baseline_s = time.monotonic() - started
        copies.put(first)
        if outcome != SURVIVED:
            raise BaselineFailed(f"{target.path}: its tests fail before any mutation:\n{output[-3000:]}")
        timeout = max(30.0, 3 * score.baseline_s + 10)
        echo(f"{name}: {len(chosen)} mutants, tests {score.baseline_s:.1f} s unmutated, timeout {timeout:.0f} s each")

        def one(site: Site) -> tuple[Site, str]:
            copy = copies.get()
            try:
                planted = copy / package_dir.name / relative
                planted.write_text(mutate(source, site.index))
                try:
                    return site, _pytest(root, copy, target.tests, timeout=timeout)[0]
                finally:
                    planted.write_text(source)
            finally:
                copies.put(copy)

        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            for done, (site, outcome) in enumerate(pool.map(one, chosen), start=1):
                score.outcomes[site.index] = outcome
                if outcome != KILLED:
                    echo(f"  {outcome}: {target.path}:{site.line}: {site.description}  [site {site.index}]")
                if done % 10 == 0:
                    echo(f"  {done} of {len(chosen)} run")
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list(_LIVE):
                _kill_group(process)
            pool.shutdown(wait=True)
    return score


def _package_of(module: Path, root: Path) -> tuple[Path, Path]:
    """The top-level package folder under ``src`` that holds ``module``, and the module's path inside it."""
    inside = module.relative_to(root / "src")
    package = root / "src" / inside.parts[0]
    return package, module.relative_to(package)


def _pytest(root: Path, copy: Path, tests: tuple[str, ...], timeout: float | None) -> tuple[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), env.get("PYTHONPATH")]))
    # The mutant is written over the same file again and again, sometimes within one second and at the same size:
    # a cached bytecode file could then stand in for the new source.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    process = subprocess.Popen(  # noqa: S603 - argv list of our own, no shell
        [sys.executable, *PYTEST, "-o", f"pythonpath={copy}", *tests],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    _LIVE.add(process)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return TIMEOUT, ""
    except BaseException:
        _kill_group(process)
        raise
    finally:
        _LIVE.discard(process)
    return (SURVIVED if process.returncode == 0 else KILLED), output


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()

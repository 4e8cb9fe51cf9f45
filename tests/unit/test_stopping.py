"""A stop (SIGTERM or Ctrl-C) that comes during an import is held until the next checkpoint, never lost there."""

import importlib
import os
import signal
import sys
import time
import uuid

import pytest

from mysfits import stopping
from mysfits.progress import Progress


@pytest.fixture
def installed():
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stopping.install()
    yield
    stopping._pending.clear()
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def interrupted_import(tmp_path, monkeypatch, sig: signal.Signals):
    """Import a module that receives ``sig`` in its body, then goes on; the module, once imported."""
    name = f"signalled_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(
        "import os, signal\n"
        f"os.kill(os.getpid(), signal.{sig.name})\n"
        "TOTAL = sum(range(100_000))  # the handler has run by now\n"
        "FINISHED = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        return importlib.import_module(name)
    except KeyboardInterrupt:
        pytest.fail(f"{sig.name} was raised inside the import, where a compiled module's initialiser may swallow it")
    finally:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_during_an_import_is_raised_at_the_next_checkpoint_and_only_once(installed, tmp_path, monkeypatch, sig):
    module = interrupted_import(tmp_path, monkeypatch, sig)
    assert module.FINISHED
    with pytest.raises(KeyboardInterrupt):
        stopping.checkpoint()
    stopping.checkpoint()  # clean-up after the stop must be able to run its own steps


def test_a_stop_outside_an_import_is_raised_at_once(installed):
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    stopping.checkpoint()  # nothing held back


def test_a_progress_step_does_not_start_after_a_held_stop(installed, tmp_path, monkeypatch):
    interrupted_import(tmp_path, monkeypatch, signal.SIGTERM)
    started = []
    with pytest.raises(KeyboardInterrupt), Progress(stream=None).step("training"):
        started.append(True)
    assert not started


def test_without_a_signal_checkpoints_do_nothing(installed):
    stopping.checkpoint()
    with Progress(stream=None).step("training"):
        pass

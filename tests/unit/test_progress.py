import pytest

from mysfits.progress import Progress


class _SignalAfterEachWrite:
    """A stream that is interrupted (Ctrl-C, or SIGTERM turned into KeyboardInterrupt) just after any write."""

    def __init__(self):
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        raise KeyboardInterrupt

    def flush(self) -> None:
        pass


def test_a_note_interrupted_part_way_still_ends_its_line():
    """Otherwise the CLI's "interrupted" line is appended to the half-written note."""
    stream = _SignalAfterEachWrite()
    with pytest.raises(KeyboardInterrupt):
        Progress(stream).note("training a model")
    assert stream.text == "training a model\n"

"""Benchmarks: scripts that print figures, never assertions.

Each module in this package with a ``run() -> str`` function is one benchmark; ``run``
returns a Markdown section (a heading, a table of figures and ratios against a baseline
measured in the same run). ``python -m benchmarks`` (``make bench``) runs them all and
writes ``docs/benchmarks.md``. ``python -m benchmarks NAME ...`` runs only those.
"""

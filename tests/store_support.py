"""Helpers for tests that move or replace a SQLite choices store's file under it."""

from __future__ import annotations

from mysfits.local.choices_store import SqliteChoiceStore


def settled(store: SqliteChoiceStore) -> None:
    """Wait for the housekeeping a save queued (a checkpoint on a thread of its own, with its own connection). Run
    while a test moves or replaces the file, it opens the path again: a new store where the test expects none, or,
    caught mid-swap with the old store's shared-memory index, a SIGBUS that takes the whole test process down (seen
    once on Python 3.10 in CI)."""
    store._keeper.submit(lambda: None).result(timeout=30)

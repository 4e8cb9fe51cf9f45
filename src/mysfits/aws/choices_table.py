"""Read the deployed choices table (with the operator's credentials; the Lambda itself may only write)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mysfits_api.choices import Choice, Recommendation
from mysfits_api.dynamodb_store import choice_from_item, recommendation_from_item


class DynamoDbChoiceReader:
    """A :class:`~mysfits_api.choices.ChoiceReader` over a paginated Scan. The table is small (one item per
    recommendation), and a full read is what an export is; a consistent read keeps the last minute's choices."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def _items(self) -> Iterator[dict]:
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table, ConsistentRead=True):
            yield from page.get("Items", [])

    def recommendations(self) -> Iterator[Recommendation]:
        return iter(sorted((recommendation_from_item(item) for item in self._items()), key=_created))

    def choices(self) -> Iterator[Choice]:
        found = (choice_from_item(item) for item in self._items())
        return iter(
            sorted((choice for choice in found if choice is not None), key=lambda c: (c.chosen_at, c.choice_id))
        )


def _created(recommendation: Recommendation) -> tuple[float, str]:
    return recommendation.created_at, recommendation.recommendation_id

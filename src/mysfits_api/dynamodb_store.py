"""The choices store on AWS: one DynamoDB item per recommendation, which a choice completes.

The Lambda may only PutItem and UpdateItem on the table (template.yaml), so every rule is a condition that DynamoDB
checks in the same write: a recommendation id is never overwritten, a recommendation is adopted at most once and only
within the choice window. Unchosen items carry ``expiresAt``, the table's TTL attribute, and go after the retention
the template sets; a choice removes it, because chosen items are the training data.
The item format is defined here once; ``mysfits.aws.choices_table`` reads items back with :func:`choice_from_item`.
"""

from __future__ import annotations

from typing import Any

from botocore import exceptions as boto_errors

from mysfits_api.choices import (
    CHOICE_WINDOW_SECONDS,
    CLOCK_SKEW_SECONDS,
    AlreadyChosen,
    Choice,
    Recommendation,
    StoreUnavailable,
    UnknownRecommendation,
)

KEY = "recommendationId"
TTL_ATTRIBUTE = "expiresAt"


def item_of(recommendation: Recommendation, expires_at: int) -> dict:
    item = {
        KEY: {"S": recommendation.recommendation_id},
        "answers": {"S": ",".join(map(str, recommendation.answers))},
        "recommendedMysfitId": {"S": recommendation.recommended_mysfit_id},
        "modelVersion": {"S": recommendation.model_version},
        "createdAt": {"N": repr(recommendation.created_at)},
        TTL_ATTRIBUTE: {"N": str(expires_at)},
        "shownMysfitId": {"S": recommendation.shown},
        "propensity": {"N": repr(recommendation.propensity)},
        "explorationRate": {"N": repr(recommendation.exploration_rate)},
        "randomized": {"BOOL": recommendation.randomized},
    }
    if recommendation.runner_up_mysfit_id:
        item["runnerUpMysfitId"] = {"S": recommendation.runner_up_mysfit_id}
    return item


def recommendation_from_item(item: dict) -> Recommendation:
    return Recommendation(
        recommendation_id=item[KEY]["S"],
        answers=tuple(int(a) for a in item["answers"]["S"].split(",")),
        recommended_mysfit_id=item["recommendedMysfitId"]["S"],
        runner_up_mysfit_id=item.get("runnerUpMysfitId", {}).get("S"),
        model_version=item["modelVersion"]["S"],
        created_at=float(item["createdAt"]["N"]),
        # Items written before exploration existed lack these: they always showed the recommended Mysfit.
        shown_mysfit_id=item.get("shownMysfitId", {}).get("S"),
        propensity=float(item.get("propensity", {}).get("N", "1.0")),
        exploration_rate=float(item.get("explorationRate", {}).get("N", "0.0")),
        randomized=bool(item.get("randomized", {}).get("BOOL", False)),
    )


def choice_from_item(item: dict) -> Choice | None:
    """The item's choice, or None while the recommendation is unchosen."""
    if "chosenMysfitId" not in item:
        return None
    return Choice(
        choice_id=item["choiceId"]["S"],
        recommendation=recommendation_from_item(item),
        chosen_mysfit_id=item["chosenMysfitId"]["S"],
        chosen_at=float(item["chosenAt"]["N"]),
    )


class DynamoDbChoiceStore:
    """Writes through an injected ``dynamodb`` client (created once per container by the handler)."""

    def __init__(self, client: Any, table: str, retention_seconds: int):
        self.client = client
        self.table = table
        self.retention_seconds = retention_seconds

    def save_recommendation(self, recommendation: Recommendation) -> None:
        expires = int(recommendation.created_at) + self.retention_seconds
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item_of(recommendation, expires),
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": KEY},
            )
        except (boto_errors.ClientError, boto_errors.BotoCoreError) as exc:
            # A uuid4 collision is as unlikely as it gets; any refusal here means the store cannot take the write.
            raise StoreUnavailable(f"DynamoDB table {self.table}: {_cause(exc)}") from exc

    def record_choice(self, recommendation_id: str, mysfit_id: str, *, choice_id: str, now: float) -> Choice:
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key={KEY: {"S": recommendation_id}},
                UpdateExpression="SET choiceId = :choice, chosenMysfitId = :mysfit, chosenAt = :now REMOVE #ttl",
                ConditionExpression=(
                    "attribute_exists(#key) AND attribute_not_exists(chosenMysfitId) AND createdAt >= :cutoff "
                    "AND createdAt <= :latest"
                ),
                ExpressionAttributeNames={"#key": KEY, "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":choice": {"S": choice_id},
                    ":mysfit": {"S": mysfit_id},
                    ":now": {"N": repr(now)},
                    ":cutoff": {"N": repr(now - CHOICE_WINDOW_SECONDS)},
                    ":latest": {"N": repr(now + CLOCK_SKEW_SECONDS)},
                },
                ReturnValues="ALL_NEW",
                # Says which condition failed without a read (the function has no GetItem).
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except boto_errors.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise _refusal(recommendation_id, exc.response.get("Item"), now) from exc
            raise StoreUnavailable(f"DynamoDB table {self.table}: {_cause(exc)}") from exc
        except boto_errors.BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB table {self.table}: {_cause(exc)}") from exc
        choice = choice_from_item(response["Attributes"])
        assert choice is not None  # the update just set it
        return choice


def _refusal(recommendation_id: str, old: dict | None, now: float) -> Exception:
    if old is None:
        return UnknownRecommendation(f"no recommendation {recommendation_id}")
    if "chosenMysfitId" in old:
        return AlreadyChosen(f"recommendation {recommendation_id} was adopted already")
    if float(old.get("createdAt", {}).get("N", "0")) > now + CLOCK_SKEW_SECONDS:
        return UnknownRecommendation(f"recommendation {recommendation_id} is dated in the future")
    return UnknownRecommendation(f"recommendation {recommendation_id} is older than the choice window")


def _cause(exc: Exception) -> str:
    if isinstance(exc, boto_errors.ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '')}: {error.get('Message', '')}"
    return str(exc)

"""The API stack's choices table, found with or without its stack.

The table outlives its stack (DeletionPolicy RetainExceptOnCreate), so after ``cleanup --delete-stacks`` the stack's
ChoicesTableName output is gone while the table still bills. CloudFormation names it ``<stack>-ChoicesTable-<suffix>``
and template.yaml tags it with the project tag, so it is found as the SageMaker resources are: by name prefix first
(ListTables, then only this project's tables are asked for their tags), then by tag.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, cleanup

CHOICES_TABLE_OUTPUT = "ChoicesTableName"
LOGICAL_ID = "ChoicesTable"


def tagged_tables(dynamodb, api_stack: str) -> list[str]:
    """Tables named ``<api_stack>-ChoicesTable-...`` that carry the project tag, whether or not a stack owns them."""
    prefix = f"{api_stack}-{LOGICAL_ID}-"
    names = [
        name
        for page in dynamodb.get_paginator("list_tables").paginate()
        for name in page["TableNames"]
        if name.startswith(prefix)
    ]
    found = []
    for name in names:
        try:
            arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
            tags = dynamodb.list_tags_of_resource(ResourceArn=arn).get("Tags", [])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                continue  # deleted meanwhile
            raise
        if {"Key": PROJECT_TAG_KEY, "Value": PROJECT_TAG_VALUE} in tags:
            found.append(name)
    return found


def live_table(cfn, api_stack: str) -> str | None:
    """The table the API stack uses now, from its output; None when the stack does not exist."""
    if cleanup.stack_status(cfn, api_stack) is None:
        return None
    return cleanup.stack_outputs(cfn, api_stack).get(CHOICES_TABLE_OUTPUT)


def choices_table(cfn, dynamodb, api_stack: str) -> tuple[str, str]:
    """(table, where it was found): the live stack's, else the one table its earlier copies left; ValueError when
    there is none, or several to choose from."""
    live = live_table(cfn, api_stack)
    if live:
        return live, f"stack {api_stack}'s {CHOICES_TABLE_OUTPUT} output"
    kept = tagged_tables(dynamodb, api_stack)
    if len(kept) == 1:
        return kept[0], f"kept after stack {api_stack} was deleted (found by its name and tag)"
    if not kept:
        raise ValueError(f"stack {api_stack} does not exist and no table of its is left; deploy the API first")
    raise ValueError(
        f"stack {api_stack} does not exist and left {len(kept)} tables: {', '.join(kept)}; name one with "
        "--choices-table NAME"
    )

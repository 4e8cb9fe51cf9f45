"""What a stack left by an earlier run means for the next deploy: a failed first create is deleted before SAM
tries again, and API Gateway's account-wide logging role is looked up rather than replaced.

SAM treats any stack that exists as one to update (``Deployer.has_stack`` only skips REVIEW_IN_PROGRESS), and
CloudFormation refuses to update a stack in ROLLBACK_COMPLETE: the only way on is to delete it. SAM does that itself
with ``--on-failure DELETE``, which the scripts pass; a stack left by a hand ``sam deploy`` without it, or by a run
that was stopped, is deleted here, saying so.
"""

from __future__ import annotations

from collections.abc import Callable

from mysfits.aws.cleanup import delete_stack, stack_status
from mysfits.cli_base import CliError

FAILED_CREATE = "ROLLBACK_COMPLETE"
LOGGING_ROLE_PARAMETER = "CreateApiGatewayLoggingRole"


def clear_failed_create(cfn, stack: str, say: Callable[[str], None], sleep: Callable[[float], None]) -> bool:
    """Delete ``stack`` when its first create failed (ROLLBACK_COMPLETE); True when it did. A stack that is busy
    (any ``*_IN_PROGRESS``) stops the run: deploying into it would fail, and waiting is the user's call."""
    found = stack_status(cfn, stack)
    status = found and found["StackStatus"]
    if status and status.endswith("_IN_PROGRESS"):
        raise CliError(f"stack {stack} is {status}: another deploy or delete is running; run again once it has ended")
    if status != FAILED_CREATE:
        return False
    reason = found.get("StackStatusReason", "")
    say(
        f"  stack {stack} is {FAILED_CREATE}: its first create failed and was rolled back"
        + (f" ({reason})" if reason else "")
        + ". CloudFormation can neither update nor recreate such a stack, so it is deleted now and created afresh"
    )
    delete_stack(cfn, stack, lambda line: say(f"  {line}"), sleep=sleep)
    return True


def logging_role_choice(cfn, apigateway, stack: str, configured: str | None) -> tuple[str, str]:
    """(value of CreateApiGatewayLoggingRole, why). The setting is one per account and region, shared by every REST
    API there, so a role that is already set is left alone: samconfig's own value wins, then the deployed stack's
    (keeping what it created), then apigateway:GetAccount (true only when no role is set)."""
    if configured:
        return configured, f"{LOGGING_ROLE_PARAMETER}={configured} from samconfig.toml"
    found = stack_status(cfn, stack)
    deployed = {p["ParameterKey"]: p.get("ParameterValue") for p in (found or {}).get("Parameters", [])}
    if deployed.get(LOGGING_ROLE_PARAMETER) in {"true", "false"}:
        value = deployed[LOGGING_ROLE_PARAMETER]
        return value, f"{LOGGING_ROLE_PARAMETER}={value}, as stack {stack} was deployed"
    role = apigateway.get_account().get("cloudwatchRoleArn")
    if role:
        return "false", f"API Gateway's logging role for this region is already {role}; it is left as it is"
    return "true", "this region has no API Gateway logging role yet; the stack creates one and sets it"

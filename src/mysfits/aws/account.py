"""What both AWS commands check before they call AWS, and how they report a failed call: region, credentials."""

from __future__ import annotations

import os

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mysfits.cli_base import CliError


def resolve_region(flag: str | None) -> str:
    """The region, checked against botocore's own list, so a typo fails here and not as a DNS error later."""
    session = botocore.session.get_session()
    region = flag or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    region = region or session.get_config_variable("region")
    if not region:
        raise CliError("no AWS region: pass --region (for example --region eu-west-1) or set AWS_REGION")
    known = {r for p in session.get_available_partitions() for r in session.get_available_regions("sagemaker", p)}
    if region not in known:
        raise CliError(f"unknown region {region!r}: it is not one where SageMaker runs (for example eu-west-1)")
    return region


NO_CREDENTIALS = "no AWS credentials found: run `aws configure` or set AWS_PROFILE"


def caller_account(sts, hint: str = "") -> str:
    """The account the credentials belong to; a missing or rejected credential is one line (``hint`` appended)."""
    try:
        return sts.get_caller_identity()["Account"]
    except NoCredentialsError:
        raise CliError(NO_CREDENTIALS + hint) from None
    except ClientError as exc:
        raise CliError(f"AWS rejected the credentials: {exc.response['Error']['Message']}") from None


def aws_failure(exc: ClientError | BotoCoreError) -> str:
    """One line for a failed AWS call: which operation, AWS's error code and its message."""
    if isinstance(exc, ClientError):
        error = exc.response["Error"]
        return f"AWS refused {exc.operation_name}: {error['Code']}: {error['Message']}"
    return str(exc)

"""The pieces of the Lambda runtime a handler can observe: its environment, context and import path.

Handlers create their AWS clients and loggers at import time from environment variables,
so a function's environment (the template's variables plus what Lambda itself sets) is
applied *before* its module is imported. There is one process environment: with several
functions, a variable one function sets is still set when the next is imported, and every
handler sees the last value at run time. That is exact for this project's one function;
a template with several would need a process per function. The AWS settings point boto3
at the local endpoint with dummy credentials, in the gateway's process only, never in the
user's shell or files.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mysfits.local.gateway.intrinsics import LOCAL_PSEUDO_PARAMETERS
from mysfits.local.gateway.template import Function

Handler = Callable[[dict, object], object]

# Anything that could make boto3 look for real credentials, a profile or IMDS goes away locally.
_REMOVED_AWS_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class HandlerImportError(RuntimeError):
    """The template's ``Handler`` cannot be imported or does not name a callable."""


def local_aws_environment(sagemaker_runtime_url: str, region: str = "us-east-1") -> dict[str, str | None]:
    """Settings that send the handler's ``sagemaker-runtime`` client to the local endpoint, never to AWS."""
    return {
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": sagemaker_runtime_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local-dummy-key",
        "AWS_SECRET_ACCESS_KEY": "local-dummy-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        # No CloudWatch here to read the function's EMF lines: `mysfits choices stats` is the local view of them.
        "POWERTOOLS_METRICS_DISABLED": "true",
        **dict.fromkeys(_REMOVED_AWS_VARIABLES),
    }


def function_environment(function: Function) -> dict[str, str]:
    """What Lambda sets for a function (as ``sam local`` does), then the template's own variables."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(function.timeout_s)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_SAM_LOCAL": "true",
        "LAMBDA_TASK_ROOT": str(function.code_uri),
        "_HANDLER": function.handler,
        **function.environment,
    }


def apply_environment(values: Mapping[str, str | None]) -> None:
    """Set (or, for ``None``, remove) variables in this process's environment."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def load_handler(function: Function) -> Handler:
    """Import ``module.function`` the way Lambda does: with the function's code directory on the path.

    Lambda puts the task root (the CodeUri's contents) first on ``sys.path``; doing the same
    here is what lets a template point at any code directory, not only the installed package.
    """
    module_name, _, attribute = function.handler.rpartition(".")
    code_root = str(function.code_uri)
    if not function.code_uri.is_dir():
        raise HandlerImportError(f"{function.logical_id}: CodeUri {code_root} is not a directory")
    if code_root not in sys.path:
        sys.path.insert(0, code_root)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerImportError(
            f"{function.logical_id}: cannot import {module_name!r} from CodeUri {code_root}: {exc}"
        ) from exc
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise HandlerImportError(f"{function.logical_id}: {module_name} has no callable {attribute!r}")
    source = Path(getattr(module, "__file__", "") or "").resolve()
    if not source.is_relative_to(function.code_uri):
        warnings.warn(
            f"{function.logical_id}: {module_name} was imported from {source}, outside CodeUri {code_root}",
            stacklevel=2,
        )
    return handler


@dataclass
class LambdaContext:
    """The attributes and method of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str
    timeout_s: float
    function_version: str = "$LATEST"
    identity: object = None
    client_context: object = None
    _deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        region, account = LOCAL_PSEUDO_PARAMETERS["AWS::Region"], LOCAL_PSEUDO_PARAMETERS["AWS::AccountId"]
        return f"arn:aws:lambda:{region}:{account}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

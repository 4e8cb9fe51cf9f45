"""A recorder of every AWS API call made in this process, whichever session or library makes it.

The IAM coverage test needs the calls that the code really makes, including those that the SageMaker SDK, a
paginator or a waiter make on their own, so the recorder sits below all of them: it wraps botocore's one entry
point for an API call, ``BaseClient._make_api_call``. That catches clients from any session (boto3's default one,
the SDK's, the notebook's), and it sees a call before moto or a Stubber answers it, and whether or not it fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from botocore.client import BaseClient


@dataclass(frozen=True)
class AwsCall:
    """One API call as the client made it: the parameters are the caller's, before botocore serializes them."""

    service: str  # botocore's service name, e.g. "sagemaker-runtime"
    signing_name: str  # the name the request is signed for; the IAM prefix for nearly every service
    operation: str  # the API's operation name, e.g. "CreateEndpoint"
    region: str | None
    params: dict = field(hash=False, compare=False)

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}({_short(self.params)})"


def _short(params: dict) -> str:
    shown = []
    for key, value in params.items():
        text = repr(value)
        shown.append(f"{key}={text if len(text) <= 60 else text[:57] + '...'}")
    return ", ".join(shown)


@contextlib.contextmanager
def record_aws_calls() -> Iterator[list[AwsCall]]:
    """Yield a list that fills with every API call made until the block ends (nested recorders all see them)."""
    calls: list[AwsCall] = []
    original = BaseClient._make_api_call

    def recording(client: BaseClient, operation_name: str, api_params: dict):
        model = client.meta.service_model
        calls.append(
            AwsCall(
                service=model.service_name,
                signing_name=model.signing_name or model.endpoint_prefix,
                operation=operation_name,
                region=client.meta.region_name,
                params=dict(api_params),
            )
        )
        return original(client, operation_name, api_params)

    BaseClient._make_api_call = recording
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original

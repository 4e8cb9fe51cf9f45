"""moto has no ``UpdateEndpoint``; this gives it one, so an update runs through the same moto backend as a create.

It does what the API reference says the call does, as far as a control plane that never runs instances can: the
named endpoint must exist and be ``InService``, the named config must exist, and then the endpoint serves the new
config (at once, where SageMaker would pass through ``Updating``). The states moto never enters (Updating, a
rollback) are tested with botocore's Stubber in tests/unit/test_sagemaker_job.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from moto.core.common_types import TYPE_RESPONSE
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint
from moto.sagemaker.responses import SageMakerResponse


def _update_endpoint(self: SageMakerResponse) -> TYPE_RESPONSE:
    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    config_name = self._get_param("EndpointConfigName")
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    if endpoint.endpoint_status != "InService":
        raise ValidationError(message=f"Cannot update in-progress endpoint '{endpoint.arn}'.")
    config = backend.describe_endpoint_config(config_name)
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
    return 200, {}, f'{{"EndpointArn": "{endpoint.arn}"}}'


@contextlib.contextmanager
def moto_update_endpoint() -> Iterator[None]:
    """Add the call to moto's SageMaker for the block's duration (moto finds actions by method name)."""
    if hasattr(SageMakerResponse, "update_endpoint"):  # a later moto implements it: use the real one
        yield
        return
    SageMakerResponse.update_endpoint = _update_endpoint
    try:
        yield
    finally:
        del SageMakerResponse.update_endpoint

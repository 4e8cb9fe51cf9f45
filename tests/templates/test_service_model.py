"""Every value the project sends to SageMaker that SageMaker only accepts from a fixed set, checked against the
SageMaker service model that botocore ships (the API's own definition of allowed values and bounds).

moto and Stubber accept any string for an instance type or a platform, so without this a value AWS refuses
(or has retired) passes every other test. The values are read from the templates and the code that send them.
"""

from __future__ import annotations

import re
from dataclasses import fields
from functools import cache

import botocore.session
import pytest

from mysfits.aws import sagemaker_endpoint, sagemaker_job, train_and_deploy
from tests.templates.test_notebook_template import resources_of_type, template

# Instance families that AL2023 notebook instances do not support (SageMaker developer guide, "AL2023 notebook
# instances"); the service model lists them for the API as a whole, so this is the one list kept here.
NOT_ON_AL2023 = re.compile(r"^ml\.(p2|p3|p3dn|inf1|g3)\.")


@cache
def sagemaker_model():
    return botocore.session.get_session().get_service_model("sagemaker")


def input_member(operation: str, *path: str):
    shape = sagemaker_model().operation_model(operation).input_shape
    for name in path:
        shape = shape.member if name == "[]" else shape.members[name]
    return shape


def pattern_alternatives(pattern: str) -> list[str]:
    """The literal choices of a pattern such as `(a|b|c)`, which is how the model encodes this enum."""
    match = re.fullmatch(r"\^?\(([\w|.-]+)\)\$?", pattern)
    assert match, f"not a list of alternatives: {pattern}"
    return match[1].split("|")


def notebook_platforms() -> list[str]:
    shape = input_member("CreateNotebookInstance", "PlatformIdentifier")
    return list(shape.enum) or pattern_alternatives(shape.metadata["pattern"])


def notebook_properties() -> dict:
    (notebook,) = resources_of_type("AWS::SageMaker::NotebookInstance").values()
    return notebook["Properties"]


def is_amazon_linux_2_or_older(platform: str) -> bool:
    return re.fullmatch(r"notebook-al[12]-v\d+", platform) is not None


def test_the_model_lists_platforms_and_current_ones_among_them():
    """Guards the reading below: the model's list parses, and holds both retired and AL2023 platforms."""
    platforms = notebook_platforms()
    assert any(is_amazon_linux_2_or_older(p) for p in platforms)
    assert any(p.startswith("notebook-al2023-") for p in platforms)


def test_the_notebook_platform_is_one_sagemaker_accepts_and_not_amazon_linux_2():
    platform = notebook_properties()["PlatformIdentifier"]
    assert platform in notebook_platforms()
    assert not is_amazon_linux_2_or_older(platform), f"{platform}: AL2 notebooks cannot be created since 2026-07-01"


@pytest.mark.parametrize("platform", ["notebook-al2-v3", "notebook-al2-v1", "notebook-al1-v1"])
def test_retired_platforms_are_recognised(platform):
    assert is_amazon_linux_2_or_older(platform)
    assert not is_amazon_linux_2_or_older(platform.replace("al2-", "al2023-").replace("al1-", "al2023-"))


def test_the_notebook_instance_types_are_notebook_types_that_al2023_supports():
    allowed_by_api = set(input_member("CreateNotebookInstance", "InstanceType").enum)
    parameter = template()["Parameters"]["NotebookInstanceType"]
    offered = [*parameter["AllowedValues"], parameter["Default"]]
    assert not [t for t in offered if t not in allowed_by_api], "not notebook instance types"
    assert not [t for t in offered if NOT_ON_AL2023.match(t)], "not supported on AL2023 notebooks"


def test_the_default_training_instance_type_is_a_training_type():
    allowed = set(input_member("CreateTrainingJob", "ResourceConfig", "InstanceType").enum)
    cli_default = train_and_deploy.build_parser().parse_args(["--mode", "sagemaker"]).train_instance_type
    (spec_default,) = [f.default for f in fields(sagemaker_job.TrainingSpec) if f.name == "instance_type"]
    assert {cli_default, spec_default} <= allowed, (cli_default, spec_default)


def test_the_default_real_time_endpoint_instance_is_a_hosting_type():
    allowed = set(input_member("CreateEndpointConfig", "ProductionVariants", "[]", "InstanceType").enum)
    args = train_and_deploy.build_parser().parse_args(["--mode", "sagemaker"])
    capacity = train_and_deploy.capacity_from(args)
    variant = capacity.variant("mysfits-model", "ordinal-0123456789ab")
    assert variant["InstanceType"] in allowed
    assert sagemaker_endpoint.RealTime().instance_type in allowed


def serverless_config_member(name: str):
    return input_member("CreateEndpointConfig", "ProductionVariants", "[]", "ServerlessConfig", name)


def test_the_serverless_memory_sizes_are_the_ones_sagemaker_accepts():
    shape = serverless_config_member("MemorySizeInMB")
    low, high = shape.metadata["min"], shape.metadata["max"]
    # The model's bounds are min and max only; its documentation lists the steps in between.
    documented = {int(size) for size in re.findall(r"(\d{4}) MB", shape.documentation)}
    assert documented and min(documented) == low and max(documented) == high
    assert set(sagemaker_endpoint.SERVERLESS_MEMORY_MB) == documented
    for size in documented:
        sagemaker_endpoint.Serverless(memory_mb=size)
    with pytest.raises(ValueError):
        sagemaker_endpoint.Serverless(memory_mb=high + 1024)


def test_the_serverless_concurrency_bounds_are_sagemakers():
    shape = serverless_config_member("MaxConcurrency")
    low, high = shape.metadata["min"], shape.metadata["max"]
    sagemaker_endpoint.Serverless(max_concurrency=low)
    sagemaker_endpoint.Serverless(max_concurrency=high)
    for outside in (low - 1, high + 1):
        with pytest.raises(ValueError):
            sagemaker_endpoint.Serverless(max_concurrency=outside)


def test_the_default_serverless_endpoint_fits_the_model():
    args = train_and_deploy.build_parser().parse_args(["--mode", "sagemaker", "--serverless"])
    config = train_and_deploy.capacity_from(args).variant("mysfits-model", "ordinal-0123456789ab")["ServerlessConfig"]
    for name, value in config.items():
        shape = serverless_config_member(name)
        assert shape.metadata["min"] <= value <= shape.metadata["max"], (name, value)


def test_the_judges_batch_transform_job_asks_only_for_what_sagemaker_accepts():
    """What src/mysfits/aws/batch_predict.py sends CreateTransformJob, recorded from the real function, against the
    service model's enums (moto would take any string): the strategy, the split, the assembly and the instance."""
    import numpy as np

    from mysfits.aws import batch_predict

    sent: dict = {}

    class Stop(Exception):
        pass

    class SageMaker:
        def create_model(self, **_):
            return {}

        def create_transform_job(self, **params):
            sent.update(params)
            raise Stop

        def delete_model(self, **_):
            return {}

    class S3:
        def put_object(self, **_):
            return {}

    args = train_and_deploy.build_parser().parse_args(["--mode", "sagemaker"])
    result = sagemaker_job.TrainingResult("mysfits-knn-job", "s3://b/m/model.tar.gz", "knn:1")
    with pytest.raises(Stop):
        batch_predict.predict(
            SageMaker(), S3(), result, role_arn="arn:aws:iam::1:role/r", endpoint_name="mysfits-knn", bucket="b",
            prefix="mysfits-knn", features=np.ones((3, 5), np.uint8), instance_type=args.train_instance_type,
            report=lambda _: None,
        )  # fmt: skip
    assert sent["BatchStrategy"] in input_member("CreateTransformJob", "BatchStrategy").enum
    assert sent["TransformInput"]["SplitType"] in input_member("CreateTransformJob", "TransformInput", "SplitType").enum
    assert (
        sent["TransformInput"]["DataSource"]["S3DataSource"]["S3DataType"]
        in input_member("CreateTransformJob", "TransformInput", "DataSource", "S3DataSource", "S3DataType").enum
    )
    assert (
        sent["TransformOutput"]["AssembleWith"]
        in input_member("CreateTransformJob", "TransformOutput", "AssembleWith").enum
    )
    assert (
        sent["TransformResources"]["InstanceType"]
        in input_member("CreateTransformJob", "TransformResources", "InstanceType").enum
    )
    assert re.fullmatch(input_member("CreateTransformJob", "TransformJobName").metadata["pattern"],
                        sent["TransformJobName"])  # fmt: skip
    assert len(sent["TransformJobName"]) <= input_member("CreateTransformJob", "TransformJobName").metadata["max"]

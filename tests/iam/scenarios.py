"""The project's AWS code, driven end to end under moto, so that the recorder sees every call it makes.

Each scenario is what a user runs: ``scripts/train_and_deploy.py --mode sagemaker`` (through its ``main``), the
notebook with ``MODE = "sagemaker"``, and ``scripts/cleanup.py``. The code and every boto3 client are real; the
SageMaker SDK really builds and submits the training job. moto answers the control plane (with ``UpdateEndpoint``
added, see tests/moto_update_endpoint.py), and a local endpoint answers sagemaker-runtime, as in the integration
tests.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import save_model
from tests.aws_calls import AwsCall, record_aws_calls
from tests.iam.policy import StackValues
from tests.moto_update_endpoint import moto_update_endpoint

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "mysfit_recommendations_knn.ipynb"
ENDPOINT = "mysfits-knn"
ROWS = 3_000
SAMPLE_SIZE = 2_000


def notebook_stack_stand_in(values: StackValues) -> str:
    """notebook-template.yaml's outputs, with the names the policy is resolved for (moto cannot run the real one)."""
    return json.dumps(
        {
            "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": values.bucket}}},
            "Outputs": {
                "BucketName": {"Value": {"Ref": "DataBucket"}},
                "RoleArn": {"Value": values.role_arn},
                "ResourcePrefix": {"Value": "mysfits"},
            },
        }
    )


# What Service Quotas answers for an account that can run the project (moto does not implement ListServiceQuotas).
QUOTAS = {
    "Quotas": [
        {"QuotaName": "Maximum number of serverless endpoints", "QuotaCode": "L-TEST0001", "Value": 50.0},
        {
            "QuotaName": "Maximum total concurrency that can be allocated across all serverless endpoints",
            "QuotaCode": "L-TEST0002",
            "Value": 10.0,
        },
        {"QuotaName": "ml.m5.large for endpoint usage", "QuotaCode": "L-TEST0003", "Value": 2.0},
        {"QuotaName": "ml.m5.large for training job usage", "QuotaCode": "L-TEST0004", "Value": 2.0},
    ]
}


_ANSWERS: dict[tuple[int, str], list[dict]] = {}
"""Per session and operation, the canned answers of the quotas_answered blocks now open; the innermost one answers."""


@contextlib.contextmanager
def quotas_answered(session, answer: dict, defaults: dict | None = None):
    """ListServiceQuotas (and, given ``defaults``, ListAWSDefaultServiceQuotas) answered before it leaves botocore,
    as a Stubber would (clients are made inside the run). A block inside another answers instead of it."""

    from botocore.awsrequest import AWSResponse

    bodies = {"ListServiceQuotas": answer}
    if defaults is not None:
        bodies["ListAWSDefaultServiceQuotas"] = defaults
    handlers = []
    for operation, body in bodies.items():
        stack = _ANSWERS.setdefault((id(session), operation), [])
        stack.append(body)

        def canned(stack=stack, **_):
            return (AWSResponse("https://servicequotas.amazonaws.com/", 200, {}, None), stack[-1])

        session.events.register(f"before-call.service-quotas.{operation}", canned)
        handlers.append((operation, canned, stack))
    try:
        yield
    finally:
        for operation, handler, stack in handlers:
            session.events.unregister(f"before-call.service-quotas.{operation}", handler)
            stack.pop()


@dataclass
class Workspace:
    """A moto account with the notebook stack in it, a data file, and a local endpoint serving a stand-in model."""

    session: object
    values: StackValues
    data: Path
    tmp: Path


@contextlib.contextmanager
def _sdk_without_pauses() -> Iterator[None]:
    """The SDK pauses 5 to 10 s between looks at the training job and its log; moto's job is done at once, so the
    pauses only cost time. The calls it makes are unchanged (tests/integration/test_train_and_deploy.py pays them)."""
    from sagemaker import session as sdk

    originals = {name: getattr(sdk, name) for name in ("_wait_until", "_wait_until_training_done", "_logs_for_job")}
    sdk._wait_until = lambda callable_fn, poll=5: originals["_wait_until"](callable_fn, 0)
    sdk._wait_until_training_done = lambda fn, desc, poll=5: originals["_wait_until_training_done"](fn, desc, 0)
    sdk._logs_for_job = lambda session, job, wait=False, poll=10, *rest: originals["_logs_for_job"](
        session, job, wait, 0, *rest
    )
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(sdk, name, original)


@contextlib.contextmanager
def training_logs_present() -> Iterator[None]:
    """On an account, a training job's container writes to ``/aws/sagemaker/TrainingJobs/<job>/algo-1-...`` and the
    SDK's log streaming reads it with GetLogEvents. Under moto no stream ever appears, so the SDK stops at
    DescribeLogStreams and the read is never seen (issue 18, item 1). This gives each new training job a stream with
    one line, as the container would, so the recorded run takes the account's path."""
    from unittest import mock

    from moto.logs.models import logs_backends
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.create_training_job
    group = "/aws/sagemaker/TrainingJobs"

    def create_with_logs(backend, training_job_name, *args, **kwargs):
        job = original(backend, training_job_name, *args, **kwargs)
        logs = logs_backends[backend.account_id][backend.region_name]
        if group not in logs.groups:
            logs.create_log_group(group, tags={})
        stream = f"{training_job_name}/algo-1-1700000000"
        logs.create_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": 1_700_000_000_000, "message": "[train] starting"}])
        return job

    with mock.patch.object(SageMakerModelBackend, "create_training_job", create_with_logs):
        yield


@functools.cache
def _data_and_stand_in_model() -> tuple[bytes, bytes]:
    """The workspace's data file and the model its endpoint serves: the same for every workspace, so made once per
    test process (about 1.5 s of CPU each time)."""
    with tempfile.TemporaryDirectory() as folder:
        data_path = ds.write_csv(ds.generate(ROWS, seed=11), Path(folder) / "answers.csv")
        model = training.train_model(ds.load_csv(data_path), k=10, sample_size=SAMPLE_SIZE, seed=11)
        return data_path.read_bytes(), save_model(model, Path(folder) / "stand-in.json").read_bytes()


@contextlib.contextmanager
def workspace(
    session,
    values: StackValues,
    tmp: Path,
    *,
    endpoint_name: str = ENDPOINT,
    notebook_stack: bool = True,
    quotas: dict | None = QUOTAS,
) -> Iterator[Workspace]:
    """``notebook_stack=False`` leaves creating the notebook stack to the code under test (the smoke run does);
    ``quotas=None`` leaves answering Service Quotas to the caller."""
    from mysfits.local.endpoint.server import serve_in_thread

    if notebook_stack:
        session.client("cloudformation").create_stack(
            StackName=values.stack_name, TemplateBody=notebook_stack_stand_in(values)
        )
    data_bytes, model_bytes = _data_and_stand_in_model()
    data_path, model_path = tmp / "answers.csv", tmp / "stand-in.json"
    data_path.write_bytes(data_bytes)
    model_path.write_bytes(model_bytes)
    previous = os.environ.get("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
    with (
        _sdk_without_pauses(),
        moto_update_endpoint(),
        serve_in_thread(str(model_path), name=endpoint_name, port=0) as endpoint,
        quotas_answered(session, quotas) if quotas is not None else contextlib.nullcontext(),
    ):
        os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint.url
        try:
            yield Workspace(session, values, data_path, tmp)
        finally:
            if previous is None:
                os.environ.pop("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", None)
            else:
                os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = previous


def train_and_deploy(ws: Workspace, *extra: str, logs: bool = False) -> list[AwsCall]:
    """One run of scripts/train_and_deploy.py --mode sagemaker --notebook-stack, as from the notebook's terminal."""
    from mysfits.aws.train_and_deploy import Toolkit, main

    lines: list[str] = []
    toolkit = Toolkit(session_factory=lambda region: ws.session, out=lines.append, sleep=lambda _: None)
    argv = [
        "--mode", "sagemaker", "--region", ws.values.region, "--notebook-stack", ws.values.stack_name,
        "--data", str(ws.data), "--sample-size", str(SAMPLE_SIZE), "--samconfig", str(ws.tmp / "samconfig.toml"),
        *([] if logs else ["--no-logs"]), *extra,
    ]  # fmt: skip
    with record_aws_calls() as calls:
        code = main(argv, toolkit)
    assert code == 0, "\n".join(lines)
    return calls


CHOICES_TABLE = "mysfits-recommendations-ChoicesTable-1A2B3C4D5E6F"
"""Named as CloudFormation names the API stack's table, so the role's prefix rule is tested on a real shape."""


def choices_table(session, visitors: int, name: str = CHOICES_TABLE) -> str:
    """The API stack's choices table with ``visitors`` recommendations and adoptions, written by the API's store."""
    from tests import choice_rows
    from tests.smoke_world import load_template

    table = load_template(ROOT / "template.yaml")["Resources"]["ChoicesTable"]["Properties"]
    client = session.client("dynamodb")
    client.create_table(
        TableName=name,
        BillingMode=table["BillingMode"],
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
    )
    choice_rows.record_choices(client, name, ds.generate(visitors, seed=31))
    return name


def notebook_cells(overrides: str) -> list[str]:
    """The notebook's code cells, with a cell after the parameters cell that overrides them (as papermill does)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            sources.append(cell.source)
            if "parameters" in cell.metadata.get("tags", []):
                sources.append(overrides)
    return sources


def run_notebook(ws: Workspace, *, serverless: bool, clean_up: bool) -> list[AwsCall]:
    """Every code cell of the notebook in sagemaker mode, in this process, so moto and the recorder see its calls.

    A kernel would run the same code in another process, out of moto's and the recorder's reach; executing the
    cells in order in one namespace is what a kernel does with them, minus the messaging.
    """
    overrides = (
        f'MODE = "sagemaker"\nROWS = {ROWS}\nSAMPLE_SIZE = {SAMPLE_SIZE}\nWORK_DIR = {str(ws.tmp / "nb")!r}\n'
        f"SAMCONFIG = {str(ws.tmp / 'samconfig.toml')!r}\nNOTEBOOK_STACK = {ws.values.stack_name!r}\n"
        f"SERVERLESS = {serverless}\nCLEAN_UP = {clean_up}\n"
    )
    namespace: dict = {"__name__": "__notebook__"}
    with record_aws_calls() as calls:
        for index, source in enumerate(notebook_cells(overrides)):
            exec(compile(source, f"<notebook cell {index}>", "exec"), namespace)  # the notebook's own code
    return calls


def cleanup_script(ws: Workspace, *extra: str) -> list[AwsCall]:
    """scripts/cleanup.py --yes, as from the notebook's terminal (or with stack flags, from the deployer's machine)."""
    from mysfits.aws.cleanup_cli import main

    lines: list[str] = []
    with record_aws_calls() as calls:
        code = main(
            ["--region", ws.values.region, "--yes", "--samconfig", str(ws.tmp / "samconfig.toml"), *extra],
            session=ws.session,
            sleep=lambda _: None,
            out=lines.append,
        )
    assert code == 0, "\n".join(lines)
    return calls

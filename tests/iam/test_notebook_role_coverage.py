"""IAM coverage: every AWS call the AWS path makes, and everything SageMaker then does with the notebook role, is
allowed by the role that notebook-template.yaml creates.

moto does not evaluate IAM, so before this test a policy that denied the endpoint's creation (issue 9, defect 3)
or the stack's outputs (defect 4) passed every test. Here the calls are recorded from the real code under moto,
mapped to IAM actions and ARNs with the Service Authorization Reference, and evaluated against the role's policy as
resolved from the template. A failure lists each denied action with its ARN and the call that needs it.
"""

from __future__ import annotations

import pytest

from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam import scenarios
from tests.iam.coverage import denials
from tests.iam.policy import StackValues, notebook_role_policy

# The module's workspace is built once, on one worker.
pytestmark = pytest.mark.xdist_group("notebook-role-coverage")

VALUES = StackValues(region=REGION, bucket="mysfits-notebook-databucket-test")


@pytest.fixture
def ws(moto_session, tmp_path):
    with scenarios.workspace(moto_session, VALUES, tmp_path) as workspace:
        yield workspace


@pytest.fixture(scope="module")
def policy() -> dict:
    return notebook_role_policy(VALUES)


def assert_allowed(policy: dict, calls) -> None:
    assert calls, "nothing was recorded: the scenario made no AWS call"
    denied = list(dict.fromkeys(denials(policy, calls)))
    assert not denied, "the notebook role would be refused:\n  " + "\n  ".join(denied)


@pytest.mark.slow
def test_train_and_deploy_both_ways_create_and_update(ws, policy):
    """Real-time create, real-time update, the switch to serverless, and a serverless update, as the script does
    them from the notebook's terminal; the first run streams the training log as the SDK does by default."""
    calls = scenarios.train_and_deploy(ws, logs=True)
    calls += scenarios.train_and_deploy(ws)
    calls += scenarios.train_and_deploy(ws, "--serverless")
    calls += scenarios.train_and_deploy(ws, "--serverless", "--memory-mb", "3072")
    operations = {(c.service, c.operation) for c in calls}
    assert {("sagemaker", "CreateEndpoint"), ("sagemaker", "CreateTrainingJob"), ("logs", "DescribeLogStreams")} <= (
        operations
    )
    assert ("sagemaker", "UpdateEndpoint") in operations or ("sagemaker", "DeleteEndpoint") in operations
    assert_allowed(policy, calls)


@pytest.mark.slow
def test_train_and_deploy_learning_from_visitors_choices(ws, policy):
    """--choices-table: the Scan, the export to S3, the first deploy (nothing to compare with), then a run judged
    against the serving endpoint."""
    from tests.moto_training_jobs import training_jobs_that_train

    table = scenarios.choices_table(ws.session, 1_000)
    with training_jobs_that_train():
        calls = scenarios.train_and_deploy(ws, "--choices-table", table)
        calls += scenarios.train_and_deploy(ws, "--choices-table", table)
    operations = [(c.service, c.operation) for c in calls]
    assert ("dynamodb", "Scan") in operations
    assert operations.count(("sagemaker", "DescribeEndpointConfig")) >= 1
    assert ("sagemaker-runtime", "InvokeEndpoint") in operations
    assert {("sagemaker", "CreateTransformJob"), ("sagemaker", "DescribeTransformJob")} <= set(operations)
    assert_allowed(policy, calls)


@pytest.mark.slow
def test_notebook_in_sagemaker_mode_then_its_clean_up(ws, policy):
    calls = scenarios.run_notebook(ws, serverless=False, clean_up=False)
    calls += scenarios.run_notebook(ws, serverless=True, clean_up=True)
    operations = {(c.service, c.operation) for c in calls}
    assert {("cloudformation", "DescribeStacks"), ("sagemaker-runtime", "InvokeEndpoint")} <= operations
    assert ("sagemaker", "DeleteEndpoint") in operations, "the clean-up cell deleted the endpoint"
    assert ws.session.client("sagemaker").list_endpoints()["Endpoints"] == []
    assert_allowed(policy, calls)


@pytest.mark.slow
def test_cleanup_script_from_the_notebook_terminal(ws, policy):
    scenarios.train_and_deploy(ws, "--serverless")
    calls = scenarios.cleanup_script(ws)
    assert ("sagemaker", "DeleteEndpoint") in {(c.service, c.operation) for c in calls}
    assert_allowed(policy, calls)


@pytest.mark.slow
def test_cleanup_in_an_account_shared_with_other_teams(ws, policy):
    """Issue 9 defect 7: clean-up read the tags of every resource in the region, and the role may read them only on
    this project's prefix, so another team's model stopped it."""
    sm = ws.session.client("sagemaker")
    image = "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1"
    sm.create_model(ModelName="other-team", ExecutionRoleArn="arn:aws:iam::123456789012:role/o", PrimaryContainer={
        "Image": image})  # fmt: skip
    scenarios.train_and_deploy(ws, "--serverless")
    calls = scenarios.cleanup_script(ws)
    assert_allowed(policy, calls)

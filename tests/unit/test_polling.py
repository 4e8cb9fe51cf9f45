"""The one wait for AWS to settle (mysfits.aws.polling), and the two waits built on it: a SageMaker endpoint's
(tests/unit/test_sagemaker_job.py) and a CloudFormation stack's deletion (here, with botocore's Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mysfits.aws import polling
from mysfits.aws.cleanup import CleanupError, delete_stack


class Failed(Exception):
    pass


def watch_of(states: list[str], failed: set[str] = frozenset()) -> tuple[polling.Watch, list[str]]:
    seen: list[str] = []
    queue = iter(states)

    def describe() -> str:
        state = next(queue)
        seen.append(state)
        return state

    watch = polling.Watch(
        name="thing t",
        describe=describe,
        status=lambda s: s,
        done=lambda s: s == "Ready",
        failure=lambda s: f"{s} because of x" if s in failed else None,
    )
    return watch, seen


def test_reports_each_change_once_and_returns_the_settled_description():
    watch, seen = watch_of(["Creating", "Creating", "Updating", "Ready"])
    lines: list[str] = []
    sleeps: list[float] = []
    result = polling.settle(
        watch, report=lines.append, error=Failed, sleep=sleeps.append, clock=lambda: 0.0, poll_seconds=5,
        timeout_seconds=60,
    )  # fmt: skip
    assert result == "Ready" and seen == ["Creating", "Creating", "Updating", "Ready"]
    assert lines == ["  thing t: Creating (0 s)", "  thing t: Updating (0 s)", "  thing t: Ready (0 s)"]
    assert sleeps == [5, 5, 5]


def test_a_bad_state_stops_the_wait_at_once_with_the_reason():
    watch, seen = watch_of(["Creating", "Failed", "Ready"], failed={"Failed"})
    with pytest.raises(Failed, match=r"^thing t is Failed: Failed because of x$"):
        polling.settle(watch, report=lambda _: None, error=Failed, sleep=lambda _: None, poll_seconds=1,
                       timeout_seconds=60)  # fmt: skip
    assert seen == ["Creating", "Failed"], "no describe after the failure"


def test_the_bound_is_kept_and_the_hint_is_given():
    ticks = iter(range(0, 1000, 10))
    watch, seen = watch_of(["Creating"] * 100)
    with pytest.raises(Failed, match=r"^thing t still Creating after 30 s; look there$"):
        polling.settle(watch, report=lambda _: None, error=Failed, sleep=lambda _: None, clock=lambda: next(ticks),
                       poll_seconds=10, timeout_seconds=30, hint="; look there")  # fmt: skip
    assert len(seen) == 3


def stack(status: str, reason: str | None = None) -> dict:
    described = {
        "StackName": "mysfits-recommendations",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/mysfits-recommendations/1",
        "CreationTime": "2026-12-05T00:00:00Z",
        "StackStatus": status,
    }
    return described | ({"StackStatusReason": reason} if reason else {})


def stubbed_deletion(*statuses: tuple[str, str | None]):
    cfn = boto3.client("cloudformation", region_name="eu-west-1")
    stub = Stubber(cfn)
    stub.add_response(
        "describe_stacks", {"Stacks": [stack("CREATE_COMPLETE")]}, {"StackName": "mysfits-recommendations"}
    )
    stub.add_response("delete_stack", {}, {"StackName": "mysfits-recommendations"})
    for status, reason in statuses:
        stub.add_response("describe_stacks", {"Stacks": [stack(status, reason)]}, {"StackName": stack("x")["StackId"]})
    return cfn, stub


def test_a_stack_whose_deletion_fails_is_reported_with_cloudformations_reason(fake_aws_env):
    cfn, stub = stubbed_deletion(("DELETE_IN_PROGRESS", None), ("DELETE_FAILED", "bucket not empty"))
    lines: list[str] = []
    with stub, pytest.raises(CleanupError, match="stack mysfits-recommendations is DELETE_FAILED: bucket not empty"):
        delete_stack(cfn, "mysfits-recommendations", lines.append, sleep=lambda _: None)
    stub.assert_no_pending_responses()
    assert [line.split(" (")[0] for line in lines] == [
        "  stack mysfits-recommendations: DELETE_IN_PROGRESS",
        "  stack mysfits-recommendations: DELETE_FAILED",
    ]


def test_a_stack_deletion_is_followed_by_its_id_until_complete(fake_aws_env):
    cfn, stub = stubbed_deletion(("DELETE_IN_PROGRESS", None), ("DELETE_COMPLETE", None))
    lines: list[str] = []
    with stub:
        assert delete_stack(cfn, "mysfits-recommendations", lines.append, sleep=lambda _: None) is True
    stub.assert_no_pending_responses()
    assert lines[-1] == "deleted stack mysfits-recommendations"

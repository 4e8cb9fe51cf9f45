"""The handler's encoding follower retries only on a refusal of the row's width, and only once.

The client is a real botocore client whose HTTP send is replaced by the service's error answer, so the error
parsing and the mapping to :mod:`mysfits_api.errors` are the real ones.
"""

from __future__ import annotations

import io
import json

import pytest
from botocore.awsrequest import AWSResponse

from mysfits_api.encoding_follow import EncodingFollower
from mysfits_api.errors import ModelFailed
from tests.api_support import runtime_client


class _Raw(io.BytesIO):
    """What botocore reads an error body from (urllib3's ``stream()``)."""

    def stream(self):
        yield self.getvalue()


def refusing_client(message_for, sent: list[str]):
    """Every call is refused with SageMaker's 424 ModelError, whose message ``message_for(row)`` chooses."""
    client = runtime_client(retries={"max_attempts": 1})

    def refuse(request, **_):
        row = request.body.decode()
        sent.append(row)
        body = json.dumps({"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "Message": message_for(row)}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ModelError:http://internal.amazon.com/"}
        return AWSResponse(request.url, 424, headers, _Raw(body))

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", refuse)
    return client


def test_a_failure_that_is_not_about_the_width_is_not_retried():
    sent: list[str] = []
    follower = EncodingFollower("ordinal")
    with pytest.raises(ModelFailed, match="out of memory"):
        follower.predict(refusing_client(lambda row: "out of memory", sent), "mysfits-knn", (1, 2, 3, 4, 5))
    assert sent == ["1,2,3,4,5"]
    assert follower.encoding == "ordinal"


def test_a_width_refusal_in_both_encodings_is_retried_once_and_keeps_the_configured_one():
    sent: list[str] = []
    width_refusal = "expected 7 numbers (the model's feature_dim), got {}"
    client = refusing_client(lambda row: width_refusal.format(row.count(",") + 1), sent)
    follower = EncodingFollower("one-hot")
    with pytest.raises(ModelFailed, match="got 5"):
        follower.predict(client, "mysfits-knn", (1, 2, 3, 4, 5))
    assert [row.count(",") + 1 for row in sent] == [40, 5]
    assert follower.encoding == "one-hot"

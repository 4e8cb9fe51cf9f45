"""The SageMaker Python SDK 2.x ``Predictor`` (CSVSerializer in, JSONDeserializer out) against the local endpoint.

The SDK is the optional ``aws`` extra and takes seconds to import, so it is imported here, never in ``src/``.
"""

from __future__ import annotations

import os

import boto3
import numpy as np
import pytest

from mysfits.local.endpoint.server import serve_in_thread
from mysfits_api.questionnaire import cell_index
from tests.endpoint_artifacts import write_artifact

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

from sagemaker.deserializers import JSONDeserializer
from sagemaker.predictor import Predictor
from sagemaker.serializers import CSVSerializer
from sagemaker.session import Session

NAME = "mysfits-knn"
pytestmark = pytest.mark.slow  # importing the SDK alone takes seconds


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("sdk") / "model.json"
    model = write_artifact(path, seed=11)
    with serve_in_thread(str(path), NAME) as endpoint:
        yield endpoint, model


@pytest.fixture(scope="module")
def predictor(served):
    endpoint, _ = served
    boto_session = boto3.Session(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
    runtime = boto_session.client("sagemaker-runtime", endpoint_url=endpoint.url)
    session = Session(boto_session=boto_session, sagemaker_runtime_client=runtime)
    return Predictor(NAME, sagemaker_session=session, serializer=CSVSerializer(), deserializer=JSONDeserializer())


def test_predictor_batch_of_lists(predictor, served):
    _, model = served
    rows = [[1, 2, 3, 4, 5], [8, 8, 8, 8, 8], [3, 1, 4, 1, 5]]
    result = predictor.predict(rows)
    assert result == {"predictions": [{"predicted_label": float(model.table[cell_index(r)])} for r in rows]}


def test_predictor_single_row_and_numpy_array(predictor, served):
    _, model = served
    expected = {"predictions": [{"predicted_label": float(model.table[cell_index((2, 7, 1, 8, 2))])}]}
    assert predictor.predict([2, 7, 1, 8, 2]) == expected
    assert predictor.predict(np.array([[2, 7, 1, 8, 2]])) == expected


def test_predictor_sees_model_errors_as_on_aws(predictor):
    with pytest.raises(predictor.sagemaker_session.sagemaker_runtime_client.exceptions.ModelError) as caught:
        predictor.predict([[1, 2, 3]])
    assert caught.value.response["OriginalStatusCode"] == 400
    assert "row 1 (line 1): expected 5 comma-separated numbers (the model's feature_dim), got 3 values" in str(
        caught.value
    )

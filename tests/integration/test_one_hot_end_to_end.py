"""A one-hot model through the whole local path: the endpoint expects its 40 features and refuses the five answers
the way SageMaker's built-in kNN refuses a row of the wrong width, and the handler encodes before it calls."""

from __future__ import annotations

import json

import numpy as np
import pytest
from botocore.exceptions import ClientError

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model import knn, training
from mysfits.model.artifact import save_model
from mysfits_api import encoding as encodings
from mysfits_api.questionnaire import cell_index
from tests.api_support import ENDPOINT_NAME, LambdaContext, event_with, imported_handler, runtime_client


@pytest.fixture(scope="module")
def one_hot_model(small_data, tmp_path_factory):
    model = training.train_model(small_data, k=10, sample_size=20_000, seed=3, encoding="one-hot")
    return model, save_model(model, tmp_path_factory.mktemp("one-hot") / "mysfits-knn.json")


@pytest.fixture(scope="module")
def endpoint(one_hot_model):
    with serve_in_thread(str(one_hot_model[1]), ENDPOINT_NAME) as handle:
        yield handle


def test_the_endpoint_refuses_five_answers_with_sagemakers_model_error(endpoint):
    client = runtime_client(endpoint.url)
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint(EndpointName=ENDPOINT_NAME, ContentType="text/csv", Body=b"1,2,3,4,5\n")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424 and error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 400
    assert "expected 40 comma-separated numbers (the model's feature_dim), got 5 values" in error["OriginalMessage"]
    assert error["Error"]["Message"].startswith('Received client error (400) from primary with message "row 1')


def test_encoded_rows_get_the_table_s_answer_and_verbose_distances_count_changed_questions(endpoint, one_hot_model):
    model = one_hot_model[0]
    assert model.encoding == "one-hot" and model.hyperparameters["feature_dim"] == 40
    client = runtime_client(endpoint.url)
    rng = np.random.default_rng(5)
    answers = [tuple(int(a) for a in row) for row in rng.integers(1, 9, size=(50, 5))]
    body = "\n".join(",".join(map(str, encodings.encode(row, "one-hot"))) for row in answers).encode()
    plain = client.invoke_endpoint(EndpointName=ENDPOINT_NAME, ContentType="text/csv", Body=body)
    labels = [p["predicted_label"] for p in json.loads(plain["Body"].read())["predictions"]]
    assert labels == [float(model.table[cell_index(row)]) for row in answers]
    verbose = client.invoke_endpoint(
        EndpointName=ENDPOINT_NAME, ContentType="text/csv", Accept="application/json; verbose=true", Body=body
    )
    predictions = json.loads(verbose["Body"].read())["predictions"]
    assert [p["predicted_label"] for p in predictions] == labels  # the direct kNN agrees with the table
    sample_X, _ = knn.sample_arrays(model)
    for row, prediction in zip(answers, predictions, strict=True):
        changed = (sample_X != np.array(row)).sum(axis=1)
        nearest = np.sort(np.sqrt(2.0 * changed))[: model.k]
        assert prediction["distances"] == pytest.approx(nearest.tolist())


def test_the_handler_encodes_the_answers_and_explains_with_the_neighbours(endpoint, one_hot_model):
    model = one_hot_model[0]
    env = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "MODEL_ENCODING": "one-hot"}
    with imported_handler(AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=endpoint.url, **env) as handler:
        for answers in [(1, 1, 1, 1, 1), (3, 1, 4, 1, 5), (8, 2, 6, 4, 7)]:
            response = handler.lambda_handler(event_with(json.dumps({"entry": list(answers)})), LambdaContext())
            assert response["statusCode"] == 200, response["body"]
            body = json.loads(response["body"])
            expected = model.labels[model.table[cell_index(answers)]]["id"]
            assert body["modelPick"] == expected
            assert body["why"]["neighbours"] == model.k and body["why"]["votes"][0]["mysfitId"] == expected


def test_the_handler_refuses_an_unknown_encoding_at_start():
    with pytest.raises(RuntimeError, match="MODEL_ENCODING must be one of ordinal, one-hot; got 'onehot'"):
        with imported_handler(MODEL_ENCODING="onehot"):
            pass
